/**
 * Plain lossy WebPs decoded by libwebp itself, without libvips, whose WebP loader takes a
 * small photo several times as long as libwebp's own decode (bench/README.md). The library is the
 * system's (Debian's libwebp7, which its security updates keep patched), called through koffi,
 * the optional dependency that already calls libjpeg-turbo. Without either, or with
 * IMGFLEET_LIBWEBP=off (src/config.ts), every WebP takes the libvips path, with the same meaning.
 *
 * Only the simple lossy format is taken: one VP8 frame, which has no alpha, no profile and no
 * metadata, so that its pixels are exactly what libvips would decode. Lossless, extended and
 * animated files stay with libvips.
 */
import { createRequire } from 'node:module';
import { processEnvironment } from '../config.js';
import { quickHeader } from './quick-header.js';

type Decode = (data: Uint8Array, size: number, into: Uint8Array, intoSize: number, stride: number) => unknown;

interface Libwebp {
  getInfo(data: Uint8Array, size: number, width: number[], height: number[]): number;
  decodeInto: Record<3 | 4, Decode>;
}

/** A plain lossy WebP's size, from its first bytes. */
export interface PlainWebp {
  width: number;
  height: number;
}

/** libwebp could not read the file: the caller lets libvips try it, and explain it when it is broken. */
export class WebpRefused extends Error {}

/** The shared library's names, newest first (libwebp 1.x is soname 7; 0.6 was 6). */
const LIBRARY_NAMES = ['libwebp.so.7', 'libwebp.so.6', 'libwebp.dylib'];

let loaded: Libwebp | null | undefined;

function libwebp(): Libwebp | null {
  if (loaded === undefined) {
    try {
      loaded = processEnvironment().libwebp ? load() : null;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

function load(): Libwebp | null {
  const require = createRequire(import.meta.url);
  const koffi = require('koffi') as typeof import('koffi');
  for (const name of LIBRARY_NAMES) {
    let lib: ReturnType<typeof koffi.load>;
    try {
      lib = koffi.load(name);
    } catch {
      continue;
    }
    const into = (layout: string): Decode => lib.func(`uint8_t *WebPDecode${layout}Into(const uint8_t *, size_t, uint8_t *, size_t, int)`);
    return {
      getInfo: lib.func('int WebPGetInfo(const uint8_t *, size_t, _Out_ int *, _Out_ int *)'),
      decodeInto: { 3: into('RGB'), 4: into('RGBA') },
    };
  }
  return null;
}

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
