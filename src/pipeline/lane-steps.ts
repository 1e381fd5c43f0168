/**
 * What the pixel lanes (the libjpeg-turbo lane, the PNG lane) can run of a pipeline, whatever
 * decodes their input: an optional resize first, in the WebAssembly resampler, then only steps
 * that work on pixels, then a JPEG, PNG or WebP encoder.
 */
import { colorOrThrow, type Rgba } from '../image/color.js';
import { isPixelFormat, type PixelFormat } from '../image/encode-pixels.js';
import type { KernelName } from '../image/resample/kernels.js';
import { fitsResampler } from '../image/resample/resize-pixels.js';
import { resizeGeometry, type ResizeGeometry, type ResizeParams } from '../ops/resize.js';
import type { Size } from '../ops/types.js';
import type { ValidPipeline, ValidStep } from './spec.js';

/** The formats the pixel lanes write (src/image/encode-pixels.ts). */
export type LaneFormat = PixelFormat;

export interface LaneSteps {
  /** The first step, when it is a resize. */
  resize?: { geometry: ResizeGeometry; kernel: KernelName; background: Rgba };
  /** The steps after it, all of which work on pixels. */
  rest: ValidStep[];
  format: LaneFormat;
}

/**
 * The pipeline's shape, when a pixel lane can run it: written as JPEG, PNG or WebP (the input's
 * own format, `inputFormat`, when it names none), an optional resize first, then only steps
 * that work on pixels. The resize is planned by laneResize once the source is known.
 */
export function laneShape(pipeline: ValidPipeline, inputFormat: LaneFormat): { resizeStep?: ValidStep; rest: ValidStep[]; format: LaneFormat } | undefined {
  // A byte budget searches over the quality with libvips' encoders.
  if (pipeline.yieldsData || pipeline.output.maxBytes !== undefined) return undefined;
  const format = pipeline.output.format ?? inputFormat;
  if (!isPixelFormat(format)) return undefined;
  const [first, ...others] = pipeline.steps;
  const resizeFirst = first?.op.name === 'resize';
  const rest = resizeFirst ? others : pipeline.steps;
  if (!rest.every((step) => step.op.kind === 'image' && step.op.stage === undefined)) return undefined;
  return { resizeStep: resizeFirst ? first : undefined, rest, format };
}

/**
 * The resize of `source`, when the resampler makes it as libvips would: any fit, any kernel
 * but nearest, an opaque padding colour and none on grey, a cover cut from the middle.
 * `jpeg`: the source is a JPEG, which libvips may shrink on load (the geometry then follows it).
 */
export function laneResize(source: Size, grey: boolean, step: ValidStep, jpeg: boolean): LaneSteps['resize'] | undefined {
  const p = step.params as unknown as ResizeParams;
  const background = colorOrThrow(p.background);
  if (p.kernel === 'nearest' || (p.fit === 'contain' && (background.alpha !== 1 || grey))) return undefined;
  // The resampler cuts a cover's middle; other crop positions are libvips'.
  if (p.fit === 'cover' && p.position !== 'center') return undefined;
  const geometry = resizeGeometry(source, p, jpeg);
  if (!fitsResampler(source, geometry.resized, p.kernel)) return undefined;
  return { geometry, kernel: p.kernel, background };
}
