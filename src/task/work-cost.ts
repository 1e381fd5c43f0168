import { ImgfleetError } from '../errors.js';
import type { Limits } from '../limits.js';
import type { Size } from '../ops/types.js';
import type { ValidPipeline, ValidStep } from '../pipeline/spec.js';

/**
 * What an image will cost before a pixel of it is decoded: its size from the header, followed
 * through the pipeline's geometry, times what each step costs per pixel. The unit is the
 * nanosecond of one core of the machine the figures were measured on (2 cores, a recent Xeon),
 * so the budget reads as seconds of work: a tiny file that claims a large size, or settings that
 * multiply the work per pixel (a CLAHE window, a blur radius, a text size, an AVIF encoder), is
 * refused with the reason instead of holding a thread for minutes.
 *
 * The figures are rough on purpose (within a factor of about two of what libvips takes here) and
 * lean towards more: they bound an attacker, they do not predict a run.
 */

/** Nanoseconds per pixel to encode, by output format (a tile's raw pixels cost nothing to encode). */
const ENCODE_NS: Record<string, number> = { jpeg: 8, png: 30, tiff: 30, webp: 100, avif: 2000, gif: 2000, raw: 0 };
/** Decoding, per input pixel. */
const DECODE_NS = 15;
/** An operation without a figure of its own: a few passes over every pixel. */
const UNKNOWN_NS = 50;

type StepCost = (input: Size, output: Size, params: Record<string, unknown>) => number;

const area = (size: Size) => size.width * size.height;
const num = (value: unknown, fallback: number) => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);

/** Per operation: nanoseconds for one run of it on an image of `input` pixels that makes `output`. */
const STEP_COST: Record<string, StepCost> = {
  resize: (input, output) => area(input) * 10 + area(output) * 30,
  crop: (_input, output) => area(output) * 10,
  rotate: (input, output) => area(input) * 10 + area(output) * 30,
  flip: (input) => area(input) * 10,
  pad: (_input, output) => area(output) * 10,
  grayscale: (input) => area(input) * 30,
  threshold: (input) => area(input) * 30,
  negate: (input) => area(input) * 30,
  brightness: (input) => area(input) * 30,
  contrast: (input) => area(input) * 40,
  sepia: (input) => area(input) * 40,
  saturate: (input) => area(input) * 60,
  histogram: (input) => area(input) * 10,
  // A decode shrunk to 100 px: a JPEG or WebP shrinks as it loads, a PNG is read whole.
  info: (input) => area(input) * 10,
  // libvips' Gaussian: a mask of about 6σ taps, run across and down.
  blur: (input, _output, p) => area(input) * (10 + 1.5 * num(p.sigma, 2)),
  // The same blur on lightness, with a colour-space round trip.
  sharpen: (input, _output, p) => area(input) * (40 + 12 * num(p.sigma, 1)),
  edges: (input, _output, p) => area(input) * (p.method === 'canny' ? 80 : 60),
  // libvips pads the image by the window, then slides a histogram of the window over it:
  // each pixel costs a little, plus its window's height, plus its window's area in the thousands.
  clahe: (input, _output, p) => {
    const w = num(p.width, 8);
    const h = num(p.height, 8);
    return (input.width + w) * (input.height + h) * (350 + 1.6 * h + 2.7 * (w * h) / 1000);
  },
  // Text is drawn at its size (never larger than the image), then blended over the image.
  watermark: (input, _output, p) => {
    const blend = area(input) * 20;
    if (typeof p.text !== 'string') return blend + area(input) * 20;
    const shorter = Math.min(input.width, input.height);
    const height = Math.min(num(p.size, Math.max(8, Math.round(shorter * 0.06))), input.height);
    return blend + Math.min(height * height * 0.7 * Math.max(1, p.text.length), area(input)) * 50;
  },
};

export interface WorkEstimate {
  /** The whole image, decoding and encoding included, in nanoseconds of one core. */
  total: number;
  /** The step that costs most, and what it costs. */
  largest: { where: string; cost: number };
}

/** The work of running `pipeline` on an image of `input` pixels that ends in `format` (or data). */
export function estimateWork(input: Size, pipeline: ValidPipeline, format: string | undefined): WorkEstimate {
  let size = input;
  let total = area(input) * DECODE_NS;
  let largest = { where: 'decoding', cost: total };
  pipeline.steps.forEach((step: ValidStep, index) => {
    const output = step.op.kind === 'image' && step.op.outputSize ? step.op.outputSize(size, step.params) : size;
    const costOf = STEP_COST[step.op.name] ?? ((from: Size) => area(from) * UNKNOWN_NS);
    const cost = costOf(size, output, step.params as Record<string, unknown>);
    total += cost;
    if (cost > largest.cost) largest = { where: `steps[${index}] (${step.op.name})`, cost };
    size = output;
  });
  if (!pipeline.yieldsData) {
    const encoder = pipeline.output.format ?? format ?? 'png';
    // A byte budget may encode up to eight times (src/pipeline/byte-budget.ts).
    const encode = area(size) * (ENCODE_NS[encoder] ?? ENCODE_NS.png) * (pipeline.output.maxBytes === undefined ? 1 : 8);
    total += encode;
    if (encode > largest.cost) largest = { where: `encoding ${encoder}`, cost: encode };
  }
  return { total, largest };
}

/** Refuses, before decoding, an image whose estimated work is over `limits.maxWork` (TOO_MUCH_WORK, 422). */
export function checkWork(input: Size, pipeline: ValidPipeline, limits: Pick<Limits, 'maxWork'>, format: string | undefined, frames = 1): void {
  if (!Number.isFinite(limits.maxWork)) return;
  // Every frame of an animation goes through every step.
  const estimate = estimateWork(input, pipeline, format);
  const total = estimate.total * frames;
  const largest = { ...estimate.largest, cost: estimate.largest.cost * frames };
  if (total <= limits.maxWork) return;
  throw new ImgfleetError('TOO_MUCH_WORK',
    `too much work for one image: about ${seconds(total)} of processing estimated for ${input.width}×${input.height} px${frames > 1 ? ` × ${frames} frames` : ''} `
    + `(${largest.where}: ${seconds(largest.cost)}), over the limit of ${seconds(limits.maxWork)}; use a smaller image or lighter settings`);
}

function seconds(ns: number): string {
  const s = ns / 1e9;
  return s >= 10 ? `${Math.round(s)} s` : `${s.toFixed(1)} s`;
}
