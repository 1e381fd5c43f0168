import { readFile } from 'node:fs/promises';
import { ImgfleetError } from '../errors.js';
import type { Sharp } from 'sharp';
import { decodeError, open, probe, sourceBytes, type ImageHeader, type ImageSource } from '../image/decode.js';
import { inputProfile, withInputProfile } from '../image/input-profile.js';
import { uprightSize } from '../image/orientation.js';
import { readHead } from '../io/read-head.js';
import { readFileLimited } from '../io/read-file.js';
import { DEFAULT_EFFORT, outputFormatFor, withEncoder } from '../image/encode.js';
import { Frame, type RawImage } from '../image/frame.js';
import { jpegIccProfile } from '../image/jpeg-icc.js';
import { splicesIccProfile, withIccProfile } from '../image/icc-splice.js';
import { JpegTurboRefused } from '../image/jpeg-turbo.js';
import { encodePixels, jpegOfPixels } from '../image/encode-pixels.js';
import { rgbFromRgbx } from '../image/resample/resize-pixels.js';
import { decodeAndResize } from './jpeg-turbo-lane.js';
import { decodePngAndResize } from './png-lane.js';
import { decodeWebpAndResize } from './webp-lane.js';
import { PngRefused } from '../image/png-pixels.js';
import { WebpRefused } from '../image/webp-pixels.js';
import { pngRowsOf, pngWriterTakes, writePng, type PngRows } from '../image/png-write.js';
import { threadsForImage } from '../image/vips-threads.js';
import { pixelLanePlan, type Lane, type PixelLanePlan } from './lane.js';
import { planPasses } from './plan.js';
import { checkAnimation, processAnimation, staysAnimated } from './animated.js';
import { encodeWithin, type Encoded } from './byte-budget.js';
import { checkFileSize, checkInputPixels, checkOutputSize, resolveLimits, type Limits } from '../limits.js';
import { histogram, histogramFromBytes, type HistogramParams } from '../ops/histogram.js';
import type { OpContext, Size } from '../ops/types.js';
import type { OutputFormat, ValidPipeline, ValidStep } from './spec.js';

export interface ProcessOptions {
  limits?: Partial<Limits>;
  /** Reads a logo named in a watermark step; defaults to reading the file. */
  loadAsset?: OpContext['loadAsset'];
  /** Stops the work between steps once aborted (its reason is thrown). */
  signal?: AbortSignal;
  /** Called with the header's facts before any pixel is decoded; throws to refuse the image. */
  check?(header: { format: string; width: number; height: number; frames?: number }): void;
}

export interface StepTiming {
  op: string;
  ms: number;
  /**
   * The pass that ran the step (src/pipeline/plan.ts): steps of one pass ran as one libvips
   * pipeline, whose time shows on the pass's last step, or in encodeMs for the pass that the
   * encoder ran. Absent outside the libvips lane.
   */
  pass?: number;
}

export interface ProcessStats {
  input: { format: string; width: number; height: number; bytes: number };
  /** The lane that made the result (src/pipeline/lane.ts), or the cache that kept it. */
  path: Lane | 'cache';
  /** Header read and limit checks. */
  probeMs: number;
  /** Wall time of each step; a step that only appends to the decoder or encoder shows little here. */
  steps: StepTiming[];
  /** Encoding, including whatever the last step left pending. */
  encodeMs: number;
  totalMs: number;
  /** Present when the image ran as tiles. */
  tiles?: TilingStats;
  /** Frames of an animation that stayed animated, each through every step. */
  frames?: number;
  /** The quality that output.maxBytes chose. */
  quality?: number;
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
  const image = withEncoder(frame.toSharp(), format, pipeline.output, { hasAlpha: header.hasAlpha, hasIcc: header.hasIcc });
  return { image, format };
}

/** Encodes the last frame into the result, timing the encoder and the whole run. */
export async function encodeResult(frame: Frame, pipeline: ValidPipeline, header: ImageHeader, stats: ProcessStats, started: number): Promise<ProcessResult> {
  const t0 = performance.now();
  const { maxBytes } = pipeline.output;
  let encoded: Encoded;
  let format: OutputFormat;
  if (maxBytes === undefined) {
    const encoder = encoderFor(frame, pipeline, header);
    format = encoder.format;
    encoded = await encoder.image.toBuffer({ resolveWithObject: true });
  } else {
    // Each quality tried runs a copy of the pending pipeline, which carries the input's ICC profile to the output as a plain encode does.
    const pending = frame.toSharp();
    format = outputFormatFor(pipeline.output, header.format);
    encoded = await encodeWithin((quality) => withEncoder(pending.clone(), format, withQuality(pipeline, quality).output, { hasAlpha: header.hasAlpha, hasIcc: header.hasIcc }),
      format, maxBytes, pipeline.output.quality ?? 100);
  }
  return imageResult(encoded, format, stats, t0, started);
}

/**
 * encodeResult, with the input's ICC profile in the output. Where the frame does not read the
 * decoded input (pixels made by the resampler or by steps in JavaScript), a JPEG, WebP or PNG gets
 * the profile spliced into its bytes, as the libjpeg-turbo lane does; other formats, and a byte
 * budget (which the profile's bytes count against), read the pixels and profile from a TIFF.
 */
export async function encodeKeepingProfile(
  frame: Frame, pipeline: ValidPipeline, header: ImageHeader, input: ImageSource, stats: ProcessStats, started: number,
): Promise<ProcessResult> {
  const format = outputFormatFor(pipeline.output, header.format);
  if (header.hasIcc && !frame.readsInput && pipeline.output.maxBytes === undefined && splicesIccProfile(format)) {
    const profile = await inputProfile(input, header);
    if (!profile) return encodeResult(frame, pipeline, header, stats, started);
    const result = await encodeResult(frame, pipeline, header, stats, started);
    const data = result.kind === 'image' && withIccProfile(format, result.data, profile, result.channels);
    if (result.kind === 'image' && data) return { ...result, data };
    // A file laid out otherwise: encoded again, from the TIFF.
    return encodeResult(await withInputProfile(frame, input, header), pipeline, header, stats, started);
  }
  return encodeResult(await withInputProfile(frame, input, header), pipeline, header, stats, started);
}

/** The pipeline with its output's quality set (or left as it is). */
export function withQuality(pipeline: ValidPipeline, quality: number | undefined): ValidPipeline {
  return quality === undefined ? pipeline : { ...pipeline, output: { ...pipeline.output, quality } };
}

export function imageResult(encoded: Encoded, format: OutputFormat, stats: ProcessStats, encodeStarted: number, started: number): ProcessResult {
  const { data, info, quality } = encoded;
  if (quality !== undefined) stats.quality = quality;
  stats.encodeMs = performance.now() - encodeStarted;
  stats.totalMs = performance.now() - started;
  return { kind: 'image', data, format, width: info.width, height: info.height, channels: info.channels, stats };
}

/**
 * `input` is the image's bytes, or the path of a file that libvips reads itself (from its own
 * threads, so a large file never passes through the calling thread).
 */
export async function processImage(input: ImageSource, pipeline: ValidPipeline, options: ProcessOptions = {}): Promise<ProcessResult> {
  const started = performance.now();
  const limits = resolveLimits(options.limits);
  const counted = typeof input === 'string' ? undefined : await directHistogram(input, pipeline, limits, started);
  if (counted) return counted;
  const ctx: OpContext = { loadAsset: options.loadAsset ?? readAssetFile };
  const head = typeof input === 'string' ? readHead(input) : undefined;
  const lanePlan = pixelLanePlan(head ?? (input as Buffer), pipeline);
  if (lanePlan) {
    // One read here: in libuv's pool (open, stat, read and close each a turn of this thread) the
    // decodes of 100 large photos started later, and the batch took 8 % longer.
    const bytes = typeof input === 'string' ? readFileLimited(input, limits.maxFileBytes) : input;
    const result = await runPixelLane(bytes, pipeline, lanePlan, limits, ctx, started, options);
    if (result) return result;
  }

  const header = await probe(input, limits, pipeline.input, head);
  checkPlannedSizes(header, pipeline, limits);
  const animated = staysAnimated(header, pipeline);
  if (animated) checkAnimation(header, pipeline, limits);
  options.check?.({ format: header.format, width: header.width, height: header.height, frames: animated ? header.frames : 1 });
  const [first] = pipeline.steps;
  if (first?.op.kind === 'analysis' && first.op.fromSource) {
    const data = await first.op.fromSource(input, first.params, limits, pipeline.input ?? {});
    const totalMs = performance.now() - started;
    return {
      kind: 'data', data,
      stats: { input: { format: header.format, width: header.width, height: header.height, bytes: sourceBytes(input) }, path: 'libvips', probeMs: 0, steps: [{ op: first.op.name, ms: totalMs }], encodeMs: 0, totalMs },
    };
  }
  threadsForImage(header.width * header.height);
  const stats: ProcessStats = {
    input: { format: header.format, width: header.width, height: header.height, bytes: sourceBytes(input) },
    path: 'libvips',
    probeMs: performance.now() - started,
    steps: [],
    encodeMs: 0,
    totalMs: 0,
  };

  try {
    if (animated) return await processAnimation(input, header, pipeline, limits, ctx, stats, started, options.signal);
    let frame: Frame = open(input, header, limits);
    const passes = planPasses(pipeline);
    // Passes as they ran: a pass whose first step joins the pipeline before it at this size (a
    // sharpen of a large image) runs in that pipeline, and its steps report its number.
    let ran = 0;
    for (const [index, pass] of passes.entries()) {
      const last = index === passes.length - 1;
      for (const [at, step] of pass.steps.entries()) {
        options.signal?.throwIfAborted();
        const t0 = performance.now();
        if (step.op.kind === 'analysis') {
          if (!step.op.analyse) throw new ImgfleetError('BAD_PIPELINE', `${step.op.name} must be the only step`);
          const data = await step.op.analyse(frame, step.params, ctx);
          stats.steps.push({ op: step.op.name, ms: performance.now() - t0, pass: ran });
          stats.totalMs = performance.now() - started;
          return { kind: 'data', data, stats };
        }
        frame = await step.op.apply(frame, step.params, ctx);
        // A pass that the encoder does not run is made into pixels here, so its time is its own.
        const madeHere = !last && at === pass.steps.length - 1 && !joinsPending(passes[index + 1].steps[0], frame);
        if (madeHere) await frame.raw();
        stats.steps.push({ op: step.op.name, ms: performance.now() - t0, pass: ran });
        if (madeHere) ran++;
      }
    }

    options.signal?.throwIfAborted();
    return await encodeKeepingProfile(frame, pipeline, header, input, stats, started);
  } catch (error) {
    throw decodeError(error);
  }
}

/** Whether a step would join the frame's pending libvips pipeline, at the size the frame will have. */
function joinsPending(step: ValidStep, frame: Frame): boolean {
  if (step.op.kind !== 'image') return false;
  const size = frame.expectedSize();
  const stage = step.op.stage ?? (size && step.op.stageAt?.(size, step.params, frame.channels));
  return stage !== undefined && frame.canTake(stage);
}

/**
 * The libjpeg-turbo lane (jpeg-turbo-lane.ts), the PNG lane (png-lane.ts) or the WebP lane (webp-lane.ts), under the same
 * limits. When the lane's decoder refuses the file, libvips tries it (and explains it better
 * when it is broken); any other failure is a failure.
 */
async function runPixelLane(
  input: Buffer, pipeline: ValidPipeline, plan: PixelLanePlan, limits: Limits, ctx: OpContext, started: number, options: ProcessOptions,
): Promise<ProcessResult | undefined> {
  const format = plan.lane === 'jpeg-turbo' ? 'jpeg' : plan.lane === 'png-zlib' ? 'png' : 'webp';
  // Pixels are used as stored, and the input's profile goes into the output.
  const profile = plan.lane === 'jpeg-turbo' && plan.source.hasIcc ? jpegIccProfile(input) : undefined;
  if (plan.lane === 'jpeg-turbo' && plan.source.hasIcc && !profile) return undefined;
  const { width, height } = plan.lane === 'jpeg-turbo' ? uprightSize(plan.source, plan.source.orientation) : plan.source;
  checkFileSize(input.length, limits);
  checkInputPixels(width, height, limits);
  checkPlannedSizes({ width, height }, pipeline, limits);
  options.check?.({ format, width, height });
  const stats: ProcessStats = {
    input: { format, width, height, bytes: input.length },
    path: plan.lane, probeMs: performance.now() - started, steps: [], encodeMs: 0, totalMs: 0,
  };
  let mark = performance.now();
  const lap = () => {
    const now = performance.now();
    const ms = now - mark;
    mark = now;
    return ms;
  };
  // The resampler's pixels are read in its memory: a resize straight to JPEG is encoded there and
  // one to PNG filtered there, steps on pixels take RGB (or a copy of grey) out of it, and a WebP
  // takes a plain copy.
  let data: Buffer | undefined;
  let pngRows: PngRows | undefined;
  let image: RawImage;
  try {
    const withPixels = (pixels: RawImage): RawImage => {
      if (plan.resize) stats.steps.push({ op: 'resize', ms: lap() });
      const kept = () => (plan.resize ? { ...pixels, data: Buffer.from(pixels.data) } : pixels);
      if (plan.rest.length > 0) return pixels.channels === 4 ? rgbFromRgbx(pixels) : kept();
      if (plan.format === 'jpeg') {
        data = jpegOfPixels(pixels, pipeline.output.quality);
        return { ...pixels, data: Buffer.alloc(0) };
      }
      if (plan.format === 'png' && pngWriterTakes(pixels)) {
        pngRows = pngRowsOf(pixels);
        return { ...pixels, data: Buffer.alloc(0) };
      }
      return kept();
    };
    image = plan.lane === 'jpeg-turbo' ? await decodeAndResize(input, plan, withPixels)
      : plan.lane === 'png-zlib' ? decodePngAndResize(input, plan, withPixels) : decodeWebpAndResize(input, plan, withPixels);
  } catch (error) {
    if (error instanceof JpegTurboRefused || error instanceof PngRefused || error instanceof WebpRefused) return undefined;
    throw error;
  }
  if (plan.rest.length > 0) {
    let frame = Frame.fromRaw(image);
    for (const step of plan.rest) {
      if (step.op.kind !== 'image') throw new Error(`${step.op.name} is not an image step`);
      frame = await step.op.apply(frame, step.params, ctx);
      image = await frame.raw();
      stats.steps.push({ op: step.op.name, ms: lap() });
    }
  }
  data ??= pngRows ? await writePng(pngRows, pipeline.output.effort ?? DEFAULT_EFFORT.png) : await encodePixels(image, plan.format, pipeline.output);
  if (profile) {
    const profiled = withIccProfile(plan.format, data, profile, image.channels);
    // A file not laid out as expected: libvips writes it instead.
    if (!profiled) return undefined;
    data = profiled;
  }
  stats.encodeMs = lap();
  stats.totalMs = performance.now() - started;
  return { kind: 'image', data, format: plan.format, width: image.width, height: image.height, channels: image.channels === 1 ? 1 : 3, stats };
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

/** Logos by path; only the last few, since logos sent with requests come and go. */
const assets = new Map<string, Promise<Buffer>>();
const ASSETS_KEPT = 16;

export function readAssetFile(path: string): Promise<Buffer> {
  let bytes = assets.get(path);
  if (!bytes) {
    bytes = readFile(path).catch((error: NodeJS.ErrnoException) => {
      assets.delete(path);
      throw new ImgfleetError('BAD_PIPELINE', `watermark image ${path}: ${error.code === 'ENOENT' ? 'file not found' : error.message}`);
    });
    assets.set(path, bytes);
    if (assets.size > ASSETS_KEPT) assets.delete(assets.keys().next().value!);
  }
  return bytes;
}
