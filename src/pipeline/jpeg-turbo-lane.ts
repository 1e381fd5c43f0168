/**
 * The libjpeg-turbo lane, for the everyday jobs on small JPEGs, where libvips' per-pipeline
 * set-up costs as much as the work (see bench/README.md): libjpeg-turbo decodes straight into
 * the WebAssembly SIMD resampler's memory, the resize (every fit, Pillow's sample alignment)
 * and any steps that work on pixels run in this thread, and libjpeg-turbo encodes a JPEG
 * (libvips a PNG or WebP, from the pixels). Grey JPEGs stay grey: one channel decoded,
 * resampled and written. Same meaning as the libvips path: the same sizes,
 * crop, padding and colours; the pixels differ only by the resampler and the decoder's DCT.
 */
import { colorOrThrow, type Rgba } from '../image/color.js';
import type { RawImage } from '../image/frame.js';
import { readJpegHeader, type JpegHeader } from '../image/jpeg-header.js';
import { decodeJpegInto, jpegTurboAvailable } from '../image/jpeg-turbo.js';
import type { KernelName } from '../image/resample/kernels.js';
import { fitsResampler, resizeInResampler } from '../image/resample/resize-pixels.js';
import { resizeGeometry, type ResizeGeometry, type ResizeParams } from '../ops/resize.js';
import type { ValidPipeline, ValidStep } from './spec.js';

/**
 * Measured on this project's 2-core machine (bench/README.md): up to this many input pixels
 * the lane is faster than libvips when both decode every pixel; above it, libvips streams and
 * holds less. Below SMALL_PIXELS libvips' set-up outweighs even its shrink-on-load, which
 * decodes a quarter or less of the pixels; above it, a resize that libvips shrinks on load
 * stays there.
 */
const MAX_LANE_PIXELS = 1_500_000;
const SMALL_PIXELS = 400_000;

const LANE_FORMATS = ['jpeg', 'png', 'webp'] as const;
export type LaneFormat = (typeof LANE_FORMATS)[number];

export interface TurboLanePlan {
  source: JpegHeader;
  /** The first step, when it is a resize. */
  resize?: { geometry: ResizeGeometry; kernel: KernelName; background: Rgba };
  /** The steps after it, all of which work on pixels. */
  rest: ValidStep[];
  format: LaneFormat;
  /** A one-component (grey) JPEG: decoded, worked on and written as one channel. */
  grey: boolean;
}

/**
 * The plan, when this lane can run the pipeline on an input starting with `head`: a plain
 * 8-bit colour or grey JPEG (no ICC profile, no EXIF rotation) of at most MAX_LANE_PIXELS,
 * written as JPEG, PNG or WebP; an optional resize first (any fit, any kernel but nearest, an
 * opaque padding colour, and none on grey, no shrink-on-load above SMALL_PIXELS), then only
 * steps that work on pixels.
 */
export function planJpegTurboLane(head: Buffer, pipeline: ValidPipeline): TurboLanePlan | undefined {
  // A byte budget searches over the quality with libvips' encoders.
  if (pipeline.yieldsData || pipeline.output.maxBytes !== undefined) return undefined;
  const format = pipeline.output.format ?? 'jpeg';
  if (!(LANE_FORMATS as readonly string[]).includes(format)) return undefined;
  const [first, ...others] = pipeline.steps;
  const resizeFirst = first?.op.name === 'resize';
  const rest = resizeFirst ? others : pipeline.steps;
  if (!rest.every((step) => step.op.kind === 'image' && step.op.stage === undefined)) return undefined;
  const source = readJpegHeader(head);
  if (!source || (source.components !== 3 && source.components !== 1) || source.precision !== 8 || source.hasIcc || source.orientation !== 1) return undefined;
  if (source.width * source.height > MAX_LANE_PIXELS) return undefined;
  const grey = source.components === 1;
  let resize: TurboLanePlan['resize'];
  if (resizeFirst) {
    const p = first.params as unknown as ResizeParams;
    const background = colorOrThrow(p.background);
    if (p.kernel === 'nearest' || (p.fit === 'contain' && (background.alpha !== 1 || grey))) return undefined;
    // The resampler cuts a cover's middle; other crop positions are libvips'.
    if (p.fit === 'cover' && p.position !== 'center') return undefined;
    const geometry = resizeGeometry(source, p, true);
    if (geometry.shrinkOnLoad > 1 && source.width * source.height > SMALL_PIXELS) return undefined;
    if (!fitsResampler(source, geometry.resized, p.kernel)) return undefined;
    resize = { geometry, kernel: p.kernel, background };
  }
  if (!jpegTurboAvailable()) return undefined;
  return { source, resize, rest, format: format as LaneFormat, grey };
}

/**
 * Decodes, and resizes when the plan starts with a resize: `use` gets RGBX or grey pixels from
 * the resampler (its own memory, valid only during the call), or RGB or grey straight from the
 * decoder.
 * Throws JpegTurboRefused when libjpeg-turbo cannot read the file.
 */
export function decodeAndResize<T>(input: Buffer, plan: TurboLanePlan, use: (image: RawImage) => T): T {
  const { source, resize, grey } = plan;
  if (!resize) {
    const channels = grey ? 1 : 3;
    const data = Buffer.allocUnsafe(source.width * source.height * channels);
    decodeJpegInto(input, data, grey ? 'grey' : 'rgb', source.width, source.height);
    return use({ data, width: source.width, height: source.height, channels });
  }
  return resizeInResampler(source, resize.geometry, resize.kernel, resize.background, grey ? 1 : 4,
    (pixels) => decodeJpegInto(input, pixels, grey ? 'grey' : 'rgbx', source.width, source.height), use);
}
