/**
 * The fast lane for the commonest batch job: a JPEG resized to an exact size and written as
 * JPEG. libjpeg-turbo decodes and encodes, and a WebAssembly SIMD resampler scales with
 * Pillow's sample alignment. In a libvips pipeline, per-image set-up and the 2-D upscaling
 * interpolator cost several times the actual work at this size (see bench/README.md).
 */
import { createRequire } from 'node:module';
import { processEnvironment } from '../config.js';
import { readJpegHeader, type JpegHeader } from '../image/jpeg-header.js';
import { resampleInPlace } from '../image/resample/wasm-resampler.js';
import type { KernelName } from '../image/resample/kernels.js';
import type { ResizeParams } from '../ops/resize.js';
import type { ValidPipeline } from './spec.js';

type JpegTurbo = typeof import('@julusian/jpeg-turbo');

let turbo: JpegTurbo | null | undefined;
let scratch = Buffer.alloc(0);

/** libjpeg-turbo's binding is an optional dependency: without it every image takes the libvips path. */
function jpegTurbo(): JpegTurbo | null {
  if (turbo === undefined) {
    if (!processEnvironment().jpegTurbo) return (turbo = null);
    try {
      turbo = createRequire(import.meta.url)('@julusian/jpeg-turbo') as JpegTurbo;
    } catch {
      turbo = null;
    }
  }
  return turbo;
}

export interface FastResizePlan {
  source: JpegHeader;
  width: number;
  height: number;
  kernel: KernelName;
  quality: number;
}

/** Beyond this shrink, libvips' shrink-on-load decodes less and wins. */
const MAX_SHRINK_AREA = 4;

export function planFastJpegResize(input: Buffer, pipeline: ValidPipeline): FastResizePlan | undefined {
  if (pipeline.steps.length !== 1 || pipeline.steps[0].op.name !== 'resize') return undefined;
  if ((pipeline.output.format ?? 'jpeg') !== 'jpeg') return undefined;
  const header = readJpegHeader(input);
  if (!header || header.components !== 3 || header.precision !== 8 || header.hasIcc || header.orientation !== 1) return undefined;
  const p = pipeline.steps[0].params as unknown as ResizeParams;
  if (p.fit !== 'fill' || p.width === undefined || p.height === undefined || p.kernel === 'nearest') return undefined;
  if (!p.enlarge && (p.width > header.width || p.height > header.height)) return undefined;
  if (header.width * header.height > MAX_SHRINK_AREA * p.width * p.height) return undefined;
  if (Math.min(header.width, header.height, p.width, p.height) < 8) return undefined;
  if (!jpegTurbo()) return undefined;
  return { source: header, width: p.width, height: p.height, kernel: p.kernel, quality: pipeline.output.quality ?? 80 };
}

export function runFastJpegResize(input: Buffer, plan: FastResizePlan): { resized: Buffer; resizeMs: number; encodeMs: number } {
  const jt = jpegTurbo()!;
  const t0 = performance.now();
  let t1 = t0;
  const { source } = plan;
  const resized = resampleInPlace(source.width, source.height, plan.width, plan.height, plan.kernel,
    (pixels) => {
      const decoded = jt.decompressSync(input, pixels, { format: jt.FORMAT_RGBX });
      if (decoded.width !== source.width || decoded.height !== source.height) throw new Error('header and image disagree');
    },
    (pixels) => {
      t1 = performance.now();
      const options = { format: jt.FORMAT_RGBX, width: plan.width, height: plan.height, quality: plan.quality, subsampling: jt.SAMP_420 };
      // The encoder wants room for the worst case; one scratch buffer per thread, then a copy of what it used.
      const room = jt.bufferSize(options);
      if (scratch.length < room) scratch = Buffer.allocUnsafe(room);
      return Buffer.from(jt.compressSync(pixels, scratch, options));
    });
  return { resized, resizeMs: t1 - t0, encodeMs: performance.now() - t1 };
}
