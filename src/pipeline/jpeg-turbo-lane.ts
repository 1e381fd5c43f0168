/**
 * The libjpeg-turbo lane, for the everyday jobs on small JPEGs, where libvips' per-pipeline
 * set-up costs as much as the work (see bench/README.md): libjpeg-turbo decodes straight into
 * the WebAssembly SIMD resampler's memory, the resize (every fit, Pillow's sample alignment)
 * and any steps that work on pixels run in this thread, and libjpeg-turbo encodes a JPEG
 * (libvips a PNG or WebP, from the pixels). Same meaning as the libvips path: the same sizes,
 * crop, padding and colours; the pixels differ only by the resampler and the decoder's DCT.
 */
import { colorOrThrow, type Rgba } from '../image/color.js';
import type { RawImage } from '../image/frame.js';
import { readJpegHeader, type JpegHeader } from '../image/jpeg-header.js';
import { decodeJpegInto, jpegTurboAvailable } from '../image/jpeg-turbo.js';
import { KERNELS, type KernelName } from '../image/resample/kernels.js';
import { resampleInPlace } from '../image/resample/wasm-resampler.js';
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
}

/**
 * The plan, when this lane can run the pipeline on an input starting with `head`: a plain
 * 8-bit colour JPEG (no ICC profile, no EXIF rotation) of at most MAX_LANE_PIXELS, written as
 * JPEG, PNG or WebP; an optional resize first (any fit, any kernel but nearest, an opaque
 * padding colour, no shrink-on-load above SMALL_PIXELS), then only steps that work on pixels.
 */
export function planJpegTurboLane(head: Buffer, pipeline: ValidPipeline): TurboLanePlan | undefined {
  if (pipeline.yieldsData) return undefined;
  const format = pipeline.output.format ?? 'jpeg';
  if (!(LANE_FORMATS as readonly string[]).includes(format)) return undefined;
  const [first, ...others] = pipeline.steps;
  const resizeFirst = first?.op.name === 'resize';
  const rest = resizeFirst ? others : pipeline.steps;
  if (!rest.every((step) => step.op.kind === 'image' && step.op.stage === undefined)) return undefined;
  const source = readJpegHeader(head);
  if (!source || source.components !== 3 || source.precision !== 8 || source.hasIcc || source.orientation !== 1) return undefined;
  if (source.width * source.height > MAX_LANE_PIXELS) return undefined;
  let resize: TurboLanePlan['resize'];
  if (resizeFirst) {
    const p = first.params as unknown as ResizeParams;
    const background = colorOrThrow(p.background);
    if (p.kernel === 'nearest' || (p.fit === 'contain' && background.alpha !== 1)) return undefined;
    const geometry = resizeGeometry(source, p, true);
    if (geometry.shrinkOnLoad > 1 && source.width * source.height > SMALL_PIXELS) return undefined;
    if (!fitsResampler(source.width, geometry.resized.width, p.kernel) || !fitsResampler(source.height, geometry.resized.height, p.kernel)) return undefined;
    resize = { geometry, kernel: p.kernel, background };
  }
  if (!jpegTurboAvailable()) return undefined;
  return { source, resize, rest, format: format as LaneFormat };
}

/** The resampler reads a fixed window of taps, which must fit inside the source. */
function fitsResampler(inSize: number, outSize: number, kernel: KernelName): boolean {
  const taps = 2 * Math.ceil(KERNELS[kernel].support * Math.max(1, inSize / outSize)) + 2;
  return outSize >= 1 && taps <= inSize;
}

/**
 * Decodes, and resizes when the plan starts with a resize: RGBX pixels from the resampler, or
 * RGB straight from the decoder. Throws JpegTurboRefused when libjpeg-turbo cannot read the file.
 */
export function decodeAndResize(input: Buffer, plan: TurboLanePlan): RawImage {
  const { source, resize } = plan;
  if (!resize) {
    const data = Buffer.allocUnsafe(source.width * source.height * 3);
    decodeJpegInto(input, data, 'rgb', source.width, source.height);
    return { data, width: source.width, height: source.height, channels: 3 };
  }
  const { geometry, kernel, background } = resize;
  const part = geometry.crop ?? { left: 0, top: 0, ...geometry.resized };
  const data = resampleInPlace(source.width, source.height, geometry.resized, part, kernel,
    (pixels) => decodeJpegInto(input, pixels, 'rgbx', source.width, source.height),
    (pixels) => (geometry.embed ? embed(pixels, geometry, background) : Buffer.from(pixels)));
  return { data, ...geometry.output, channels: 4 };
}

/** The resized pixels laid on a canvas of the background colour (fit=contain). */
function embed(pixels: Buffer, geometry: ResizeGeometry, background: Rgba): Buffer {
  const { output, embed: at } = geometry;
  const canvas = Buffer.allocUnsafe(output.width * output.height * 4);
  const fill = Buffer.from([background.r, background.g, background.b, 255]);
  canvas.fill(fill);
  const row = at!.width * 4;
  for (let y = 0; y < at!.height; y++) pixels.copy(canvas, ((at!.top + y) * output.width + at!.left) * 4, y * row, (y + 1) * row);
  return canvas;
}

/** RGBX from the resampler as RGB, for steps that work on pixels. */
export function withoutPadding(image: RawImage): RawImage {
  if (image.channels !== 4) return image;
  const n = image.width * image.height;
  const data = Buffer.allocUnsafe(n * 3);
  for (let i = 0, o = 0, p = 0; i < n; i++, o += 3, p += 4) {
    data[o] = image.data[p];
    data[o + 1] = image.data[p + 1];
    data[o + 2] = image.data[p + 2];
  }
  return { ...image, data, channels: 3 };
}
