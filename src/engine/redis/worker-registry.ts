import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { WorkerInfo } from '../types.js';
import { LEGACY_JOB_ITEMS, MAX_JOB_ITEMS } from './job-data.js';

export type { WorkerInfo };

/**
 * Each worker keeps a hash in Redis that expires three heartbeats after its last one, so a
 * dead worker drops off the list by itself.
 */
export class WorkerRegistry {
  private timer?: NodeJS.Timeout;
  readonly info: WorkerInfo;

  constructor(private readonly redis: Redis, private readonly prefix: string, name: string, concurrency: number, private readonly heartbeatMs: number) {
    const now = Date.now();
    this.info = { name, host: hostname(), pid: process.pid, concurrency, done: 0, failed: 0, rejected: 0, active: 0, startedAt: now, lastSeen: now, jobItems: MAX_JOB_ITEMS };
  }

  /** Whether the connection to Redis is up now (commands wait, and heartbeats with them, while it is not). */
  get redisConnected(): boolean {
    return this.redis.status === 'ready';
  }

  private get key(): string {
    return `${this.prefix}:worker:${this.info.name}`;
  }

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch(() => {}), this.heartbeatMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.del(this.key).catch(() => {});
  }

  private async beat(): Promise<void> {
    this.info.lastSeen = Date.now();
    const fields = Object.entries(this.info).flatMap(([k, v]) => [k, String(v)]);
    await this.redis.multi().hset(this.key, ...fields).pexpire(this.key, 3 * this.heartbeatMs).exec();
  }
}

export async function listWorkers(redis: Redis, prefix: string): Promise<WorkerInfo[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:worker:*`, 'COUNT', 200);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  const hashes = await Promise.all(keys.map((key) => redis.hgetall(key)));
  return hashes.filter((h) => h.name).map((h) => ({
    name: h.name, host: h.host, pid: Number(h.pid), concurrency: Number(h.concurrency), done: Number(h.done),
    failed: Number(h.failed), rejected: Number(h.rejected), active: Number(h.active), startedAt: Number(h.startedAt), lastSeen: Number(h.lastSeen),
    jobItems: Number(h.jobItems) || LEGACY_JOB_ITEMS,
  })).sort((a, b) => a.name.localeCompare(b.name));
}
