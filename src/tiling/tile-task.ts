import { Frame, type Channels } from '../image/frame.js';
import { ImgfleetError } from '../errors.js';
import { validatePipeline } from '../pipeline/validate.js';
import type { PipelineSpec } from '../pipeline/spec.js';
import type { Rect } from './grid.js';

/** One tile's work, as plain data for a pool thread or a cluster job. */
export interface TileTask {
  /** The tile with its halo: 8-bit interleaved pixels, rows top to bottom. */
  pixels: Uint8Array;
  width: number;
  height: number;
  channels: Channels;
  /** The part to send back, within this tile: the tile without its halo. */
  keep: Rect;
  /** The tiled steps only. */
  spec: PipelineSpec;
  /** The whole image's mean grey, when the first step needs it. */
  meanGrey?: number;
}

export interface TileResult {
  /** Who ran it, when the runner knows. */
  worker?: string;
  /** Which run of the tile this was, on a queue that retries (1 unless it had to run again). */
  attempts?: number;
  pixels: Uint8Array;
  width: number;
  height: number;
  channels: Channels;
}

/** Anything that runs tiles: the pool, the cluster, or the calling thread. */
export interface TileRunner {
  readonly name: string;
  /** Tiles worth having in flight at once. */
  readonly capacity: number;
  /** Tiles that keep it busy right now, when it knows better than `capacity` (a cluster counts its live threads). */
  tileCapacity?(): Promise<number>;
  runTile(task: TileTask): Promise<TileResult>;
}

/** Runs the tiled steps on one tile and cuts its halo off. */
export async function runTile(task: TileTask): Promise<TileResult> {
  const pipeline = validatePipeline(task.spec, { maxSteps: Number.MAX_SAFE_INTEGER });
  const pixels = Buffer.from(task.pixels.buffer, task.pixels.byteOffset, task.pixels.byteLength);
  let frame = Frame.fromRaw({ data: pixels, width: task.width, height: task.height, channels: task.channels });
  const ctx = { loadAsset: () => Promise.reject(new ImgfleetError('INTERNAL', 'a tile has no assets')) };
  for (const step of pipeline.steps) {
    if (step.op.kind !== 'image') throw new ImgfleetError('INTERNAL', `${step.op.name} cannot run on a tile`);
    const rule = step.op.tiling(step.params);
    if (rule.kind === 'mean-grey') {
      if (task.meanGrey === undefined) throw new ImgfleetError('INTERNAL', `${step.op.name} on a tile needs the image's mean grey`);
      frame = await rule.applyWithMean(frame, step.params, task.meanGrey);
    } else {
      frame = await step.op.apply(frame, step.params, ctx);
    }
  }
  const out = await frame.raw();
  const { keep } = task;
  if (out.width !== task.width || out.height !== task.height) {
    throw new ImgfleetError('INTERNAL', `a tiled step changed the tile's size to ${out.width}×${out.height}`);
  }
  const row = keep.width * out.channels;
  const kept = Buffer.allocUnsafe(row * keep.height);
  for (let y = 0; y < keep.height; y++) {
    const from = ((keep.top + y) * out.width + keep.left) * out.channels;
    out.data.copy(kept, y * row, from, from + row);
  }
  return { pixels: kept, width: keep.width, height: keep.height, channels: out.channels };
}
