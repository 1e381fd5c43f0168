/**
 * The system's libwebp (Debian's libwebp7, which its security updates keep patched), called
 * through koffi, the optional dependency that already calls libjpeg-turbo: its decoder for plain
 * lossy WebPs (webp-pixels.ts) and its encoder (webp-encode.ts), each without libvips'
 * per-image set-up. Without either, or with IMGFLEET_LIBWEBP=off (src/config.ts), WebPs are read
 * and written by libvips, with the same meaning.
 */
import { createRequire } from 'node:module';
import { processEnvironment } from '../config.js';

type Decode = (data: Uint8Array, size: number, into: Uint8Array, intoSize: number, stride: number) => unknown;
type AsyncCall = (...args: unknown[]) => void;

export interface Libwebp {
  getInfo(data: Uint8Array, size: number, width: number[], height: number[]): number;
  decodeInto: Record<3 | 4, Decode>;
  encoder: {
    configInit(config: Buffer, preset: number, quality: number, abi: number): number;
    validateConfig(config: Buffer): number;
    pictureInit(picture: Buffer, abi: number): number;
    pictureFree(picture: Buffer): void;
    /** WebPPictureImportRGB and WebPPictureImportRGBX, in libuv's pool: (picture, pixels, stride, done). */
    importInPool: Record<3 | 4, AsyncCall>;
    /** WebPEncode in libuv's pool: (config, picture, done). */
    encodeInPool: AsyncCall;
    memoryWriterInit(writer: unknown): void;
    memoryWriterClear(writer: unknown): void;
    /** The address of WebPMemoryWrite, the writer a picture is given. */
    memoryWrite: bigint;
    koffi: typeof import('koffi');
  };
}

/** libwebp 1.x; its structs' layout, which webp-encode.ts relies on, is the one of this soname. */
const LIBRARY = 'libwebp.so.7';

let loaded: Libwebp | null | undefined;

export function libwebp(): Libwebp | null {
  if (loaded === undefined) {
    try {
      loaded = processEnvironment().libwebp ? load() : null;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

function load(): Libwebp {
  const require = createRequire(import.meta.url);
  const koffi = require('koffi') as typeof import('koffi');
  const lib = koffi.load(LIBRARY);
  const into = (layout: string): Decode => lib.func(`uint8_t *WebPDecode${layout}Into(const uint8_t *, size_t, uint8_t *, size_t, int)`);
  const inPool = (prototype: string): AsyncCall => {
    const call = lib.func(prototype);
    return (...args) => call.async(...args);
  };
  const importInPool = (layout: string) => inPool(`int WebPPictureImport${layout}(void *, const uint8_t *, int)`);
  return {
    getInfo: lib.func('int WebPGetInfo(const uint8_t *, size_t, _Out_ int *, _Out_ int *)'),
    decodeInto: { 3: into('RGB'), 4: into('RGBA') },
    encoder: {
      configInit: lib.func('int WebPConfigInitInternal(void *, int, float, int)'),
      validateConfig: lib.func('int WebPValidateConfig(const void *)'),
      pictureInit: lib.func('int WebPPictureInitInternal(void *, int)'),
      pictureFree: lib.func('void WebPPictureFree(void *)'),
      importInPool: { 3: importInPool('RGB'), 4: importInPool('RGBX') },
      encodeInPool: inPool('int WebPEncode(const void *, void *)'),
      memoryWriterInit: lib.func('void WebPMemoryWriterInit(void *)'),
      memoryWriterClear: lib.func('void WebPMemoryWriterClear(void *)'),
      memoryWrite: BigInt(lib.symbol('WebPMemoryWrite', 'void') as unknown as bigint),
      koffi,
    },
  };
}
