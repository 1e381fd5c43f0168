/**
 * Lossy WebPs written by the system's libwebp (libwebp.ts) from a pixel lane's RGB or RGBX
 * pixels, with the settings libvips' encoder gives it (the default preset, the quality, method =
 * effort; see webpSettings), and the same bytes: without libvips' set-up, a 256×192 thumbnail
 * took 1.6–1.7 ms against 2.7–3.9 ms through sharp (bench/README.md). Both libwebp calls run in
 * libuv's pool, as libvips' encoder does, so the calling thread goes on meanwhile.
 *
 * The structs are passed as memory libwebp lays out itself (its Init calls); only fields whose
 * place libwebp's ABI keeps are written: WebPConfig's method, and WebPPicture's size, writer and
 * the writer's state.
 */
import type { RawImage } from './frame.js';
import { libwebp, type Libwebp } from './libwebp.js';

/** WEBP_ENCODER_ABI_VERSION of libwebp 1.2; libwebp accepts any with the same major byte. */
const ENCODER_ABI = 0x020f;
const PRESET_DEFAULT = 0;
/** Larger than either struct in any libwebp 1.x (WebPConfig 116 bytes, WebPPicture 256). */
const STRUCT_BYTES = 512;
const CONFIG_METHOD = 8;
const PICTURE_WIDTH = 8;
const PICTURE_HEIGHT = 12;
const PICTURE_WRITER = 96;
const PICTURE_CUSTOM_PTR = 104;
/** WebPMemoryWriter: the output's address, then its size. */
const WRITER_BYTES = 64;
/**
 * Larger images go to libvips, whose encoder stops at a task's deadline (its kill flag); once
 * started, libwebp's cannot be stopped. 2 MP took it 73 ms at effort 2, 199 ms at effort 6.
 */
const MAX_PIXELS = 2_000_000;

export function libwebpEncodes(image: RawImage): image is RawImage & { channels: 3 | 4 } {
  return (image.channels === 3 || image.channels === 4) && image.width * image.height <= MAX_PIXELS && libwebp() !== null;
}

/**
 * The lossy WebP of RGB pixels, or of RGBX ones (the fourth byte ignored); undefined when
 * libwebpEncodes says no or libwebp fails, and libvips is to write it.
 */
export async function encodeWebp(image: RawImage, { quality, effort }: { quality: number; effort: number }): Promise<Buffer | undefined> {
  if (!libwebpEncodes(image)) return undefined;
  const { encoder } = libwebp()!;
  const { koffi } = encoder;
  const config = Buffer.alloc(STRUCT_BYTES);
  if (!encoder.configInit(config, PRESET_DEFAULT, quality, ENCODER_ABI)) return undefined;
  config.writeInt32LE(effort, CONFIG_METHOD);
  if (!encoder.validateConfig(config)) return undefined;
  const picture = Buffer.alloc(STRUCT_BYTES);
  if (!encoder.pictureInit(picture, ENCODER_ABI)) return undefined;
  picture.writeInt32LE(image.width, PICTURE_WIDTH);
  picture.writeInt32LE(image.height, PICTURE_HEIGHT);
  const writer = koffi.alloc('uint8_t', WRITER_BYTES);
  encoder.memoryWriterInit(writer);
  try {
    if (!await inPool(encoder.importInPool[image.channels], picture, image.data, image.width * image.channels)) return undefined;
    picture.writeBigUInt64LE(encoder.memoryWrite, PICTURE_WRITER);
    picture.writeBigUInt64LE(BigInt(koffi.address(writer)), PICTURE_CUSTOM_PTR);
    if (!await inPool(encoder.encodeInPool, config, picture)) return undefined;
    return written(koffi, writer);
  } finally {
    encoder.pictureFree(picture);
    encoder.memoryWriterClear(writer);
    koffi.free(writer);
  }
}

function inPool(call: (...args: unknown[]) => void, ...args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) => call(...args, (error: unknown, result: number) => (error ? reject(error) : resolve(result))));
}

let memoryWriter: unknown;

/** A copy of what the memory writer holds (koffi's array is already one). */
function written(koffi: Libwebp['encoder']['koffi'], writer: unknown): Buffer {
  memoryWriter ??= koffi.struct({ mem: 'void *', size: 'size_t' });
  const { mem, size } = koffi.decode(writer, memoryWriter as ReturnType<typeof koffi.struct>) as { mem: unknown; size: number | bigint };
  const bytes = koffi.decode(mem, koffi.array('uint8_t', Number(size), 'Typed')) as Uint8Array;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
