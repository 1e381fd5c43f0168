import { colorOrThrow } from '../image/color.js';
import { Frame, NO_SHRINK_ON_LOAD, type ShrinkOnLoad } from '../image/frame.js';
import { coverBox, fitsResampler, resizeColourOrGrey } from '../image/resample/resize-pixels.js';
import type { KernelName } from '../image/resample/kernels.js';
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
    const size = frame.knownSize();
    const background = colorOrThrow(p.background);
    const { width, height } = targetSize(p);
    const onLoad = frame.shrinkOnLoad;
    const route = size ? resizeRoute(size, p, frame.channels, frame.canTake('extract'), onLoad) : LIBVIPS;
    if (size && route.by === 'box-then-libvips') {
      const { output } = resizeGeometry(size, p);
      return frame.pipe('resize', (image) => image.extract(route.region).resize({ width: output.width, height: output.height, fit: 'fill', kernel: p.kernel }), () => output);
    }
    if (size && route.by === 'resampler') {
      const { from, kernel } = route;
      const geometry = resizeGeometry(size, p);
      const box = coverBox(size, geometry);
      if (from.width === size.width && from.height === size.height) return Frame.fromRaw(resizeColourOrGrey(await frame.raw(), geometry, kernel, background, box));
      const copy = await frame.pipe('resize', (image) => image.resize({ width: from.width, height: from.height, fit: 'fill', kernel }), () => from);
      const whole = box ?? { left: 0, top: 0, ...size };
      return Frame.fromRaw(resizeColourOrGrey(await copy.raw(), geometry, kernel, background, scaledBox(whole, copiedExtent(size, from, onLoad), from)));
    }
    return frame.pipe(this.stage!, (image) => image.resize({
      width,
      height,
      fit: p.fit,
      ...(p.fit === 'cover' && p.position !== 'center' ? { position: p.position } : {}),
      kernel: p.kernel,
      withoutEnlargement: !p.enlarge,
      ...(size ? loadedWhole(onLoad, size, resizeGeometry(size, p).resized) : {}),
      // Only padding uses it; sharp parses a colour given to it with a library of its own, a
      // good part of a millisecond of JavaScript per image.
      ...(p.fit === 'contain' ? { background } : {}),
    }), (input) => resizeGeometry(input, p).output);
  },
};

/**
 * How a resize of `input` is made. libvips enlarges through a 2-D interpolator half a pixel off
 * Pillow's grid, 6 dB below Pillow; cuts a cover from whole pixels of the scaled image, up to
 * half an output pixel off centre; and, shrinking a JPEG on load, leaves out its partial last
 * block (bench/README.md). So, for colour or grey pixels and the kernels the resampler has: an
 * enlargement takes the resampler (up to RESAMPLER_MAX_PIXELS); a cover is cut from the centred box in whole
 * source pixels before libvips resizes it, when it is the first step (`fresh`) and libvips decodes
 * every pixel anyway (a small image, or a format it does not shrink on load, such as PNG), or by
 * the resampler after other steps when the image is small; a larger image's cover that
 * libvips would cut off centre, or a cover or fill of a JPEG it would cut short (`onLoad`, the
 * fresh frame's), is resized by libvips to RESAMPLER_MARGIN times its scale, and the resampler
 * cuts the box from that. The rest is libvips' alone.
 */
export function resizeRoute(input: Size, p: ResizeParams, channels: number, fresh: boolean, onLoad = NO_SHRINK_ON_LOAD): ResizeRoute {
  // The resampler cuts a cover's middle only: other positions are libvips'.
  const { kernel } = p;
  if ((channels !== 1 && channels !== 3) || kernel === 'nearest' || p.position !== 'center') return LIBVIPS;
  if (p.fit === 'contain' && colorOrThrow(p.background).alpha !== 1) return LIBVIPS;
  const geometry = resizeGeometry(input, p);
  const resampler = (from: Size): ResizeRoute => {
    const largest = Math.max(from.width * from.height, geometry.resized.width * geometry.resized.height);
    return largest <= RESAMPLER_MAX_PIXELS && fitsResampler(from, geometry.resized, kernel) ? { by: 'resampler', from, kernel } : LIBVIPS;
  };
  if (enlarges(input, geometry)) return resampler(input);
  const small = input.width * input.height <= SMALL_COVER_PIXELS;
  // Cutting first keeps libvips from shrinking on load; where it would not, cutting first costs nothing.
  if (geometry.crop && fresh && (small || onLoad.by === 'none')) return { by: 'box-then-libvips', region: wholePixels(coverBox(input, geometry)!) };
  if (geometry.crop && small) return resampler(input);
  if (!offCentre(input, geometry) && !dropsBlocks(input, p, geometry, onLoad)) return LIBVIPS;
  const from = marginSize(input, geometry);
  return resampler(from);
}

export type ResizeRoute = { by: 'libvips' } | { by: 'box-then-libvips'; region: Rect } | { by: 'resampler'; from: Size; kernel: KernelName };
const LIBVIPS: ResizeRoute = { by: 'libvips' };

/** Covers of images up to this size are cut from the centred box in whole source pixels by libvips (see resizeRoute). */
const SMALL_COVER_PIXELS = 400_000;

/**
 * A larger image's cover is first resized by libvips (shrinking on load) to this much more than
 * the cover's scale, and the resampler makes the rest, cutting the box in fractions of a pixel.
 * 1600×1200 photos to 400×400 covers (bench/lane-quality.js): 2.3 dB below Pillow in whole
 * pixels, 0.02 dB this way; camera photos took 19–21 ms an image against 14–15 in whole pixels.
 */
const RESAMPLER_MARGIN = 1.25;

/** Nearer the whole image than this, libvips' first pass would only blur it: the resampler takes the whole pixels. */
const WHOLE_WITHIN = 0.8;

/**
 * The resampler's memory grows to the largest image it is given or makes, and stays so: a resize
 * from or to more pixels is libvips' (a cover: its crop in whole pixels; an enlargement: its
 * interpolator).
 */
const RESAMPLER_MAX_PIXELS = 4_000_000;

/** A whole-pixel crop this far off the centre, in output pixels, is left to libvips. */
const CENTRE_TOLERANCE = 0.1;

/** What the resampler starts from for a larger image's resize: the image at RESAMPLER_MARGIN times its scale, or whole. */
function marginSize(input: Size, geometry: ResizeGeometry): Size {
  const scale = outputScale(input, geometry) * RESAMPLER_MARGIN;
  const from = { width: Math.round(input.width * scale), height: Math.round(input.height * scale) };
  return from.width >= input.width * WHOLE_WITHIN || from.height >= input.height * WHOLE_WITHIN ? input : from;
}

/** The exact scale of a cover: the larger of the crop's sides over the image's. */
function coverScale(input: Size, crop: Size): number {
  return Math.max(crop.width / input.width, crop.height / input.height);
}

/** The larger scale of a resize: a cover's exact one, else the larger of its sides'. */
function outputScale(input: Size, geometry: ResizeGeometry): number {
  return coverScale(input, geometry.crop ?? geometry.resized);
}

/** A box in the image's pixels mapped onto `to`, libvips' copy of its `extent` (each side scaled on its own, as libvips fills). */
function scaledBox(box: Rect, extent: Rect, to: Size): Rect {
  const x = to.width / extent.width;
  const y = to.height / extent.height;
  return { left: (box.left - extent.left) * x, top: (box.top - extent.top) * y, width: box.width * x, height: box.height * y };
}

/** The part of `input` that libvips' copy of it at `to` holds: a fresh JPEG's whole blocks at the copy's shrink on load, else all of it. */
function copiedExtent(input: Size, to: Size, onLoad: ShrinkOnLoad): Rect {
  if (onLoad.by !== 'whole-blocks') return { left: 0, top: 0, ...input };
  const { shrinkOnLoad } = resizeGeometry(input, { width: to.width, height: to.height, fit: 'fill', enlarge: true }, true);
  return loadedExtent(input, shrinkOnLoad, onLoad.orientation);
}

/**
 * The part of an oriented JPEG that libvips decodes at 1/`shrink`: whole blocks only. The
 * stored image's partial last column and row are left out; its orientation may turn them to
 * the left (mirrored or turned: 2, 3, 6, 7) and the top (3, 4, 7, 8).
 */
function loadedExtent(input: Size, shrink: number, orientation: number): Rect {
  const width = Math.floor(input.width / shrink) * shrink;
  const height = Math.floor(input.height / shrink) * shrink;
  const left = [2, 3, 6, 7].includes(orientation) ? input.width - width : 0;
  const top = [3, 4, 7, 8].includes(orientation) ? input.height - height : 0;
  return { left, top, width, height };
}

/**
 * Whether libvips' cover or fill of a fresh JPEG it shrinks on load leaves out more than
 * CENTRE_TOLERANCE of an output pixel: sharp stretches the whole blocks over the whole output,
 * up to half an output pixel off at the far side (1600×1067 at 1/4 → 300×200: 0.56 pixel).
 * The other fits keep libvips' size, which comes from the whole blocks.
 */
function dropsBlocks(input: Size, p: ResizeParams, geometry: ResizeGeometry, onLoad: ShrinkOnLoad): boolean {
  if (onLoad.by !== 'whole-blocks' || (p.fit !== 'cover' && p.fit !== 'fill')) return false;
  const extent = loadedExtent(input, resizeGeometry(input, p, true).shrinkOnLoad, onLoad.orientation);
  const leftOut = Math.max(input.width - extent.width, input.height - extent.height);
  return leftOut * outputScale(input, geometry) > CENTRE_TOLERANCE;
}

/**
 * Below this shrink, a decoder that averages on load (libwebp's scaler) is kept from it and
 * libvips resizes the whole pixels with the kernel. After a JPEG encode, against a float
 * reference (bench/lane-quality.js): at 1.9–2× (500×375 WebPs to 256 px, 1600×1200 ones to a
 * 640 px outside fit) libwebp's scaler was 0.38–0.51 dB below Pillow, the whole pixels 0.16–0.22;
 * at 2.3× 0.14 dB; at 5× and more 0.06–0.23 dB, where the whole decode costs most (1600×1200
 * to 640 px inside, 2.5×: 31–36 ms an image against 20–22).
 */
const AVERAGED_SHRINK_LIMIT = 2.5;

/** sharp's option that keeps a decoder that averages on load from averaging a small shrink from `input` to `to`. */
function loadedWhole(onLoad: ShrinkOnLoad, input: Size, to: Size): { fastShrinkOnLoad?: false } {
  const shrink = Math.min(input.width / to.width, input.height / to.height);
  return onLoad.by === 'averaging' && shrink > 1 && shrink < AVERAGED_SHRINK_LIMIT ? { fastShrinkOnLoad: false } : {};
}

export function enlarges(input: Size, geometry: ResizeGeometry): boolean {
  return geometry.resized.width > input.width || geometry.resized.height > input.height;
}

/**
 * Whether libvips' crop of the cover, in whole pixels of the scaled image, is off the exact
 * centre. Unscaled, the crop is whole pixels in every lane.
 */
function offCentre(input: Size, geometry: ResizeGeometry): boolean {
  const { crop, resized } = geometry;
  if (!crop || (resized.width === input.width && resized.height === input.height)) return false;
  const scale = coverScale(input, crop);
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
