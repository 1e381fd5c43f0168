import type { Redis } from 'ioredis';
import { QUEUE_NAME } from './cluster-settings.js';

export interface QueueCounts {
  /** Jobs waiting for a worker: BullMQ's `wait` list and its `prioritized` set (every imgfleet job has a priority). */
  waiting: number;
  /** Jobs waiting to be retried after a transient failure. */
  delayed: number;
  /** Jobs a worker holds now. */
  active: number;
}

/**
 * The queue's counts straight from BullMQ's keys (`<prefix>:images:wait`, `:prioritized`,
 * `:delayed`, `:active`), the same keys an autoscaler reads, on a connection that fails fast.
 */
export async function queueCounts(redis: Redis, prefix: string): Promise<QueueCounts> {
  const base = `${prefix}:${QUEUE_NAME}`;
  const [[, wait], [, prioritized], [, delayed], [, active]] = (await redis.multi()
    .llen(`${base}:wait`).zcard(`${base}:prioritized`).zcard(`${base}:delayed`).llen(`${base}:active`)
    .exec()) as [unknown, number][];
  return { waiting: wait + prioritized, delayed, active };
}
