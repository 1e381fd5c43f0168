import { Frame, type Channels } from '../image/frame.js';
import { ImgfleetError } from '../errors.js';
import type { ProcessStats } from '../pipeline/process.js';
import type { ValidPipeline } from '../pipeline/spec.js';
import type { TileLayout } from '../task/task.js';

/** The kept part of one tile after the tiled steps: raw pixels, rows top to bottom. */
export interface TilePixels {
  pixels: Buffer;
  width: number;
  height: number;
  channels: Channels;
  stats: ProcessStats;
}

/** Runs the tiled steps on one tile (its pixels with the halo) and cuts the halo off. */
export async function runTile(input: Buffer, layout: TileLayout, pipeline: ValidPipeline): Promise<TilePixels> {
  const started = performance.now();
  const expected = layout.width * layout.height * layout.channels;
  if (input.length !== expected) {
    throw new ImgfleetError('BAD_USAGE', `a tile of ${layout.width}×${layout.height}×${layout.channels} needs ${expected} bytes, got ${input.length}`);
  }
  const { keep } = layout;
  if (keep.left < 0 || keep.top < 0 || keep.left + keep.width > layout.width || keep.top + keep.height > layout.height) {
    throw new ImgfleetError('BAD_USAGE', 'a tile\'s kept part lies outside it');
  }
  let frame = Frame.fromRaw({ data: input, width: layout.width, height: layout.height, channels: layout.channels });
  const ctx = { loadAsset: () => Promise.reject(new ImgfleetError('BAD_USAGE', 'a tile has no assets')) };
  const steps: ProcessStats['steps'] = [];
  for (const step of pipeline.steps) {
    if (step.op.kind !== 'image') throw new ImgfleetError('BAD_USAGE', `${step.op.name} cannot run on a tile`);
    const t0 = performance.now();
    const rule = step.op.tiling(step.params);
    if (rule.kind === 'mean-grey') {
      if (layout.meanGrey === undefined) throw new ImgfleetError('BAD_USAGE', `${step.op.name} on a tile needs the image's mean grey`);
      frame = await rule.applyWithMean(frame, step.params, layout.meanGrey);
    } else if (rule.kind === 'local') {
      frame = await step.op.apply(frame, step.params, ctx);
    } else {
      throw new ImgfleetError('BAD_USAGE', `${step.op.name} cannot run on a tile`);
    }
    steps.push({ op: step.op.name, ms: performance.now() - t0 });
  }
  const out = await frame.raw();
  if (out.width !== layout.width || out.height !== layout.height) {
    throw new ImgfleetError('INTERNAL', `a tiled step changed the tile's size to ${out.width}×${out.height}`);
  }
  const row = keep.width * out.channels;
  const kept = Buffer.allocUnsafe(row * keep.height);
  for (let y = 0; y < keep.height; y++) {
    const from = ((keep.top + y) * out.width + keep.left) * out.channels;
    out.data.copy(kept, y * row, from, from + row);
  }
  const stats: ProcessStats = {
    input: { format: 'raw', width: layout.width, height: layout.height, bytes: input.length },
    path: 'libvips', probeMs: 0, steps, encodeMs: 0, totalMs: performance.now() - started,
  };
  return { pixels: kept, width: keep.width, height: keep.height, channels: out.channels, stats };
}
