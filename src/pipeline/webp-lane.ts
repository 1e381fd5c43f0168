/**
 * The WebP lane, for the everyday jobs on small lossy WebPs: libwebp decodes every pixel
 * straight into the resampler's memory (src/image/webp-pixels.ts), and the rest goes the way of
 * the libjpeg-turbo lane (src/pipeline/jpeg-turbo-lane.ts): the resize in the resampler, steps
 * on pixels, libjpeg-turbo's JPEG encoder, libwebp's WebP encoder (src/image/webp-encode.ts) or
 * libvips' PNG encoder.
 *
 * libvips would have libwebp shrink a WebP on load, towards the target size, with libwebp's own
 * averaging scaler rather than the resize's kernel (0.5 dB below Pillow's Lanczos after a JPEG
 * encode, on small photos to 256 px). This lane resamples the whole pixels with the kernel asked
 * for, as Pillow does. Same meaning as the libvips path: the same sizes, crop, padding and colours.
 */
import type { RawImage } from '../image/frame.js';
import { jpegTurboAvailable } from '../image/jpeg-turbo.js';
import { resizeInResampler } from '../image/resample/resize-pixels.js';
import { decodeWebpInto, libwebpAvailable, readPlainWebp, type PlainWebp } from '../image/webp-pixels.js';
import { laneResize, laneShape, type LaneSteps } from './lane-steps.js';
import type { ValidPipeline } from './spec.js';

/**
 * Up to this many pixels the lane was quicker, measured on this project's 2-core machine
 * (bench/README.md, batches of 750 WebPs): at 0.75 MP it took 1.3× less time to a 256 px JPEG,
 * and about 1.15× less to a 256 or 512 px WebP once libwebp wrote the WebPs too (with libvips'
 * encoder it had lost 5 %). Written as PNG, it won at 0.19 MP and was not measured above.
 */
const MAX_PIXELS = 1_000_000;
const MAX_PIXELS_TO_PNG = 400_000;

export interface WebpLanePlan extends LaneSteps {
  lane: 'libwebp';
  source: PlainWebp;
}

/**
 * The plan, when this lane can run the pipeline on an input starting with `head`: a plain lossy
 * WebP within the sizes above, and a pipeline that laneShape takes and that starts with a resize
 * the resampler makes, has steps on pixels, or writes a JPEG (with libjpeg-turbo). A WebP only
 * written again as PNG or WebP stays with libvips, which decodes and encodes it in one pipeline.
 */
export function planWebpLane(head: Uint8Array, pipeline: ValidPipeline): WebpLanePlan | undefined {
  const shape = laneShape(pipeline, 'webp');
  if (!shape || (!shape.resizeStep && shape.rest.length === 0 && shape.format !== 'jpeg')) return undefined;
  const source = readPlainWebp(head);
  if (!source || source.width * source.height > (shape.format === 'png' ? MAX_PIXELS_TO_PNG : MAX_PIXELS)) return undefined;
  const resize = shape.resizeStep && laneResize(source, false, shape.resizeStep, false);
  if (shape.resizeStep && !resize) return undefined;
  if ((shape.format === 'jpeg' && !jpegTurboAvailable()) || !libwebpAvailable()) return undefined;
  return { lane: 'libwebp', source, resize, rest: shape.rest, format: shape.format };
}

/**
 * Decodes, and resizes when the plan starts with a resize: `use` gets RGBX pixels in the
 * resampler's memory, valid only during the call, or RGB straight from the decoder.
 * Throws WebpRefused when libwebp cannot read the file.
 */
export function decodeWebpAndResize<T>(input: Buffer, plan: WebpLanePlan, use: (image: RawImage) => T): T {
  const { source, resize } = plan;
  if (!resize) {
    const data = Buffer.allocUnsafe(source.width * source.height * 3);
    decodeWebpInto(input, data, 3, source);
    return use({ data, width: source.width, height: source.height, channels: 3 });
  }
  return resizeInResampler(source, resize.geometry, resize.kernel, resize.background, 4, (pixels) => decodeWebpInto(input, pixels, 4, source), use);
}
