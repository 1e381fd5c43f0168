/**
 * The PNG lane, for the everyday jobs on small PNGs, where libvips' set-up and its PNG decoder
 * cost more than the work: plain 8-bit grey or RGB PNGs (src/image/png-pixels.ts) are inflated
 * by Node's zlib, unfiltered in the row module's WebAssembly memory and copied once into the
 * resampler's (the two modules have memories of their own), or into plain pixels when nothing is
 * resized, and then go the way of the libjpeg-turbo lane (src/pipeline/jpeg-turbo-lane.ts): the
 * resize in the resampler, steps on pixels, libjpeg-turbo's JPEG encoder, libwebp's WebP encoder
 * (src/image/webp-encode.ts) or libvips' PNG encoder.
 * Same meaning as the libvips path; the pixels differ only by the resampler.
 */
import type { RawImage } from '../image/frame.js';
import { jpegTurboAvailable } from '../image/jpeg-turbo.js';
import { decodePngInto, readPlainPng, type PlainPng } from '../image/png-pixels.js';
import { resizeInResampler } from '../image/resample/resize-pixels.js';
import { laneResize, laneShape, type LaneSteps } from './lane-steps.js';
import type { ValidPipeline } from './spec.js';

/**
 * Measured on this project's 2-core machine (bench/README.md), per image in one thread: at
 * 0.75 MP the lane still beat libvips (11 vs 13 ms for a 256 px JPEG thumbnail, even for an
 * 800 px WebP); at 1.5 MP it only matched it, and lost 7 % on the WebP.
 */
const MAX_PNG_LANE_PIXELS = 1_000_000;

export interface PngLanePlan extends LaneSteps {
  lane: 'png-zlib';
  source: PlainPng;
  grey: boolean;
}

/**
 * The plan, when this lane can run the pipeline on an input starting with `head`: a plain PNG
 * of at most MAX_PNG_LANE_PIXELS, and a pipeline that laneShape takes and that starts with a
 * resize the resampler makes, has steps on pixels (libvips would decode in a pipeline of its
 * own) or writes a JPEG (libjpeg-turbo writes it from the decoded pixels, and no libvips
 * pipeline runs). A PNG only written again as PNG or WebP stays with libvips, whose
 * decode-and-encode in one pipeline was quicker: 1,000 small PNGs to WebP took 10.7–12.0 s
 * against 12.2–13.7 s through this lane, to PNG 14.0–14.7 s against 15.9–16.6 s.
 */
export function planPngLane(head: Uint8Array, pipeline: ValidPipeline): PngLanePlan | undefined {
  const shape = laneShape(pipeline, 'png');
  if (!shape || (!shape.resizeStep && shape.rest.length === 0 && shape.format !== 'jpeg')) return undefined;
  const source = readPlainPng(head);
  if (!source || source.width * source.height > MAX_PNG_LANE_PIXELS) return undefined;
  const resize = shape.resizeStep && laneResize(source, source.grey, shape.resizeStep, false);
  if (shape.resizeStep && !resize) return undefined;
  // A JPEG is written by libjpeg-turbo, from the resampler's memory.
  if (shape.format === 'jpeg' && !jpegTurboAvailable()) return undefined;
  return { lane: 'png-zlib', source, resize, rest: shape.rest, format: shape.format, grey: source.grey };
}

/**
 * Decodes, and resizes when the plan starts with a resize: `use` gets RGBX or grey pixels in the
 * resampler's memory, valid only during the call, or RGB or grey straight from the decoder.
 * Throws PngRefused when the file is not as its first bytes promised.
 */
export function decodePngAndResize<T>(input: Buffer, plan: PngLanePlan, use: (image: RawImage) => T): T {
  const { source, resize, grey } = plan;
  if (!resize) {
    const data = Buffer.allocUnsafe(source.width * source.height * (grey ? 1 : 3));
    decodePngInto(input, data, grey ? 1 : 3);
    return use({ data, width: source.width, height: source.height, channels: grey ? 1 : 3 });
  }
  const channels = grey ? 1 : 4;
  return resizeInResampler(source, resize.geometry, resize.kernel, resize.background, channels, (pixels) => decodePngInto(input, pixels, channels), use);
}
