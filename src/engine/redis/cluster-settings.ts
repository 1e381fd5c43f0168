import { Redis } from 'ioredis';

/** Where a cluster lives: one Redis, and a key prefix that separates clusters (and tests). */
export interface ClusterSettings {
  /** redis://host:port[/db]; IMGFLEET_REDIS works in its place. */
  redisUrl: string;
  /** Prefix of every key: BullMQ's queue keys, image blobs and the worker registry. @defaultValue imgfleet */
  prefix: string;
}

export const QUEUE_NAME = 'images';

export function clusterSettings(redisUrl: string, prefix: string = process.env.IMGFLEET_PREFIX ?? 'imgfleet'): ClusterSettings {
  return { redisUrl, prefix };
}

/**
 * A connection as BullMQ wants it: commands wait through reconnects instead of failing, so a
 * Redis restart pauses the cluster rather than failing its jobs.
 */
export function connect(settings: ClusterSettings): Redis {
  const redis = new Redis(settings.redisUrl, { maxRetriesPerRequest: null, enableOfflineQueue: true });
  // While Redis is away, commands wait and ioredis reconnects; its connection errors are not ours to print.
  redis.on('error', () => {});
  return redis;
}

/** Timing of BullMQ's lock and stalled-job check; shorter in tests through the environment. */
export function lockTiming(): { lockDuration: number; stalledInterval: number } {
  const lockDuration = Number(process.env.IMGFLEET_LOCK_MS ?? 30_000);
  return { lockDuration, stalledInterval: Number(process.env.IMGFLEET_STALLED_MS ?? Math.max(1000, lockDuration / 2)) };
}
