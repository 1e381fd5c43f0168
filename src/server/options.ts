import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NoCache, type ResultCache } from '../cache/result-cache.js';
import type { Engine } from '../engine/types.js';
import { ImgfleetError } from '../errors.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';
import type { SourceStore } from '../sources/source-store.js';
import { NO_PRESETS, type Presets } from '../pipeline/presets.js';

export interface ServerOptions {
  engine: Engine;
  /** Pixel, step and file-size limits for every image. */
  limits?: Partial<Limits>;
  /** Most files in one upload (a job). @defaultValue 100 */
  maxFiles?: number;
  /** Single-image requests in progress at once on each image route (process, histogram, image URLs, previews); more get 429. @defaultValue 256 */
  maxPending?: number;
  /** Of those, how many one client (one address) may have in progress on a route. @defaultValue half of maxPending */
  maxPendingPerClient?: number;
  /**
   * Bytes of request bodies in flight at once, on disk or in memory, until their responses end:
   * a Content-Length that does not fit is refused with 429 before its body is read, a body
   * without one is counted as it arrives and cut off at the budget. @defaultValue 512 MiB
   */
  maxInflightBytes?: number;
  /** A single image larger than this waits in a temporary file, not in memory. @defaultValue 8 MiB */
  spillBytes?: number;
  /** Request headers must arrive within this. @defaultValue 15 s */
  headersTimeoutMs?: number;
  /** The whole request, body included, must arrive within this. @defaultValue 120 s */
  requestTimeoutMs?: number;
  /** A connection with nothing sent either way for this long is closed. @defaultValue 180 s */
  idleTimeoutMs?: number;
  /** A response must be read by its client within this once it starts, or its connection is closed (and its slot freed). @defaultValue 60 s */
  sendTimeoutMs?: number;
  /** Bytes of one job's files on disk (uploads, results, previews); more fail with 507. @defaultValue 1 GiB */
  maxJobBytes?: number;
  /** Bytes of all jobs' files on disk; more fail with 507. @defaultValue 4 GiB */
  maxDiskBytes?: number;
  /** Jobs kept at once (running, or finished and not yet expired); more get 429. @defaultValue 1000 */
  maxJobs?: number;
  /** Event streams (GET /v1/jobs/:id/events) open at once; more get 429. @defaultValue 256 */
  maxEventStreams?: number;
  /**
   * Host headers answered (names, or name:port); others get 403, so a page elsewhere cannot reach
   * this server through DNS rebinding. @defaultValue on a loopback address: localhost, 127.0.0.1
   * and [::1]; otherwise any
   */
  allowedHosts?: string[];
  /** Origins of other sites whose pages may send requests that change things (POST, DELETE). @defaultValue none */
  allowedOrigins?: string[];
  /** Where the server listens; decides the default Host allow-list. @defaultValue 127.0.0.1 */
  listenHost?: string;
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
  /** Image URLs take the pixel ratio and width from client hints (src/server/client-hints.ts). @defaultValue false */
  clientHints?: boolean;
  /** Fastify's logger (pino). @defaultValue false */
  logger?: boolean | { level: string };
}

type Optional = 'token' | 'logger' | 'assetsDir' | 'sources' | 'allowedHosts';
export type ResolvedServerOptions = Required<Omit<ServerOptions, Optional>> & Pick<ServerOptions, Optional> & { limits: Limits };

const MiB = 1024 * 1024;

/**
 * What the server runs every image under unless told otherwise: the library's limits, plus a
 * work budget and a result size (the command line has neither: it runs its owner's files).
 */
export const SERVER_LIMITS: Partial<Limits> = { maxWork: 10e9, maxOutputBytes: 64 * MiB };

/** Image URL signing keys shorter than this are refused: an HMAC key is only as strong as it is long. */
export const MIN_KEY_BYTES = 32;

export function resolveServerOptions(options: ServerOptions): ResolvedServerOptions {
  const weak = (options.signingKeys ?? []).filter((key) => Buffer.byteLength(key) < MIN_KEY_BYTES);
  if (weak.length > 0) {
    throw new ImgfleetError('BAD_USAGE', `IMGFLEET_KEY: ${weak.length === 1 ? 'a key is' : `${weak.length} keys are`} shorter than ${MIN_KEY_BYTES} bytes; make one with: openssl rand -hex 32`);
  }
  const maxPending = options.maxPending ?? 256;
  return {
    ...options,
    limits: { ...DEFAULT_LIMITS, ...SERVER_LIMITS, ...options.limits },
    maxFiles: options.maxFiles ?? 100,
    maxPending,
    maxPendingPerClient: options.maxPendingPerClient ?? Math.max(1, Math.floor(maxPending / 2)),
    maxInflightBytes: options.maxInflightBytes ?? 512 * MiB,
    spillBytes: options.spillBytes ?? 8 * MiB,
    headersTimeoutMs: options.headersTimeoutMs ?? 15_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 120_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 180_000,
    sendTimeoutMs: options.sendTimeoutMs ?? 60_000,
    maxJobBytes: options.maxJobBytes ?? 1024 * MiB,
    maxDiskBytes: options.maxDiskBytes ?? 4096 * MiB,
    maxJobs: options.maxJobs ?? 1000,
    maxEventStreams: options.maxEventStreams ?? 256,
    allowedOrigins: options.allowedOrigins ?? [],
    listenHost: options.listenHost ?? '127.0.0.1',
    maxQueuedImages: options.maxQueuedImages ?? 10_000,
    resultTtlMs: options.resultTtlMs ?? 60 * 60 * 1000,
    cache: options.cache ?? new NoCache(),
    signingKeys: options.signingKeys ?? [],
    allowUnsigned: options.allowUnsigned ?? false,
    maxAgeSeconds: options.maxAgeSeconds ?? 86_400,
    clientHints: options.clientHints ?? false,
    adminWrite: options.adminWrite ?? false,
    presets: options.presets ?? NO_PRESETS,
    presetsOnly: options.presetsOnly ?? false,
    // A fresh folder whose name cannot be guessed, so no one can make it first.
    dataDir: options.dataDir ?? mkdtempSync(join(tmpdir(), 'imgfleet-serve-')),
  };
}
