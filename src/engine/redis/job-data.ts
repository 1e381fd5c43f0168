import type { ErrorInfo } from '../../errors.js';
import type { Limits } from '../../limits.js';
import type { ProcessStats } from '../../pipeline/process.js';
import type { PipelineSpec } from '../../pipeline/spec.js';
import type { TileTask } from '../../tiling/tile-task.js';
import type { OutputInfo } from '../types.js';

/** Where bytes are: a blob key in Redis, or a path every worker can see (--shared-fs). */
export type BytesRef = { blob: string } | { path: string };

export interface ClusterItem {
  input: BytesRef;
  /** Where the image result goes; absent for data pipelines. */
  output?: BytesRef;
}

/**
 * The data of one BullMQ job: a few images (small images travel in small groups, so the cost
 * of a job is shared) by reference, never the images themselves, and one pipeline.
 */
export interface ClusterJobData {
  items: ClusterItem[];
  spec: PipelineSpec;
  limits?: Partial<Limits>;
}

export type ClusterItemResult =
  | { ok: true; output?: Omit<OutputInfo, 'path'> & { channels?: number }; data?: unknown; stats: ProcessStats }
  | { ok: false; error: ErrorInfo };

export interface ClusterJobResult {
  items: ClusterItemResult[];
  worker: string;
  /** Which run of the job this was (1 unless a transient fault or a dead worker made it rerun). */
  attempts: number;
}

/** Job name of one tile of a large image; other jobs are groups of images. */
export const TILE_JOB = 'tile';

/** One tile of a large image: its pixels (raw, with the halo) and its result by blob key. */
export interface TileJobData {
  tile: Omit<TileTask, 'pixels'>;
  input: { blob: string };
  output: { blob: string };
}

export interface TileJobResult {
  /** The kept part's size and layout; its pixels are in the output blob. */
  width: number;
  height: number;
  channels: TileTask['channels'];
  worker: string;
  attempts: number;
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
