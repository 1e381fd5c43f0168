import type { CacheSource } from '../cache/cached-results.js';
import type { ErrorInfo } from '../errors.js';
import type { ProcessResult, ProcessStats } from '../pipeline/process.js';
import type { PipelineSpec } from '../pipeline/spec.js';
import type { Limits } from '../limits.js';
import type { TileResult, TileTask } from '../tiling/tile-task.js';

/** One unit of work: a file in, and a file out unless the pipeline yields data. */
export interface FileTask {
  inputPath: string;
  outputPath?: string;
  /** Normalised JSON of a validated pipeline: the same spec travels to every engine. */
  spec: PipelineSpec;
  limits?: Partial<Limits>;
}

export interface OutputInfo {
  path: string;
  bytes: number;
  width: number;
  height: number;
  format: string;
}

export type TaskOutcome =
  | { ok: true; output?: OutputInfo; data?: unknown; stats: ProcessStats; worker: string; attempts?: number; cache?: CacheSource }
  | { ok: false; error: ErrorInfo; worker: string; attempts?: number };


/** What runs tasks: the worker-thread pool here, a cluster elsewhere. */
export interface Engine {
  readonly name: string;
  /** How many tasks are worth having in flight at once to keep it busy. */
  readonly capacity: number;
  run(task: FileTask): Promise<TaskOutcome>;
  /** The same work on bytes in memory, for servers: the result's bytes come back. */
  runBytes(task: BytesTask): Promise<BytesOutcome>;
  /** One tile of a large image (see src/tiling/); throws on failure. */
  runTile?(task: TileTask): Promise<TileResult>;
  /** Tiles that keep it busy right now, when it knows better than `capacity`. */
  tileCapacity?(): Promise<number>;
  close(): Promise<void>;
}

/** Image bytes and a pipeline, for a pool thread. */
export interface BytesTask {
  input: Uint8Array;
  spec: PipelineSpec;
  limits?: Partial<Limits>;
}

export type BytesOutcome =
  | { ok: true; result: ProcessResult; worker: string; attempts?: number }
  | { ok: false; error: ErrorInfo; worker: string; attempts?: number };

export type TileOutcome = { ok: true; result: TileResult } | { ok: false; error: ErrorInfo };
