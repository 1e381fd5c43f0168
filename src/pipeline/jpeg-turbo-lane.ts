/**
 * The libjpeg-turbo lane, for the everyday jobs on JPEGs, where libvips' per-pipeline set-up
 * costs as much as the work (see bench/README.md): libjpeg-turbo decodes straight into
 * the WebAssembly SIMD resampler's memory, the resize (every fit, Pillow's sample alignment)
 * and any steps that work on pixels run in this thread, and libjpeg-turbo encodes a JPEG
 * (libwebp a colour WebP, libvips a PNG or a grey WebP, from the pixels). Grey JPEGs stay grey: one channel decoded,
 * resampled and written. Same meaning as the libvips path: the same sizes,
 * crop, padding and colours; the pixels differ only by the resampler and the decoder's DCT.
 */
import type { RawImage } from '../image/frame.js';
import { readJpegHeader, type JpegHeader } from '../image/jpeg-header.js';
import { decodedSize, decodeJpegInto, decodeJpegScaled, jpegTurboAvailable } from '../image/jpeg-turbo.js';
import { orientPixels, storedSize, uprightSize } from '../image/orientation.js';
import { giveBackPixels } from '../image/pixel-buffers.js';
import { coverBox, fitsResampler, resizeInResampler, storedGeometry } from '../image/resample/resize-pixels.js';
import { laneResize, laneShape, type LaneSteps } from './lane-steps.js';
import type { ValidPipeline } from './spec.js';

/**
 * Measured on this project's 2-core machine (bench/README.md): up to this many decoded pixels
 * the lane is faster than libvips when both decode every pixel; above it, libvips streams and
 * holds less. Below SMALL_PIXELS libvips' set-up outweighs even its shrink-on-load, so the lane
 * decodes every pixel and resamples from them; above it, a resize that libvips would shrink on
 * load is decoded at the same scale by libjpeg's DCT scaling, in libuv's pool: 100 camera
 * photos to 300 px covers took 10 ms an image against 13-15 ms in libvips, one at a time.
 */
const MAX_LANE_PIXELS = 1_500_000;
const SMALL_PIXELS = 400_000;

export interface TurboLanePlan extends LaneSteps {
  lane: 'jpeg-turbo';
  source: JpegHeader;
  /** A one-component (grey) JPEG: decoded, worked on and written as one channel. */
  grey: boolean;
  /** Decoded at 1/shrink through libjpeg's DCT scaling, as libvips shrinks on load. */
  shrink: number;
}

/**
 * The plan, when this lane can run the pipeline on an input starting with `head`: a plain
 * 8-bit colour or grey JPEG (an ICC profile is copied into the output: runPixelLane) of at most MAX_LANE_PIXELS as
 * decoded, and a pipeline laneShape takes (src/pipeline/lane-steps.ts), whose resize the
 * resampler makes. The resize is planned on the image shown upright; the resampler works on the
 * stored pixels and turns its result by the EXIF orientation, before any other step.
 */
export function planJpegTurboLane(head: Buffer, pipeline: ValidPipeline): TurboLanePlan | undefined {
  const shape = laneShape(pipeline, 'jpeg');
  if (!shape) return undefined;
  const source = readJpegHeader(head);
  if (!source || (source.components !== 3 && source.components !== 1) || source.precision !== 8) return undefined;
  const grey = source.components === 1;
  let resize: LaneSteps['resize'];
  let shrink = 1;
  if (shape.resizeStep) {
    resize = laneResize(uprightSize(source, source.orientation), grey, shape.resizeStep, true);
    if (!resize) return undefined;
    if (resize.geometry.shrinkOnLoad > 1 && source.width * source.height > SMALL_PIXELS) shrink = resize.geometry.shrinkOnLoad;
  }
  const decoded = decodedSize(source, shrink);
  if (decoded.width * decoded.height > MAX_LANE_PIXELS) return undefined;
  if (resize && !fitsResampler(decoded, storedSize(resize.geometry.resized, source.orientation), resize.kernel)) return undefined;
  if (!jpegTurboAvailable()) return undefined;
  return { lane: 'jpeg-turbo', source, shrink, resize, rest: shape.rest, format: shape.format, grey };
}

/**
 * Decodes, and resizes when the plan starts with a resize: `use` gets RGBX or grey pixels from
 * the resampler (its own memory, valid only during the call), or RGB or grey straight from the
 * decoder.
 * Throws JpegTurboRefused when libjpeg-turbo cannot read the file.
 */
export function decodeAndResize<T>(input: Buffer, plan: TurboLanePlan, use: (image: RawImage) => T): T | Promise<T> {
  const { source, resize, grey, shrink } = plan;
  if (!resize) {
    const channels = grey ? 1 : 3;
    const data = Buffer.allocUnsafe(source.width * source.height * channels);
    decodeJpegInto(input, data, grey ? 'grey' : 'rgb', source.width, source.height);
    return use(orientPixels({ data, width: source.width, height: source.height, channels }, source.orientation));
  }
  if (shrink > 1) return decodeScaledAndResize(input, plan, use);
  return resizeInResampler(source, resize.geometry, resize.kernel, resize.background, grey ? 1 : 4,
    (pixels) => decodeJpegInto(input, pixels, grey ? 'grey' : 'rgbx', source.width, source.height), use, source.orientation);
}

/** A large JPEG decoded small in libuv's pool, then resized here. */
async function decodeScaledAndResize<T>(input: Buffer, plan: TurboLanePlan, use: (image: RawImage) => T): Promise<T> {
  const { source, resize, grey, shrink } = plan;
  const scaled = await decodeJpegScaled(input, grey ? 'grey' : 'rgbx', source.width, source.height, shrink);
  // The photo is mapped onto its exact extent in the decoded pixels, partial last column and row
  // included: libvips leaves those out and scales the rest, up to a pixel off at the far side.
  const extent = { width: source.width / shrink, height: source.height / shrink };
  const box = coverBox(extent, storedGeometry(resize!.geometry, source.orientation)) ?? { left: 0, top: 0, ...extent };
  return resizeInResampler({ width: scaled.width, height: scaled.height, box }, resize!.geometry, resize!.kernel, resize!.background, grey ? 1 : 4, (pixels) => {
    if (scaled.data.length !== pixels.length) throw new RangeError('decoded pixels and resampler memory differ in size');
    scaled.data.copy(pixels);
    giveBackPixels(scaled.data);
  }, use, source.orientation);
}
