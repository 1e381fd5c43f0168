import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../engine/types.js';
import type { ClusterSettings } from '../engine/redis/cluster-settings.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';

export interface ServerOptions {
  engine: Engine;
  /** Pixel, step and file-size limits for every image. */
  limits?: Partial<Limits>;
  /** Most files in one upload (a job). @defaultValue 100 */
  maxFiles?: number;
  /** Single-image requests held in memory at once; more get 429. @defaultValue 256 */
  maxPending?: number;
  /** Job images waiting on disk at once; more get 429. @defaultValue 10 000 */
  maxQueuedImages?: number;
  /** How long a finished job's results are kept. @defaultValue 1 hour */
  resultTtlMs?: number;
  /** Where uploads and job results live. @defaultValue a fresh folder in the system temp dir */
  dataDir?: string;
  /** Folder of logos that watermark steps may name; without it, logos are refused. */
  assetsDir?: string;
  /** Bearer token for the API and the dashboard; none means open. */
  token?: string;
  /** Cluster mode: the queue's Redis, for the dashboard, the worker list and queue depth. */
  cluster?: ClusterSettings;
  /** Fastify's logger (pino). @defaultValue false */
  logger?: boolean | { level: string };
}

export type ResolvedServerOptions = Required<Omit<ServerOptions, 'token' | 'cluster' | 'logger' | 'assetsDir'>>
  & Pick<ServerOptions, 'token' | 'cluster' | 'logger' | 'assetsDir'> & { limits: Limits };

export function resolveServerOptions(options: ServerOptions): ResolvedServerOptions {
  return {
    ...options,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    maxFiles: options.maxFiles ?? 100,
    maxPending: options.maxPending ?? 256,
    maxQueuedImages: options.maxQueuedImages ?? 10_000,
    resultTtlMs: options.resultTtlMs ?? 60 * 60 * 1000,
    dataDir: options.dataDir ?? join(tmpdir(), `imgfleet-serve-${process.pid}-${Date.now().toString(36)}`),
  };
}
