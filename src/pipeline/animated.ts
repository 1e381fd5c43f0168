/**
 * Animated GIF and WebP inputs stay animated when the output can animate (gif, webp) and
 * `output:…:frames=first` does not ask for the first frame alone: every frame goes through
 * every step on its own, as a still image would, and the frames are written back with their
 * delays and the loop count. Any other output takes the first frame, as libvips reads it.
 */
import { ImgfleetError } from '../errors.js';
import { decodeFrames, framesToSharp } from '../image/animation.js';
import type { ImageHeader, ImageSource } from '../image/decode.js';
import { outputFormatFor, withEncoder } from '../image/encode.js';
import { Frame, type RawImage } from '../image/frame.js';
import { checkFrames, type Limits } from '../limits.js';
import type { OpContext } from '../ops/types.js';
import { encodeWithin } from './byte-budget.js';
import { planPasses } from './plan.js';
import { imageResult, type ProcessResult, type ProcessStats } from './process.js';
import { ANIMATED_OUTPUTS, AUTO_FORMAT, type ValidPipeline } from './spec.js';

/** Whether `pipeline` keeps this input's animation: several frames, an output that animates, all frames asked for. */
export function staysAnimated(header: Pick<ImageHeader, 'format' | 'frames'>, pipeline: ValidPipeline): boolean {
  if (header.frames <= 1 || pipeline.yieldsData || pipeline.output.frames === 'first') return false;
  const format: string = (pipeline.output.format === AUTO_FORMAT ? undefined : pipeline.output.format) ?? header.format;
  return (ANIMATED_OUTPUTS as readonly string[]).includes(format);
}

/** Refuses, before decoding, too many frames or pixels, and steps that cannot run frame by frame. */
export function checkAnimation(header: ImageHeader, pipeline: ValidPipeline, limits: Limits): void {
  checkFrames(header.width, header.height, header.frames, limits);
  pipeline.steps.forEach((step, index) => {
    if (step.op.notPerFrame) {
      throw new ImgfleetError('BAD_PIPELINE',
        `steps[${index}] (${step.op.name}): cannot run on an animation: ${step.op.notPerFrame}; add output:…:frames=first for the first frame only`);
    }
  });
}

/** Tiles cut one frame into parts: an animation that stays animated cannot run as tiles. */
export function animationNotTileable(): ImgfleetError {
  return new ImgfleetError('NOT_TILEABLE', 'cannot run on tiles: the input is an animation; add output:…:frames=first to work on its first frame as tiles');
}

export async function processAnimation(
  input: ImageSource, header: ImageHeader, pipeline: ValidPipeline, limits: Limits, ctx: OpContext, stats: ProcessStats, started: number, signal?: AbortSignal,
): Promise<ProcessResult> {
  stats.frames = header.frames;
  let frames: Frame[] = (await decodeFrames(input, header, limits)).map((raw) => Frame.fromRaw(raw));
  const passes = planPasses(pipeline);
  for (const [index, pass] of passes.entries()) {
    const last = index === passes.length - 1;
    for (const [at, step] of pass.steps.entries()) {
      if (step.op.kind !== 'image') throw new Error(`${step.op.name} is not an image step`);
      const t0 = performance.now();
      const next: Frame[] = [];
      for (const frame of frames) {
        signal?.throwIfAborted();
        const done = await step.op.apply(frame, step.params, ctx);
        if (!last && at === pass.steps.length - 1) await done.raw();
        next.push(done);
      }
      frames = next;
      stats.steps.push({ op: step.op.name, ms: performance.now() - t0, pass: index });
    }
  }
  signal?.throwIfAborted();
  const t0 = performance.now();
  const pixels: RawImage[] = [];
  for (const frame of frames) pixels.push(await frame.raw());
  const format = outputFormatFor(pipeline.output, header.format);
  const alpha = pixels[0].channels === 2 || pixels[0].channels === 4;
  const encode = (quality: number | undefined) => withEncoder(framesToSharp(pixels), format,
    quality === undefined ? pipeline.output : { ...pipeline.output, quality }, { hasAlpha: alpha, hasIcc: false }, header.animation);
  const { maxBytes } = pipeline.output;
  const encoded = maxBytes === undefined
    ? await encode(undefined).toBuffer({ resolveWithObject: true })
    : await encodeWithin(encode, format, maxBytes, pipeline.output.quality ?? 100);
  const result = imageResult(encoded, format, stats, t0, started);
  // libvips reports the stacked pages' height; the result's size is one frame's.
  return result.kind === 'image' ? { ...result, height: pixels[0].height } : result;
}
