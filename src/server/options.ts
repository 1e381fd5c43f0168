import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NoCache, type ResultCache } from '../cache/result-cache.js';
import type { Engine } from '../engine/types.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';
import type { SourceStore } from '../sources/source-store.js';
import { NO_PRESETS, type Presets } from '../pipeline/presets.js';

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
  /** Named pipelines, used as preset:NAME. */
  presets?: Presets;
  /** Image URLs may use presets only (as imgproxy's only-presets mode). @defaultValue false */
  presetsOnly?: boolean;
  /** Cluster mode: let the queue dashboard change jobs (retry, remove, add); read-only otherwise. @defaultValue false */
  adminWrite?: boolean;
  /** Results by content address for /v1/process and image URLs; the caller opens and closes it. @defaultValue none kept */
  cache?: ResultCache;
  /** Where image URLs find their sources; without one, /i/ answers 404. */
  sources?: SourceStore;
  /** Keys that verify image URL signatures (the first one signs). */
  signingKeys?: string[];
  /** Accept image URLs without a signature (`/i/_/…`). @defaultValue false */
  allowUnsigned?: boolean;
  /** Cache-Control max-age of image URL responses, in seconds. @defaultValue 86 400 */
  maxAgeSeconds?: number;
  /** Fastify's logger (pino). @defaultValue false */
  logger?: boolean | { level: string };
}

type Optional = 'token' | 'logger' | 'assetsDir' | 'sources';
export type ResolvedServerOptions = Required<Omit<ServerOptions, Optional>> & Pick<ServerOptions, Optional> & { limits: Limits };

export function resolveServerOptions(options: ServerOptions): ResolvedServerOptions {
  return {
    ...options,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    maxFiles: options.maxFiles ?? 100,
    maxPending: options.maxPending ?? 256,
    maxQueuedImages: options.maxQueuedImages ?? 10_000,
    resultTtlMs: options.resultTtlMs ?? 60 * 60 * 1000,
    cache: options.cache ?? new NoCache(),
    signingKeys: options.signingKeys ?? [],
    allowUnsigned: options.allowUnsigned ?? false,
    maxAgeSeconds: options.maxAgeSeconds ?? 86_400,
    adminWrite: options.adminWrite ?? false,
    presets: options.presets ?? NO_PRESETS,
    presetsOnly: options.presetsOnly ?? false,
    dataDir: options.dataDir ?? join(tmpdir(), `imgfleet-serve-${process.pid}-${Date.now().toString(36)}`),
  };
}
