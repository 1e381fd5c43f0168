/**
 * What travels through Redis: BullMQ job data and results. Job data is untrusted input to a
 * worker (anyone who can write to Redis can write it), so `readJobData` checks its shape and
 * the worker's executor checks the rest: paths inside its roots, limits never above its own.
 */
import { ImgfleetError, type ErrorInfo } from '../../errors.js';
import type { Limits } from '../../limits.js';
import type { ProcessStats } from '../../pipeline/process.js';
import type { PipelineSpec } from '../../pipeline/spec.js';
import type { OutputInfo, Sink, Source, TileLayout } from '../../task/task.js';

/** One image (or tile) of a job, by reference: never its bytes. */
export interface ClusterItem {
  source: Extract<Source, { kind: 'blob' | 'file' | 'object' }>;
  sink: Extract<Sink, { kind: 'blob' | 'file' | 'object' | 'none' }>;
  tile?: TileLayout;
  /** Logos sent with the work, by name (see Task.assets). */
  assets?: Record<string, Extract<Source, { kind: 'blob' | 'file' | 'object' }>>;
}

/** One BullMQ job: a few images with one pipeline (small images travel in groups, so the cost of a job is shared). */
export interface ClusterJobData {
  items: ClusterItem[];
  pipeline: PipelineSpec;
  limits?: Partial<Limits>;
}

export type ClusterItemResult =
  | { ok: true; output?: OutputInfo; data?: unknown; stats: ProcessStats }
  | { ok: false; error: ErrorInfo };

export interface ClusterJobResult {
  items: ClusterItemResult[];
  worker: string;
  /** Which run of the job this was (1 unless a transient fault or a dead worker made it rerun). */
  attempts: number;
}

export const JOB_NAME = 'images';
/** Jobs a worker runs at once: a job is a few images, and two keep its pool busy without hoarding work. */
export const JOBS_PER_WORKER = 2;
/** The most images a worker takes in one job (it says so in its registry entry, as jobItems). */
export const MAX_JOB_ITEMS = 128;
/** What a worker that does not say takes (workers before jobItems was advertised refuse more). */
export const LEGACY_JOB_ITEMS = 64;
/**
 * The most images of a job whose bytes travel through Redis: a worker holds the finished ones'
 * results while Redis is away, so their number bounds its memory (README, "A worker").
 */
export const BLOB_JOB_ITEMS = 64;
/** The most images of one job a worker reads from a store (or a shared folder) at once. */
export const REFERENCES_AT_ONCE = 64;

/** The job's data if it has the shape a submitter writes; BAD_USAGE otherwise, naming what is wrong. */
export function readJobData(data: unknown, blobPrefix: string): ClusterJobData {
  const bad = (what: string) => new ImgfleetError('BAD_USAGE', `malformed job: ${what}`);
  if (!isObject(data) || !Array.isArray(data.items) || !isObject(data.pipeline)) throw bad('expected items and a pipeline');
  if (data.items.length === 0 || data.items.length > MAX_JOB_ITEMS) throw bad(`expected 1 to ${MAX_JOB_ITEMS} items`);
  if (data.limits !== undefined && !isObject(data.limits)) throw bad('limits must be an object');
  const items = data.items.map((item, i): ClusterItem => {
    if (!isObject(item) || !isObject(item.source) || !isObject(item.sink)) throw bad(`items[${i}] needs a source and a sink`);
    const { source, sink } = item;
    const blobOk = (value: Record<string, unknown>) => typeof value.key === 'string' && value.key.startsWith(blobPrefix);
    const pathOk = (value: Record<string, unknown>) => typeof value.path === 'string' && value.path.length > 0 && !value.path.includes('\0');
    // An object's bucket and key are checked against the worker's --s3-root where it is read or written.
    const objectOk = (value: Record<string, unknown>) => typeof value.bucket === 'string' && typeof value.key === 'string'
      && (value.etag === undefined || typeof value.etag === 'string') && (value.size === undefined || typeof value.size === 'number');
    const readable = (value: unknown) => isObject(value)
      && ((value.kind === 'blob' && blobOk(value)) || (value.kind === 'file' && pathOk(value)) || (value.kind === 'object' && objectOk(value)));
    if (!readable(source)) throw bad(`items[${i}].source must be a blob of this cluster, a file path or an object`);
    if (item.assets !== undefined && (!isObject(item.assets) || !Object.values(item.assets).every(readable))) {
      throw bad(`items[${i}].assets must name blobs of this cluster, file paths or objects`);
    }
    if (!((sink.kind === 'blob' && blobOk(sink)) || (sink.kind === 'file' && pathOk(sink)) || (sink.kind === 'object' && objectOk(sink)) || sink.kind === 'none')) {
      throw bad(`items[${i}].sink must be a blob of this cluster, a file path, an object or none`);
    }
    if (item.tile !== undefined && !isObject(item.tile)) throw bad(`items[${i}].tile must be an object`);
    return item as unknown as ClusterItem;
  });
  const blobs = items.filter((item) => item.source.kind === 'blob' || item.sink.kind === 'blob').length;
  if (blobs > BLOB_JOB_ITEMS) throw bad(`expected at most ${BLOB_JOB_ITEMS} items with blobs`);
  return { items, pipeline: data.pipeline as unknown as PipelineSpec, limits: data.limits as Partial<Limits> | undefined };
}

/**
 * The most images a job may hold for the worker that failed it, when that worker refused it for
 * its size (one of an earlier version, which takes fewer, joined while the batch ran); else undefined.
 * Workers of every version word that refusal as readJobData does.
 */
export function itemsTakenByRefuser(error: ErrorInfo): number | undefined {
  const refused = error.code === 'BAD_USAGE' ? /^malformed job: expected 1 to (\d+) items$/.exec(error.message) : null;
  const most = refused ? Number(refused[1]) : 0;
  return most >= 1 ? most : undefined;
}

/**
 * An image's timings as they travel back: to the microsecond, which every reader shows at most
 * (a float's 17 digits made them a fifth of a job's result, stored twice in Redis and read by
 * the submitter).
 */
export function statsToSend(stats: ProcessStats): ProcessStats {
  return {
    ...stats, probeMs: toMicroseconds(stats.probeMs), encodeMs: toMicroseconds(stats.encodeMs), totalMs: toMicroseconds(stats.totalMs),
    steps: stats.steps.map((step) => ({ ...step, ms: toMicroseconds(step.ms) })),
  };
}

function toMicroseconds(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Failures travel as BullMQ's failedReason: JSON of the error's code and message. */
export function encodeFailure(error: ErrorInfo): string {
  return JSON.stringify(error);
}

export function decodeFailure(reason: string | undefined): ErrorInfo {
  try {
    const parsed = JSON.parse(reason ?? '') as ErrorInfo;
    if (typeof parsed.code === 'string' && typeof parsed.message === 'string') return parsed;
  } catch {
    // not ours: a BullMQ or Redis message
  }
  return { code: 'INTERNAL', message: reason ?? 'failed' };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
