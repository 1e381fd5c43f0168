import { readFile } from 'node:fs/promises';
import { ImgfleetError } from '../errors.js';
import type { Sharp } from 'sharp';
import { decodeError, open, probe, type ImageHeader } from '../image/decode.js';
import { outputFormatFor, withEncoder } from '../image/encode.js';
import { planFastJpegResize, runFastJpegResize, type FastResizePlan } from './fast-jpeg-resize.js';
import type { Frame } from '../image/frame.js';
import { checkFileSize, checkInputPixels, checkOutputSize, resolveLimits, type Limits } from '../limits.js';
import { histogram, histogramFromBytes, type HistogramParams } from '../ops/histogram.js';
import type { OpContext, Size } from '../ops/types.js';
import type { OutputFormat, ValidPipeline } from './spec.js';

export interface ProcessOptions {
  limits?: Partial<Limits>;
  /** Reads a logo named in a watermark step; defaults to reading the file. */
  loadAsset?: OpContext['loadAsset'];
}

export interface StepTiming {
  op: string;
  ms: number;
}

export interface ProcessStats {
  input: { format: string; width: number; height: number; bytes: number };
  /**
   * Which codecs ran: libvips, or the libjpeg-turbo fast lane for JPEG → exact-size JPEG, or for a
   * PNG's histogram its rows counted as they are inflated; none for a result from the cache.
   */
  path: 'libvips' | 'jpeg-turbo' | 'png-rows' | 'cache';
  /** Header read and limit checks. */
  probeMs: number;
  /** Wall time of each step; a step that only appends to the decoder or encoder shows little here. */
  steps: StepTiming[];
  /** Encoding, including whatever the last step left pending. */
  encodeMs: number;
  totalMs: number;
  /** Present when the image ran as tiles. */
  tiles?: TilingStats;
}

export interface TilingStats {
  count: number;
  /** Tile side, in pixels. */
  size: number;
  /** Pixels each tile reads past its edges. */
  halo: number;
  /** Tiles done by each worker. */
  workers: Record<string, number>;
  /** Tiles that had to run again (a worker died or a transient fault). */
  rerun: number;
}

export type ProcessResult =
  | { kind: 'image'; data: Buffer; format: OutputFormat; width: number; height: number; channels: number; stats: ProcessStats }
  | { kind: 'data'; data: unknown; stats: ProcessStats };

/**
 * The processor every engine runs: input bytes and a validated pipeline in, output bytes (or
 * analysis data) and timings out. Limits are checked against the header before decoding.
 */
/** The output format, and the frame's pending work fused into its encoder. */
export function encoderFor(frame: Frame, pipeline: ValidPipeline, header: ImageHeader): { image: Sharp; format: OutputFormat } {
  const format = outputFormatFor(pipeline.output, header.format);
  const image = withEncoder(frame.toSharp(), format, pipeline.output.quality, { hasAlpha: header.hasAlpha, hasIcc: Boolean(header.metadata.icc) });
  return { image, format };
}

/** Encodes the last frame into the result, timing the encoder and the whole run. */
export async function encodeResult(frame: Frame, pipeline: ValidPipeline, header: ImageHeader, stats: ProcessStats, started: number): Promise<ProcessResult> {
  const t0 = performance.now();
  const { image, format } = encoderFor(frame, pipeline, header);
  const { data, info } = await image.toBuffer({ resolveWithObject: true });
  stats.encodeMs = performance.now() - t0;
  stats.totalMs = performance.now() - started;
  return { kind: 'image', data, format, width: info.width, height: info.height, channels: info.channels, stats };
}

export async function processImage(input: Buffer, pipeline: ValidPipeline, options: ProcessOptions = {}): Promise<ProcessResult> {
  const started = performance.now();
  const limits = resolveLimits(options.limits);
  const counted = await directHistogram(input, pipeline, limits, started);
  if (counted) return counted;
  const fast = planFastJpegResize(input, pipeline);
  if (fast) {
    const result = tryFastLane(input, pipeline, fast, limits, started);
    if (result) return result;
  }

  const header = await probe(input, limits);
  checkPlannedSizes(header, pipeline, limits);
  const ctx: OpContext = { loadAsset: options.loadAsset ?? readAssetFile };
  const stats: ProcessStats = {
    input: { format: header.format, width: header.width, height: header.height, bytes: input.length },
    path: 'libvips',
    probeMs: performance.now() - started,
    steps: [],
    encodeMs: 0,
    totalMs: 0,
  };

  try {
    let frame: Frame = open(input, header, limits);
    for (const step of pipeline.steps) {
      const t0 = performance.now();
      if (step.op.kind === 'analysis') {
        const data = await step.op.analyse(frame, step.params, ctx);
        stats.steps.push({ op: step.op.name, ms: performance.now() - t0 });
        stats.totalMs = performance.now() - started;
        return { kind: 'data', data, stats };
      }
      frame = await step.op.apply(frame, step.params, ctx);
      stats.steps.push({ op: step.op.name, ms: performance.now() - t0 });
    }

    return await encodeResult(frame, pipeline, header, stats, started);
  } catch (error) {
    throw decodeError(error);
  }
}

/**
 * The JPEG fast lane, under the same limits. libjpeg-turbo refuses some files that libvips
 * reads (and that libvips explains better when they are broken): those take the general path.
 */
function tryFastLane(input: Buffer, pipeline: ValidPipeline, plan: FastResizePlan, limits: Limits, started: number): ProcessResult | undefined {
  checkFileSize(input.length, limits);
  checkInputPixels(plan.source.width, plan.source.height, limits);
  checkPlannedSizes(plan.source, pipeline, limits);
  const probeMs = performance.now() - started;
  try {
    const { resized, resizeMs, encodeMs } = runFastJpegResize(input, plan);
    const stats: ProcessStats = {
      input: { format: 'jpeg', width: plan.source.width, height: plan.source.height, bytes: input.length },
      path: 'jpeg-turbo', probeMs, steps: [{ op: 'resize', ms: resizeMs }], encodeMs, totalMs: performance.now() - started,
    };
    return { kind: 'image', data: resized, format: 'jpeg', width: plan.width, height: plan.height, channels: 3, stats };
  } catch {
    return undefined;
  }
}

/** A pipeline of one histogram step on a PNG or a JPEG: counted straight from the file (see histogramFromBytes). */
async function directHistogram(input: Buffer, pipeline: ValidPipeline, limits: Limits, started: number): Promise<ProcessResult | undefined> {
  const [step] = pipeline.steps;
  if (pipeline.steps.length !== 1 || step.op !== histogram) return undefined;
  const direct = await histogramFromBytes(input, step.params as unknown as HistogramParams, limits);
  if (!direct) return undefined;
  const totalMs = performance.now() - started;
  return {
    kind: 'data', data: direct.data,
    stats: {
      input: { format: direct.format, width: direct.data.width, height: direct.data.height, bytes: input.length },
      path: direct.path, probeMs: 0, steps: [{ op: 'histogram', ms: totalMs }], encodeMs: 0, totalMs,
    },
  };
}

/** Follows the planned geometry through the steps so an oversized output fails before decoding. */
export function checkPlannedSizes(start: Size, pipeline: ValidPipeline, limits: Limits): void {
  let size = start;
  pipeline.steps.forEach((step, index) => {
    if (step.op.kind !== 'image' || !step.op.outputSize) return;
    size = step.op.outputSize(size, step.params);
    checkOutputSize(size.width, size.height, limits, `steps[${index}] (${step.op.name})`);
  });
}

const assets = new Map<string, Promise<Buffer>>();

export function readAssetFile(path: string): Promise<Buffer> {
  let bytes = assets.get(path);
  if (!bytes) {
    bytes = readFile(path).catch((error: NodeJS.ErrnoException) => {
      assets.delete(path);
      throw new ImgfleetError('BAD_PIPELINE', `watermark image ${path}: ${error.code === 'ENOENT' ? 'file not found' : error.message}`);
    });
    assets.set(path, bytes);
  }
  return bytes;
}
