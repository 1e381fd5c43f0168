/**
 * Plain lossy WebPs decoded by the system's libwebp (libwebp.ts), without libvips, whose WebP
 * loader takes a small photo several times as long as libwebp's own decode (bench/README.md).
 * Only the simple lossy format is taken: one VP8 frame, which has no alpha, no profile and no
 * metadata, so that its pixels are exactly what libvips would decode. Lossless, extended and
 * animated files stay with libvips.
 */
import { libwebp } from './libwebp.js';
import { quickHeader } from './quick-header.js';

/** A plain lossy WebP's size, from its first bytes. */
export interface PlainWebp {
  width: number;
  height: number;
}

/** libwebp could not read the file: the caller lets libvips try it, and explain it when it is broken. */
export class WebpRefused extends Error {}

export function libwebpAvailable(): boolean {
  return libwebp() !== null;
}

/** The size of a simple lossy WebP (RIFF, WEBP, then one 'VP8 ' chunk) from its first bytes; undefined for anything else. */
export function readPlainWebp(head: Uint8Array): PlainWebp | undefined {
  const bytes = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (bytes.toString('latin1', 12, 16) !== 'VP8 ') return undefined;
  const header = quickHeader(bytes);
  return header?.format === 'webp' ? { width: header.width, height: header.height } : undefined;
}

/**
 * Decodes a plain lossy WebP into `into`: RGBX (`channels` 4, the fourth byte 255) or RGB (3),
 * exactly width × height pixels. Throws WebpRefused when the file is not the plain WebP its first
 * bytes promised, its size differs from `expected`, or libwebp cannot decode it.
 */
export function decodeWebpInto(input: Uint8Array, into: Uint8Array, channels: 3 | 4, expected: PlainWebp): void {
  const decoder = libwebp();
  if (!decoder) throw new WebpRefused('libwebp is not available');
  const plain = readPlainWebp(input);
  if (!plain || plain.width !== expected.width || plain.height !== expected.height) throw new WebpRefused('not the plain lossy WebP its header promised');
  const width = [0];
  const height = [0];
  if (!decoder.getInfo(input, input.length, width, height) || width[0] !== plain.width || height[0] !== plain.height) {
    throw new WebpRefused('libwebp cannot read its header');
  }
  const bytes = plain.width * plain.height * channels;
  if (into.length < bytes) throw new RangeError('decode buffer too small');
  if (!decoder.decodeInto[channels](input, input.length, into, bytes, plain.width * channels)) throw new WebpRefused('libwebp cannot decode it');
}
