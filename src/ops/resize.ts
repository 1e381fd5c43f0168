import { colorOrThrow } from '../image/color.js';
import { Frame } from '../image/frame.js';
import { coverBox, fitsResampler, resizeColourOrGrey } from '../image/resample/resize-pixels.js';
import type { ImageOperation, Size } from './types.js';

export type Fit = 'cover' | 'contain' | 'fill' | 'inside' | 'outside';

export interface ResizeParams {
  width?: number;
  height?: number;
  fit: Fit;
  kernel: 'nearest' | 'linear' | 'cubic' | 'mitchell' | 'lanczos2' | 'lanczos3';
  enlarge: boolean;
  background: string;
  position: Position;
  /** Device pixel ratio: the width and height are multiplied by it. */
  dpr: number;
}

/** Where fit=cover cuts: a side or corner, the middle, or a region libvips finds. */
export const POSITIONS = ['center', 'north', 'northeast', 'east', 'southeast', 'south', 'southwest', 'west', 'northwest', 'attention', 'entropy'] as const;
export type Position = (typeof POSITIONS)[number];

export const resize: ImageOperation<ResizeParams> = {
  kind: 'image',
  name: 'resize',
  label: 'Resize',
  summary: 'Make the image smaller or larger: give a width, a height or both; fill gives exactly width×height',
  positional: ['width', 'height'],
  params: {
    width: { type: 'integer', min: 1, max: 65_535, label: 'Width', description: 'target width in pixels; without it, the height alone decides' },
    height: { type: 'integer', min: 1, max: 65_535, label: 'Height', description: 'target height in pixels; without it, the width alone decides' },
    fit: {
      type: 'enum', values: ['cover', 'contain', 'fill', 'inside', 'outside'], default: 'inside', label: 'Fit',
      description: 'with both width and height, inside keeps the whole image within them, outside covers them (both keep the shape); cover crops, contain pads and fill stretches to exactly width×height',
    },
    kernel: {
      type: 'enum', values: ['nearest', 'linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3'], default: 'lanczos3', label: 'Resampling filter',
      description: 'how new pixels are computed: lanczos3 is the sharpest, nearest keeps hard pixel edges (pixel art)',
    },
    enlarge: { type: 'boolean', default: true, label: 'Allow enlarging', description: 'when off, an image smaller than the target keeps its size' },
    background: { type: 'color', default: '#000000', label: 'Padding colour', description: 'colour of the bars that fit=contain adds' },
    position: {
      type: 'enum', values: POSITIONS, default: 'center', label: 'Crop position',
      description: 'which part fit=cover keeps: the center, a side or corner (north, northeast, …), attention (the region most likely to draw the eye: skin, saturated colour, bright detail) or entropy (the busiest region)',
    },
    dpr: {
      type: 'number', min: 1, max: 4, default: 1, label: 'Pixel ratio',
      description: 'device pixel ratio: width and height are multiplied by it, so a 200 px request at dpr=2 gives 400 px for a high-density screen',
    },
  },
  check: (p) => {
    if (p.width === undefined && p.height === undefined) return ['width', 'give width, height or both'];
    if (p.position !== 'center' && p.fit !== 'cover') return ['position', `only fit=cover crops, so position=${p.position} needs fit=cover (got fit=${p.fit})`];
    return undefined;
  },
  outputSize: (input, p) => resizeGeometry(input, p).output,
  stage: 'resize',
  tiling: () => ({ kind: 'geometry' }),
  async apply(frame, p) {
    // libvips enlarges through a 2-D interpolator half a pixel off Pillow's grid, 6 dB below
    // Pillow, and cuts a cover from whole pixels of the scaled image (bench/README.md): those
    // resizes of colour or grey pixels take the resampler, for its last part at least
    // (resizesInResampler).
    const size = frame.knownSize();
    const background = colorOrThrow(p.background);
    const { width, height } = targetSize(p);
    // The resampler cuts a cover's middle only: other positions are libvips'.
    if (size && (frame.channels === 1 || frame.channels === 3) && p.kernel !== 'nearest' && !(p.fit === 'contain' && background.alpha !== 1) && p.position === 'center') {
      const geometry = resizeGeometry(size, p);
      const fresh = frame.canTake('extract');
      // Fresh from the decoder, a small image's cover is the centred box cut in whole source pixels
      // (a fraction of an output pixel off), then filled to the size, in the decoder's pipeline.
      if (fresh && smallCover(size, geometry) && !enlarges(size, geometry)) {
        const region = wholePixels(coverBox(size, geometry)!);
        return frame.pipe('resize', (image) => image.extract(region).resize({ width: geometry.output.width, height: geometry.output.height, fit: 'fill', kernel: p.kernel }), () => geometry.output);
      }
      if (resizesInResampler(size, geometry, fresh)) {
        const from = resamplerSource(size, geometry);
        if (fitsResampler(from, geometry.resized, p.kernel)) {
          const decoded = from.width === size.width && from.height === size.height ? frame
            : await frame.pipe('resize', (image) => image.resize({ width: from.width, height: from.height, fit: 'fill', kernel: p.kernel, ...loadedWhole(frame, size, from) }), () => from);
          return Frame.fromRaw(resizeColourOrGrey(await decoded.raw(), geometry, p.kernel, background));
        }
      }
    }
    return frame.pipe(this.stage!, (image) => image.resize({
      width,
      height,
      fit: p.fit,
      ...(p.fit === 'cover' && p.position !== 'center' ? { position: p.position } : {}),
      kernel: p.kernel,
      withoutEnlargement: !p.enlarge,
      ...(size ? loadedWhole(frame, size, resizeGeometry(size, p).resized) : {}),
      // Only padding uses it; sharp parses a colour given to it with a library of its own, a
      // good part of a millisecond of JavaScript per image.
      ...(p.fit === 'contain' ? { background } : {}),
    }), (input) => resizeGeometry(input, p).output);
  },
};

/**
 * Covers of images up to this size are cut from the centred box, as Pillow's ImageOps.fit cuts
 * it: in whole source pixels before libvips resizes (first step), or by the resampler in
 * fractions of a pixel (after other steps). libvips alone cuts whole pixels of its scaled
 * image, up to half an output pixel off centre: 1.7 dB below Pillow on 500×375 → 300×200,
 * linear (bench/README.md). libvips decodes every pixel of such an image anyway; a larger
 * JPEG it shrinks on load, which a region cut first would forgo.
 */
const SMALL_COVER_PIXELS = 400_000;

/**
 * A larger image's cover is first resized by libvips (shrinking on load) to this much more than
 * the resize's own scale, and the resampler makes the rest, cutting the box in fractions of a
 * pixel. 1600×1200 photos to 400×400 covers (bench/lane-quality.js): 2.3 dB below Pillow in
 * whole pixels, 0.2 dB with 1.25 and 0.1 with 2; camera photos took 20–23 ms an image against
 * 14–16 in whole pixels.
 */
const RESAMPLER_MARGIN = 1.25;

/** A whole-pixel crop this far off the centre, in output pixels, is left to libvips. */
const CENTRE_TOLERANCE = 0.1;

/**
 * Below this shrink, a decoder that averages on load (libwebp's scaler) is kept from it and
 * libvips resizes the whole pixels with the kernel. After a JPEG encode, against a float
 * reference (bench/lane-quality.js): at 1.9–2× (500×375 WebPs to 256 px, 1600×1200 ones to a
 * 640 px outside fit) libwebp's scaler was 0.38–0.51 dB below Pillow, the whole pixels 0.16–0.22;
 * at 2.3× 0.14 dB; at 5× and more 0.06–0.23 dB, where the whole decode costs most (1600×1200
 * to 640 px inside, 2.5×: 31–36 ms an image against 20–22).
 */
const AVERAGED_SHRINK_LIMIT = 2.5;

/** sharp's option that keeps the decoder of a fresh `frame` from averaging a small shrink from `input` to `to` on load. */
function loadedWhole(frame: Frame, input: Size, to: Size): { fastShrinkOnLoad?: false } {
  const shrink = Math.min(input.width / to.width, input.height / to.height);
  return frame.averagesOnLoad && shrink > 1 && shrink < AVERAGED_SHRINK_LIMIT ? { fastShrinkOnLoad: false } : {};
}

/**
 * Whether a resize of decoded colour or grey pixels of `input` to `geometry` is made by the
 * resampler on the calling thread, for its last part at least, instead of libvips: an
 * enlargement, a small image's cover after other steps (`fresh`: the first step, whose cover
 * libvips cuts from the decoder), and a larger image's cover whose whole-pixel crop would be off
 * centre.
 */
export function resizesInResampler(input: Size, geometry: ResizeGeometry, fresh: boolean): boolean {
  if (enlarges(input, geometry)) return true;
  if (smallCover(input, geometry)) return !fresh;
  return offCentre(input, geometry);
}

/** What the resampler starts from: the whole pixels, or, for a larger image, libvips' resize to RESAMPLER_MARGIN times the size. */
function resamplerSource(input: Size, geometry: ResizeGeometry): Size {
  if (enlarges(input, geometry) || smallCover(input, geometry)) return input;
  const { resized } = geometry;
  return {
    width: Math.min(input.width, Math.round(resized.width * RESAMPLER_MARGIN)),
    height: Math.min(input.height, Math.round(resized.height * RESAMPLER_MARGIN)),
  };
}

function smallCover(input: Size, geometry: ResizeGeometry): boolean {
  return geometry.crop !== undefined && input.width * input.height <= SMALL_COVER_PIXELS;
}

function enlarges(input: Size, geometry: ResizeGeometry): boolean {
  return geometry.resized.width > input.width || geometry.resized.height > input.height;
}

/** Whether libvips' crop of the cover, in whole pixels of the scaled image, is off the exact centre. */
function offCentre(input: Size, geometry: ResizeGeometry): boolean {
  const { crop } = geometry;
  if (!crop) return false;
  const scale = Math.max(crop.width / input.width, crop.height / input.height);
  const off = (side: number, left: number, cropped: number) => Math.abs(left - (side * scale - cropped) / 2);
  return off(input.width, crop.left, crop.width) > CENTRE_TOLERANCE || off(input.height, crop.top, crop.height) > CENTRE_TOLERANCE;
}

/** A box in source pixels, centred as it was, to whole pixels. */
function wholePixels(box: { left: number; top: number; width: number; height: number }): { left: number; top: number; width: number; height: number } {
  const width = Math.round(box.width);
  const height = Math.round(box.height);
  return { left: Math.round(box.left + (box.width - width) / 2), top: Math.round(box.top + (box.height - height) / 2), width, height };
}

/**
 * Where a resize puts the pixels, exactly as sharp computes it: the image is scaled to
 * `resized`, then cut to the `crop` window of it (cover), or laid at `embed` on a canvas of the
 * background (contain), giving `output`. A JPEG is first shrunk on load by 2, 4 or 8 when the
 * scale allows (libvips keeps the whole pixels of the smaller image), and sharp computes the
 * remaining scale from that, which can move a side by a pixel: pass `jpeg` to follow it.
 */
export interface ResizeGeometry {
  /** The JPEG shrink-on-load factor libvips uses (1 when it decodes every pixel). */
  shrinkOnLoad: number;
  resized: Size;
  crop?: Rect;
  embed?: Rect;
  output: Size;
}

interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

type GeometryParams = Pick<ResizeParams, 'width' | 'height' | 'fit' | 'enlarge'> & Partial<Pick<ResizeParams, 'dpr'>>;

/** The width and height asked for, in device pixels (times dpr, rounded). */
export function targetSize(p: GeometryParams): Pick<ResizeParams, 'width' | 'height'> {
  const dpr = p.dpr ?? 1;
  const scale = (side: number | undefined) => (side === undefined ? undefined : Math.max(1, Math.round(side * dpr)));
  return { width: scale(p.width), height: scale(p.height) };
}

/**
 * The crop of a cover as sharp computes it for the center; other positions are computed by
 * libvips (the crop's size is the same, only its place differs).
 */
export function resizeGeometry(input: Size, asked: GeometryParams, jpeg = false): ResizeGeometry {
  const p = { ...asked, ...targetSize(asked) };
  let source = input;
  let shrinkOnLoad = 1;
  if (jpeg) {
    const [h, v] = resolveShrink(input, p);
    const shrink = Math.min(h, v);
    shrinkOnLoad = shrink >= 8 ? 8 : shrink >= 4 ? 4 : shrink >= 2 ? 2 : 1;
    // sharp steps back where libjpeg's rounding would leave too little.
    if (shrinkOnLoad > 1 && Math.trunc(shrink) === shrinkOnLoad) shrinkOnLoad /= 2;
    source = { width: Math.floor(input.width / shrinkOnLoad), height: Math.floor(input.height / shrinkOnLoad) };
  }
  const [h, v] = resolveShrink(source, p);
  // libvips' resize rounds the scaled size half up.
  const resized = h === 1 && v === 1 ? source : {
    width: Math.floor(source.width * (1 / h) + 0.5),
    height: Math.floor(source.height * (1 / v) + 0.5),
  };
  let width = p.width ?? resized.width;
  let height = p.height ?? resized.height;
  if (resized.width === width && resized.height === height) return { shrinkOnLoad, resized, output: resized };
  if (p.fit === 'contain') {
    const embed = { left: Math.trunc((width - resized.width) / 2), top: Math.trunc((height - resized.height) / 2), ...resized };
    return { shrinkOnLoad, resized, embed, output: { width: Math.max(width, resized.width), height: Math.max(height, resized.height) } };
  }
  if (p.fit === 'cover') {
    width = Math.min(width, resized.width);
    height = Math.min(height, resized.height);
    const crop = { left: Math.trunc((resized.width - width + 1) / 2), top: Math.trunc((resized.height - height + 1) / 2), width, height };
    return { shrinkOnLoad, resized, crop, output: { width, height } };
  }
  return { shrinkOnLoad, resized, output: resized };
}

/** sharp's horizontal and vertical shrink factors for a size and the resize's targets. */
function resolveShrink(input: Size, p: GeometryParams): [number, number] {
  let h = 1;
  let v = 1;
  if (p.width !== undefined && p.height !== undefined) {
    h = input.width / p.width;
    v = input.height / p.height;
    if (p.fit === 'cover' || p.fit === 'outside') h = v = Math.min(h, v);
    else if (p.fit === 'contain' || p.fit === 'inside') h = v = Math.max(h, v);
  } else if (p.width !== undefined) {
    h = input.width / p.width;
    if (p.fit !== 'fill') v = h;
  } else if (p.height !== undefined) {
    v = input.height / p.height;
    if (p.fit !== 'fill') h = v;
  }
  if (!p.enlarge) {
    h = Math.max(1, h);
    v = Math.max(1, v);
  }
  return [Math.min(h, input.width), Math.min(v, input.height)];
}
