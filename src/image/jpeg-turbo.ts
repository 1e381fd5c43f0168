/**
 * libjpeg-turbo through its optional binding: JPEG decoding straight into a caller's buffer
 * and encoding from one, with none of libvips' per-pipeline set-up. Without the binding, or
 * with IMGFLEET_JPEG_TURBO=off in the environment (read here only, once), every image takes
 * the libvips path instead, with the same meaning.
 */
import { createRequire } from 'node:module';

type Binding = typeof import('@julusian/jpeg-turbo');

let binding: Binding | null | undefined;

export function jpegTurboAvailable(): boolean {
  return jpegTurbo() !== null;
}

function jpegTurbo(): Binding | null {
  if (binding === undefined) {
    const switchedOff = /^(0|off|false|no)$/i.test(process.env.IMGFLEET_JPEG_TURBO ?? '');
    try {
      binding = switchedOff ? null : createRequire(import.meta.url)('@julusian/jpeg-turbo') as Binding;
    } catch {
      binding = null;
    }
  }
  return binding;
}

/** libjpeg-turbo could not read the file: the caller lets libvips try it, and explain it when it is broken. */
export class JpegTurboRefused extends Error {}

export type TurboLayout = 'rgbx' | 'rgb' | 'grey';

function format(jt: Binding, layout: TurboLayout): number {
  return layout === 'rgbx' ? jt.FORMAT_RGBX : layout === 'rgb' ? jt.FORMAT_RGB : jt.FORMAT_GRAY;
}

/** Decodes `input` into `into` (exactly width × height pixels of `layout`). */
export function decodeJpegInto(input: Buffer, into: Buffer, layout: TurboLayout, width: number, height: number): void {
  const jt = jpegTurbo()!;
  let decoded: { width: number; height: number };
  try {
    decoded = jt.decompressSync(input, into, { format: format(jt, layout) });
  } catch (error) {
    throw new JpegTurboRefused((error as Error).message, { cause: error });
  }
  if (decoded.width !== width || decoded.height !== height) throw new JpegTurboRefused('header and image disagree');
}

let scratch = Buffer.alloc(0);

/** Encodes pixels as JPEG: 4:2:0 chroma like libvips' default, grey as one channel. */
export function encodeJpeg(pixels: Buffer, layout: TurboLayout, width: number, height: number, quality: number): Buffer {
  const jt = jpegTurbo()!;
  const options = {
    format: format(jt, layout), width, height, quality,
    subsampling: layout === 'grey' ? jt.SAMP_GRAY : jt.SAMP_420,
  };
  // The encoder wants room for the worst case; one scratch buffer per thread, then a copy of what it used.
  const room = jt.bufferSize(options);
  if (scratch.length < room) scratch = Buffer.allocUnsafe(room);
  return Buffer.from(jt.compressSync(pixels, scratch, options));
}
