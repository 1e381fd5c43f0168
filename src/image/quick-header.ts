/**
 * The header of the commonest inputs read from their first bytes, without a libvips call:
 * plain 8-bit JPEGs (grey or colour), PNGs and still WebPs. Asking libvips for the header costs
 * a pipeline's set-up and a millisecond of JavaScript per image, as much as the rest of a small
 * image's work. Anything unusual (CMYK, 12-bit, arithmetic coding, EXIF in a PNG or a WebP, an
 * animation, a header past the bytes given) gives undefined, and libvips is asked instead.
 */
import { readJpegHeader } from './jpeg-header.js';

export interface QuickHeader {
  format: 'jpeg' | 'png' | 'webp';
  /** As stored, before EXIF orientation. */
  width: number;
  height: number;
  orientation: number;
  channels: number;
  hasAlpha: boolean;
  hasIcc: boolean;
  /** Not 8-bit: decoding converts it (16-bit PNGs). */
  converts: boolean;
}

export function quickHeader(head: Buffer): QuickHeader | undefined {
  return jpegHeader(head) ?? pngHeader(head) ?? webpHeader(head);
}

function jpegHeader(head: Buffer): QuickHeader | undefined {
  const jpeg = readJpegHeader(head);
  if (!jpeg || jpeg.precision !== 8 || (jpeg.components !== 1 && jpeg.components !== 3)) return undefined;
  if (jpeg.width === 0 || jpeg.height === 0) return undefined;
  return {
    format: 'jpeg', width: jpeg.width, height: jpeg.height, orientation: jpeg.orientation,
    channels: jpeg.components, hasAlpha: false, hasIcc: jpeg.hasIcc, converts: false,
  };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Colour type → channels as libvips loads it (palettes become RGB), and whether it has alpha. */
const PNG_COLOURS: Record<number, { channels: number; alpha: boolean }> = {
  0: { channels: 1, alpha: false }, 2: { channels: 3, alpha: false }, 3: { channels: 3, alpha: false },
  4: { channels: 2, alpha: true }, 6: { channels: 4, alpha: true },
};

function pngHeader(head: Buffer): QuickHeader | undefined {
  if (head.length < 33 || !head.subarray(0, 8).equals(PNG_SIGNATURE) || head.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  const width = head.readUInt32BE(16);
  const height = head.readUInt32BE(20);
  const depth = head[24];
  const colour = PNG_COLOURS[head[25]];
  if (!colour || width === 0 || height === 0 || head[28] !== 0 || ![1, 2, 4, 8, 16].includes(depth)) return undefined;
  let hasIcc = false;
  let transparency = false;
  // The chunks before the first IDAT say whether there is a profile or a transparent colour.
  for (let at = 33; ; ) {
    if (at + 8 > head.length) return undefined;
    const length = head.readUInt32BE(at);
    const type = head.toString('latin1', at + 4, at + 8);
    if (type === 'IDAT') break;
    if (type === 'iCCP') hasIcc = true;
    else if (type === 'tRNS') transparency = true;
    else if (type === 'eXIf' || type === 'acTL') return undefined;
    at += 12 + length;
  }
  const alpha = colour.alpha || transparency;
  return {
    format: 'png', width, height, orientation: 1,
    channels: colour.channels + (!colour.alpha && transparency ? 1 : 0), hasAlpha: alpha, hasIcc, converts: depth === 16,
  };
}

/** VP8X flags: an ICC profile, alpha, EXIF (which may turn the image), an animation. */
const VP8X_ICC = 0x20;
const VP8X_ALPHA = 0x10;
const VP8X_EXIF = 0x08;
const VP8X_ANIMATION = 0x02;

/**
 * A WebP's first chunk: a lossy frame (VP8, never alpha), a lossless one (VP8L, with its alpha
 * bit) or the extended header (VP8X: canvas size and flags). libvips always loads RGB or RGBA.
 */
function webpHeader(head: Buffer): QuickHeader | undefined {
  if (head.length < 30 || head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WEBP') return undefined;
  const chunk = head.toString('latin1', 12, 16);
  let width: number;
  let height: number;
  let hasAlpha = false;
  let hasIcc = false;
  if (chunk === 'VP8 ') {
    if (head[23] !== 0x9d || head[24] !== 0x01 || head[25] !== 0x2a) return undefined;
    width = head.readUInt16LE(26) & 0x3fff;
    height = head.readUInt16LE(28) & 0x3fff;
  } else if (chunk === 'VP8L') {
    if (head[20] !== 0x2f) return undefined;
    const bits = head.readUInt32LE(21);
    width = (bits & 0x3fff) + 1;
    height = ((bits >>> 14) & 0x3fff) + 1;
    hasAlpha = ((bits >>> 28) & 1) === 1;
  } else if (chunk === 'VP8X') {
    const flags = head[20];
    if (flags & (VP8X_ANIMATION | VP8X_EXIF)) return undefined;
    width = head.readUIntLE(24, 3) + 1;
    height = head.readUIntLE(27, 3) + 1;
    hasAlpha = (flags & VP8X_ALPHA) !== 0;
    hasIcc = (flags & VP8X_ICC) !== 0;
  } else {
    return undefined;
  }
  if (width === 0 || height === 0) return undefined;
  return { format: 'webp', width, height, orientation: 1, channels: hasAlpha ? 4 : 3, hasAlpha, hasIcc, converts: false };
}
