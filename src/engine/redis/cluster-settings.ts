import { DEFAULT_ENVIRONMENT, type Environment } from '../../config.js';

/** Where a cluster lives and how it keeps time: one Redis, and a key prefix that separates clusters (and tests). */
export interface ClusterSettings {
  /** redis://[:password@]host:port[/db] */
  redisUrl: string;
  /** Prefix of every key: BullMQ's queue keys, image blobs and the worker registry. @defaultValue imgfleet */
  prefix: string;
  /** A worker's hold on a job; a job whose holder stops renewing it goes to another worker. @defaultValue 30 000 */
  lockMs: number;
  /** How often jobs of dead workers are looked for. @defaultValue 15 000 */
  stalledMs: number;
  /** How many times a job may lose its worker before it fails (a job that kills every worker it reaches stops there). @defaultValue 3 */
  maxStalled: number;
  /** How often a worker says it is alive; it drops off the list after three missed. @defaultValue 2 000 */
  heartbeatMs: number;
}

export const QUEUE_NAME = 'images';

/** Settings for the cluster on `redisUrl`, with the environment's prefix and timings (or the defaults). */
export function clusterSettings(redisUrl: string, environment: Partial<Environment> = DEFAULT_ENVIRONMENT): ClusterSettings {
  const env = { ...DEFAULT_ENVIRONMENT, ...environment };
  return { redisUrl, prefix: env.prefix, lockMs: env.lockMs, stalledMs: env.stalledMs, maxStalled: env.maxStalled, heartbeatMs: env.heartbeatMs };
}
