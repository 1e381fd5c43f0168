/**
 * libjpeg-turbo without libvips' per-pipeline set-up: JPEG decoding straight into a caller's
 * buffer and encoding from one. Two optional dependencies bring it: @julusian/jpeg-turbo (a
 * prebuilt libjpeg-turbo and an encoder binding) and koffi, through which the decoder calls
 * that library's TurboJPEG 3 API itself, for the accurate IDCT (the binding's decoder is
 * hard-wired to the fast one, which costs a decibel against Pillow on enlargements). Without
 * either, or with IMGFLEET_JPEG_TURBO=off in the environment (see src/config.ts), every image
 * takes the libvips path instead, with the same meaning.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { processEnvironment } from '../config.js';

type Binding = typeof import('@julusian/jpeg-turbo');

interface TurboJpeg3 {
  handle: unknown;
  decompressHeader(handle: unknown, jpeg: Buffer, size: number): number;
  get(handle: unknown, param: number): number;
  decompress8(handle: unknown, jpeg: Buffer, size: number, into: Buffer, pitch: number, pixelFormat: number): number;
  errorText(handle: unknown): string;
}

interface Loaded {
  binding: Binding;
  tj3: TurboJpeg3;
}

let loaded: Loaded | null | undefined;

export function jpegTurboAvailable(): boolean {
  return jpegTurbo() !== null;
}

function jpegTurbo(): Loaded | null {
  if (loaded === undefined) {
    try {
      loaded = processEnvironment().jpegTurbo ? load() : null;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

/** The binding, and libjpeg-turbo's own decoder from the shared library it ships (on Linux). */
function load(): Loaded | null {
  const require = createRequire(import.meta.url);
  const binding = require('@julusian/jpeg-turbo') as Binding;
  const library = join(dirname(require.resolve('@julusian/jpeg-turbo')), 'prebuilds', `jpeg-turbo-${process.platform}-${process.arch}`, 'libturbojpeg.so.0');
  if (!existsSync(library)) return null;
  const koffi = require('koffi') as typeof import('koffi');
  const lib = koffi.load(library);
  const init = lib.func('void *tj3Init(int)');
  const errorText = lib.func('const char *tj3GetErrorStr(void *)');
  const tj3: TurboJpeg3 = {
    handle: init(TJINIT_DECOMPRESS),
    decompressHeader: lib.func('int tj3DecompressHeader(void *, const uint8_t *, size_t)'),
    get: lib.func('int tj3Get(void *, int)'),
    decompress8: lib.func('int tj3Decompress8(void *, const uint8_t *, size_t, uint8_t *, int, int)'),
    errorText: (handle) => String(errorText(handle)),
  };
  if (!tj3.handle) return null;
  return { binding, tj3 };
}

// From turbojpeg.h (libjpeg-turbo 3).
const TJINIT_DECOMPRESS = 1;
const TJPARAM_JPEGWIDTH = 5;
const TJPARAM_JPEGHEIGHT = 6;
const TJPARAM_PRECISION = 7;
const PIXEL_FORMAT = { rgb: 0, rgbx: 2, grey: 6 } as const;

/** libjpeg-turbo could not read the file: the caller lets libvips try it, and explain it when it is broken. */
export class JpegTurboRefused extends Error {}

export type TurboLayout = 'rgbx' | 'rgb' | 'grey';

function format(jt: Binding, layout: TurboLayout): number {
  return layout === 'rgbx' ? jt.FORMAT_RGBX : layout === 'rgb' ? jt.FORMAT_RGB : jt.FORMAT_GRAY;
}

/**
 * Decodes `input` into `into` (exactly width × height pixels of `layout`), with the accurate
 * IDCT. A warning (a truncated file, say) counts as a refusal, as libvips fails on warnings.
 */
export function decodeJpegInto(input: Buffer, into: Buffer, layout: TurboLayout, width: number, height: number): void {
  const { tj3 } = jpegTurbo()!;
  const { handle } = tj3;
  if (tj3.decompressHeader(handle, input, input.length) !== 0) throw new JpegTurboRefused(tj3.errorText(handle));
  if (tj3.get(handle, TJPARAM_JPEGWIDTH) !== width || tj3.get(handle, TJPARAM_JPEGHEIGHT) !== height || tj3.get(handle, TJPARAM_PRECISION) !== 8) {
    throw new JpegTurboRefused('header and image disagree');
  }
  if (into.length < width * height * (layout === 'rgbx' ? 4 : layout === 'rgb' ? 3 : 1)) throw new RangeError('decode buffer too small');
  if (tj3.decompress8(handle, input, input.length, into, 0, PIXEL_FORMAT[layout]) !== 0) throw new JpegTurboRefused(tj3.errorText(handle));
}

let scratch = Buffer.alloc(0);

/** Encodes pixels as JPEG: 4:2:0 chroma like libvips' default, grey as one channel. */
export function encodeJpeg(pixels: Buffer, layout: TurboLayout, width: number, height: number, quality: number): Buffer {
  const jt = jpegTurbo()!.binding;
  const options = {
    format: format(jt, layout), width, height, quality,
    subsampling: layout === 'grey' ? jt.SAMP_GRAY : jt.SAMP_420,
  };
  // The encoder wants room for the worst case; one scratch buffer per thread, then a copy of what it used.
  const room = jt.bufferSize(options);
  if (scratch.length < room) scratch = Buffer.allocUnsafe(room);
  return Buffer.from(jt.compressSync(pixels, scratch, options));
}
