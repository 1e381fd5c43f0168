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
import { giveBackPixels, takePixels } from './pixel-buffers.js';

type Binding = typeof import('@julusian/jpeg-turbo');

interface TurboJpeg3 {
  handle: unknown;
  decompressHeader(handle: unknown, jpeg: Buffer, size: number): number;
  get(handle: unknown, param: number): number;
  decompress8(handle: unknown, jpeg: Buffer, size: number, into: Buffer, pitch: number, pixelFormat: number): number;
  setScalingFactor(handle: unknown, factor: { num: number; denom: number }): number;
  /** A handle of its own for each decode under way in libuv's pool (a handle is not shared between threads). */
  newHandle(): unknown;
  decompressInPool(handle: unknown, jpeg: Buffer, size: number, into: Buffer, pitch: number, pixelFormat: number, done: (error: unknown, result: number) => void): void;
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
  const scalingFactor = koffi.struct({ num: 'int', denom: 'int' });
  const init = lib.func('void *tj3Init(int)');
  const errorText = lib.func('const char *tj3GetErrorStr(void *)');
  const decompress8 = lib.func('int tj3Decompress8(void *, const uint8_t *, size_t, uint8_t *, int, int)');
  const tj3: TurboJpeg3 = {
    handle: init(TJINIT_DECOMPRESS),
    newHandle: () => init(TJINIT_DECOMPRESS),
    decompressInPool: (...args) => decompress8.async(...args),
    decompressHeader: lib.func('int tj3DecompressHeader(void *, const uint8_t *, size_t)'),
    get: lib.func('int tj3Get(void *, int)'),
    decompress8,
    setScalingFactor: lib.func('tj3SetScalingFactor', 'int', ['void *', scalingFactor]),
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
const BYTES_PER_PIXEL = { rgb: 3, rgbx: 4, grey: 1 } as const;

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
  readHeader(tj3, handle, input, width, height);
  if (into.length < width * height * BYTES_PER_PIXEL[layout]) throw new RangeError('decode buffer too small');
  if (tj3.decompress8(handle, input, input.length, into, 0, PIXEL_FORMAT[layout]) !== 0) throw new JpegTurboRefused(tj3.errorText(handle));
}

/** Pixels decoded at a smaller scale, `width` × `height` of them (memory from takePixels). */
export interface ScaledPixels {
  data: Buffer;
  width: number;
  height: number;
}

/** Handles for the decodes in libuv's pool, kept for the next ones (this thread's own handle does the rest). */
const idleHandles: unknown[] = [];

/**
 * The pixels libjpeg decodes of an image at 1/shrink: a side rounded up, the last column and row
 * partial (libvips leaves them out; the lane maps the photo onto its exact extent in them).
 */
export function decodedSize(source: { width: number; height: number }, shrink: number): { width: number; height: number } {
  return { width: Math.ceil(source.width / shrink), height: Math.ceil(source.height / shrink) };
}

/**
 * Decodes `input` at 1/`shrink` (2, 4 or 8) through libjpeg's DCT scaling, as libvips shrinks a
 * JPEG on load, in libuv's thread pool: the calling thread is free meanwhile, as it is while
 * libvips works. The result holds every pixel libjpeg decodes (decodedSize), rows one after
 * another.
 */
export async function decodeJpegScaled(input: Buffer, layout: TurboLayout, width: number, height: number, shrink: number): Promise<ScaledPixels> {
  const { tj3 } = jpegTurbo()!;
  const handle = idleHandles.pop() ?? tj3.newHandle();
  try {
    readHeader(tj3, handle, input, width, height);
    if (tj3.setScalingFactor(handle, { num: 1, denom: shrink }) !== 0) throw new JpegTurboRefused(tj3.errorText(handle));
    const size = decodedSize({ width, height }, shrink);
    const stride = size.width * BYTES_PER_PIXEL[layout];
    const data = takePixels(stride * size.height);
    const result = await new Promise<number>((resolve, reject) => {
      tj3.decompressInPool(handle, input, input.length, data, stride, PIXEL_FORMAT[layout], (error, code) => (error ? reject(error) : resolve(code)));
    });
    if (result !== 0) {
      giveBackPixels(data);
      throw new JpegTurboRefused(tj3.errorText(handle));
    }
    return { data, ...size };
  } finally {
    idleHandles.push(handle);
  }
}

function readHeader(tj3: TurboJpeg3, handle: unknown, input: Buffer, width: number, height: number): void {
  if (tj3.decompressHeader(handle, input, input.length) !== 0) throw new JpegTurboRefused(tj3.errorText(handle));
  if (tj3.get(handle, TJPARAM_JPEGWIDTH) !== width || tj3.get(handle, TJPARAM_JPEGHEIGHT) !== height || tj3.get(handle, TJPARAM_PRECISION) !== 8) {
    throw new JpegTurboRefused('header and image disagree');
  }
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
