/**
 * One shape for every image, whoever asks for it: a source, a pipeline, a sink. The same task
 * runs on the calling thread, on a pool thread or on a cluster worker; see execute.ts.
 */
import type { CacheSource } from '../cache/cached-results.js';
import type { ErrorInfo } from '../errors.js';
import type { Channels } from '../image/frame.js';
import type { Limits } from '../limits.js';
import type { ProcessStats } from '../pipeline/process.js';
import type { OutputFormat, PipelineSpec } from '../pipeline/spec.js';
import type { Rect } from '../tiling/grid.js';

/**
 * An object in an S3-compatible store, by bucket and key: whoever runs the task reads it
 * there, so a queue carries the key, never the bytes. The ETag and size, when the submitter
 * listed them, name the content without reading it (the result cache's address).
 */
export interface ObjectSource {
  kind: 'object';
  bucket: string;
  key: string;
  etag?: string;
  size?: number;
}

/** Where the input is: a file, bytes in memory, a blob in the cluster's Redis, or an object in a store. */
export type Source =
  | { kind: 'file'; path: string }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'blob'; key: string }
  | ObjectSource;

/** An object written to an S3-compatible store by whoever runs the task. */
export interface ObjectSink {
  kind: 'object';
  bucket: string;
  key: string;
}

/**
 * Where an image result goes: a file (written atomically), back to the caller as bytes, a
 * blob, or an object in a store (a PUT replaces an object whole, so it is atomic too). `none`
 * is for pipelines that yield data (a histogram): the data comes back in the outcome.
 */
export type Sink =
  | { kind: 'file'; path: string }
  | { kind: 'bytes' }
  | { kind: 'blob'; key: string }
  | ObjectSink
  | { kind: 'none' };

/** Interactive work (one image someone waits for) runs before batch work. */
export type Priority = 'interactive' | 'batch';

/** The layout of one tile's raw pixels, when the source is a tile of a larger image (see src/tiling/). */
export interface TileLayout {
  /** The tile with its halo: 8-bit interleaved pixels, rows top to bottom. */
  width: number;
  height: number;
  channels: Channels;
  /** The part to send back, within this tile: the tile without its halo. */
  keep: Rect;
  /** The whole image's mean grey, when the first tiled step needs it. */
  meanGrey?: number;
}

export interface Task {
  source: Source;
  /**
   * The normalised JSON of a pipeline. Whoever runs the task validates it again: a task may
   * have come through Redis, where anyone who can write could have changed it.
   */
  pipeline: PipelineSpec;
  sink: Sink;
  priority: Priority;
  /** Tighter limits than the runner's own; never looser. */
  limits?: Partial<Limits>;
  /** Present when the source is one tile's raw pixels; the pipeline is then the tiled steps only. */
  tile?: TileLayout;
  /**
   * `libvips` when all the work happens in libvips's own threads (src/pipeline/lane.ts,
   * workInLibvips), so an engine may start it from any thread instead of giving it one of its own.
   */
  work?: 'libvips';
  /** The input's pixels, when its header was read for `work`: an engine may keep more small images in flight. */
  pixels?: number;
  /**
   * Logos sent with the work, by the name its watermark steps give (`upload:<sha256>`): they
   * travel with the task like the image. Other names come from the assets folder of the place
   * the task runs.
   */
  assets?: Record<string, Source>;
}

/** What an image result is, wherever it went. */
export interface OutputInfo {
  /** The file it was written to, for a file sink. */
  path?: string;
  bytes: number;
  width: number;
  height: number;
  /** An encoded format, or `raw` for a tile's pixels. */
  format: OutputFormat | 'raw';
  /** Channels of the pixels that were encoded, when known (not for a result from the cache). */
  channels?: number;
}

export type Outcome =
  | {
    ok: true;
    output?: OutputInfo;
    /** The result's bytes, for a bytes sink. */
    body?: Buffer;
    /** The result of a data pipeline. */
    data?: unknown;
    stats: ProcessStats;
    /** Who ran it: a pool thread, a cluster worker, or the cache. */
    worker: string;
    /** Which run this was, on a queue that retries (1 unless it had to run again). */
    attempts?: number;
    cache?: CacheSource;
  }
  | { ok: false; error: ErrorInfo; worker: string; attempts?: number };

export function failed(error: ErrorInfo, worker: string, attempts?: number): Outcome {
  return attempts === undefined ? { ok: false, error, worker } : { ok: false, error, worker, attempts };
}
