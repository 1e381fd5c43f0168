import { readFileSync, statSync } from 'node:fs';
import type { Metadata, Sharp } from 'sharp';
import { loadSharp } from './sharp-module.js';
import { ImgfleetError } from '../errors.js';
import { readHead } from '../io/read-head.js';
import { checkFileSize, checkInputPixels, type Limits } from '../limits.js';
import { boundedByDeadline, isKilled } from './deadline.js';
import { supportedFormats } from './formats.js';
import { Frame, NO_SHRINK_ON_LOAD, type Channels, type ShrinkOnLoad } from './frame.js';
import { quickHeader } from './quick-header.js';

export const INPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'tiff', 'gif', 'svg', 'jxl'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

export interface ImageHeader {
  format: InputFormat;
  /** Size after EXIF orientation is applied. */
  width: number;
  height: number;
  channels: number;
  hasAlpha: boolean;
  /** An ICC profile is embedded: pixels are used as stored, and the profile travels to the output. */
  hasIcc: boolean;
  /** Not 8-bit sRGB or grey (16-bit, CMYK, …): decoding converts it to 8-bit. */
  converts: boolean;
  /** The EXIF orientation decoding applies (1: stored upright). */
  orientation: number;
  /** The dots per inch an SVG is drawn at; its width and height are the drawn size. */
  density?: number;
  /** Frames of an animated GIF or WebP, as its header counts them; 1 for a still image. */
  frames: number;
  /** An animation's timing: each frame's delay in milliseconds, and the loop count (0: forever). */
  animation?: Animation;
}

export interface Animation {
  delay: number[];
  loop: number;
}

/** Input formats whose several frames are an animation (a TIFF's pages are not). */
const ANIMATED_FORMATS: readonly InputFormat[] = ['gif', 'webp'];

/** How to read an input: `density` for an SVG (see INPUT_PARAMS). */
export interface ReadOptions {
  density?: number;
}

/** The density at which an SVG's declared size is its size in pixels, as CSS has it. */
export const SVG_DENSITY = 72;

/** Image bytes in memory, or the path of a file that libvips reads as it needs (large images). */
export type ImageSource = Buffer | string;

export function sourceBytes(input: ImageSource): number {
  return typeof input === 'string' ? statSync(input).size : input.length;
}

/**
 * Reads only the header, and refuses what is empty, not an image, unsupported or too large.
 * An SVG's size is the size it declares (width and height, or its viewBox) at `density`: the
 * pixel limit is checked against it before anything is drawn. `head`: a file's first bytes
 * (readHead), when the caller has read them already.
 */
export async function probe(input: ImageSource, limits: Limits, read: ReadOptions = {}, head?: Buffer): Promise<ImageHeader> {
  checkFileSize(sourceBytes(input), limits);
  const quick = quickHeader(typeof input === 'string' ? head ?? readHead(input) : input);
  if (quick) {
    checkInputPixels(quick.width, quick.height, limits);
    const swapped = quick.orientation >= 5;
    return {
      format: quick.format, width: swapped ? quick.height : quick.width, height: swapped ? quick.width : quick.height,
      channels: quick.channels, hasAlpha: quick.hasAlpha, hasIcc: quick.hasIcc, converts: quick.converts, orientation: quick.orientation, frames: 1,
    };
  }
  let metadata: Metadata;
  try {
    metadata = await loadSharp()(input, { limitInputPixels: false, density: read.density ?? SVG_DENSITY }).metadata();
  } catch (error) {
    throw decodeError(error);
  }
  const format = inputFormatOf(metadata);
  if (!format) {
    throw new ImgfleetError('UNSUPPORTED_FORMAT',
      `unsupported image format ${metadata.format ?? 'unknown'} (accepted: ${supportedFormats().read.join(', ')})`);
  }
  const { width, height } = metadata;
  if (!width || !height) throw new ImgfleetError('CORRUPT_IMAGE', 'corrupt image: the header gives no size');
  checkInputPixels(width, height, limits);
  const swapped = (metadata.orientation ?? 1) >= 5;
  const { depth, space } = metadata;
  const eightBit = depth === undefined || depth === 'uchar' || depth === 'char';
  if (format === 'svg') {
    return { format, width, height, channels: 4, hasAlpha: true, hasIcc: false, converts: false, orientation: 1, frames: 1, density: read.density ?? SVG_DENSITY };
  }
  const frames = ANIMATED_FORMATS.includes(format) ? Math.max(1, metadata.pages ?? 1) : 1;
  return {
    format,
    width: swapped ? height : width,
    height: swapped ? width : height,
    channels: metadata.channels ?? 3,
    hasAlpha: metadata.hasAlpha ?? false,
    hasIcc: Boolean(metadata.icc),
    converts: !(eightBit && (space === 'srgb' || space === 'b-w' || space === undefined)),
    orientation: metadata.orientation ?? 1,
    frames,
    ...(frames > 1 ? { animation: { delay: frameDelays(metadata.delay, frames), loop: metadata.loop ?? 0 } } : {}),
  };
}

/** One delay per frame: libvips gives one per frame, or none (then 100 ms, as browsers take a missing delay). */
function frameDelays(delay: number[] | undefined, frames: number): number[] {
  return Array.from({ length: frames }, (_, i) => delay?.[i] ?? 100);
}

function inputFormatOf(metadata: Metadata): InputFormat | undefined {
  if (metadata.format === 'heif') return metadata.compression === 'av1' ? 'avif' : undefined;
  return (INPUT_FORMATS as readonly string[]).includes(metadata.format ?? '') ? metadata.format as InputFormat : undefined;
}

/**
 * Opens the image for decoding: EXIF orientation applied, first page only, and anything that
 * is not 8-bit sRGB or grey (16-bit, CMYK, …) converted to it, so every operation sees 8-bit.
 */
export function open(input: ImageSource, header: ImageHeader, limits: Limits): Frame {
  const image: Sharp = boundedByDeadline(loadSharp()(header.format === 'svg' ? detachedSvg(input) : input, {
    density: header.density,
    autoOrient: true,
    // Pixels are used as stored, as Pillow does; the profile travels to the output instead.
    ignoreIcc: true,
    failOn: 'warning',
    limitInputPixels: limits.maxInputPixels,
    sequentialRead: true,
  }));
  const grey = header.channels - (header.hasAlpha ? 1 : 0) === 1;
  const channels = ((grey ? 1 : 3) + (header.hasAlpha ? 1 : 0)) as Channels;
  if (!header.converts) return Frame.open(image, { width: header.width, height: header.height }, channels, shrinkOnLoad(header.format, header.orientation));
  return Frame.converted(image.toColourspace(grey ? 'b-w' : 'srgb'), channels);
}

/**
 * How libvips shrinks this format on load. libwebp averages with a scaler of its own
 * (WebPRescaler) instead of the resize's kernel: 0.5 dB below Pillow's Lanczos on small photos
 * to 256 px (bench/README.md). libjpeg's DCT scaling is within 0.2 dB of it, but libvips keeps
 * whole blocks only: a side that is not a multiple of the shrink loses its partial last one,
 * and sharp stretches the rest over the whole.
 */
export function shrinkOnLoad(format: InputFormat, orientation: number): ShrinkOnLoad {
  if (format === 'webp') return { by: 'averaging' };
  if (format === 'jpeg') return { by: 'whole-blocks', orientation };
  return NO_SHRINK_ON_LOAD;
}

/**
 * An SVG's bytes, never its path: librsvg resolves an SVG's references to other files against
 * the file's own location, and bytes have none, so an SVG can draw only what it holds itself
 * (nothing from the network is ever fetched either way).
 */
export function detachedSvg(input: ImageSource): Buffer {
  return typeof input === 'string' ? readFileSync(input) : input;
}

/** Turns a libvips decode failure into a clear, permanent error. */
export function decodeError(error: unknown): ImgfleetError {
  if (error instanceof ImgfleetError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/unsupported image format/i.test(message)) {
    return new ImgfleetError('NOT_AN_IMAGE', 'not an image: the content matches no known image format', { cause: error });
  }
  if (/pixel limit/i.test(message)) return new ImgfleetError('TOO_MANY_PIXELS', message, { cause: error });
  if (isKilled(message)) return new ImgfleetError('TIMEOUT', 'the time for this image ran out, and its work was stopped', { cause: error });
  const detail = message.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 2).join('; ');
  return new ImgfleetError('CORRUPT_IMAGE', `corrupt or truncated image: ${detail}`, { cause: error });
}
