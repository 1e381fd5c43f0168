/**
 * PNGs of a pixel lane's pixels without libvips: the rows filtered in WebAssembly
 * (src/image/png-rows.c), each with the filter of the five whose bytes cost least, as libpng
 * chooses with adaptive filtering, then deflated by Node's zlib in libuv's pool, so the calling
 * thread goes on meanwhile. The same pixels as libvips' PNG, and at the same zlib level and
 * filters about as small; camera photos made 512 px took 8.5-10.6 ms of CPU a PNG at level 2
 * against libvips' 13.6-15.5 at level 3, the default before (bench/README.md).
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { RawImage } from './frame.js';
import { giveBackPixels, takePixels } from './pixel-buffers.js';
import { pngRowsModule } from './png-levels.js';

const deflate = promisify(zlib.deflate);

/**
 * Larger images go to libvips, whose encoder stops at a task's deadline (its kill flag); once
 * started, a deflate in zlib cannot be stopped.
 */
const MAX_PIXELS = 2_000_000;

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const COLOUR_TYPE = { grey: 0, rgb: 2 } as const;

/** Filtered rows, ready to be deflated into a PNG's image data. */
export interface PngRows {
  rows: Buffer;
  width: number;
  height: number;
  grey: boolean;
}

/** Whether pngRowsOf takes these pixels (else libvips writes the PNG): grey, RGB or RGBX, and zlib.crc32 (Node 20.15). */
export function pngWriterTakes(image: RawImage): boolean {
  return (image.channels === 1 || image.channels === 3 || image.channels === 4) && image.width * image.height <= MAX_PIXELS && typeof zlib.crc32 === 'function';
}

/** The filtered rows of grey, RGB or RGBX pixels (the fourth byte is padding, left out). */
export function pngRowsOf(image: RawImage): PngRows {
  const { width, height, channels } = image;
  const bpp = channels === 4 ? 3 : channels;
  const rowBytes = width * bpp;
  const pixelBytes = width * height * channels;
  const rowsBytes = height * (rowBytes + 1);
  const module = pngRowsModule(pixelBytes + rowsBytes);
  const align = (n: number) => (n + 15) & ~15;
  const pixels = align(module.heap_base());
  const work = align(pixels + pixelBytes);
  const out = align(work + 4 * rowBytes);
  const end = out + rowsBytes;
  const have = module.memory.buffer.byteLength;
  if (end > have) module.memory.grow(Math.ceil((end - have) / 65536));
  const memory = new Uint8Array(module.memory.buffer);
  memory.set(image.data.subarray(0, pixelBytes), pixels);
  memory.fill(0, work, work + rowBytes);
  module.filter_rows(pixels, width, height, channels, bpp, work, out);
  const rows = takePixels(rowsBytes);
  rows.set(memory.subarray(out, end));
  return { rows, width, height, grey: bpp === 1 };
}

/** The PNG of filtered rows, deflated at `level` (0-9) in libuv's pool; the rows' memory is reused after. */
export async function writePng({ rows, width, height, grey }: PngRows, level: number): Promise<Buffer> {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = grey ? COLOUR_TYPE.grey : COLOUR_TYPE.rgb;
  let data: Buffer;
  try {
    // Output in chunks of 256 KiB: with zlib's default 16 KiB, each chunk is a turn of this thread.
    data = await deflate(rows, { level, strategy: deflateStrategy(rows, height, level), chunkSize: 256 * 1024 });
  } finally {
    giveBackPixels(rows);
  }
  return Buffer.concat([PNG_SIGNATURE, ...pngChunk('IHDR', header), ...pngChunk('IDAT', data), ...pngChunk('IEND', Buffer.alloc(0))]);
}

/** Rows in each of the bands deflateStrategy samples, and the bands, spread down the image. */
const SAMPLE_ROWS = 4;
const SAMPLE_BANDS = 8;

/**
 * zlib's default strategy or run-length matches only (Z_RLE), whichever deflates bands of the
 * rows smaller. A photograph's filtered rows are noise-like, and the long matches zlib finds in
 * them cost more bits than they save: camera photos made 512 px gave PNGs 5-19 % smaller with
 * Z_RLE, in 30-40 % less time. Text, drawings and grey stored as RGB are the other way (a
 * screenshot made 512 px: 26 KiB with the default, 130 with Z_RLE). Of 172 photos and drawings,
 * colour and grey, 512 and 256 px, the bands chose the smaller of the two for all but one (6 %
 * larger), and all of them together came to the smaller ones' size (bench/README.md).
 */
function deflateStrategy(rows: Buffer, height: number, level: number): number {
  if (level === 0 || height < 2 * SAMPLE_ROWS * SAMPLE_BANDS) return zlib.constants.Z_DEFAULT_STRATEGY;
  const rowBytes = rows.length / height;
  const bands: Buffer[] = [];
  for (let band = 0; band < SAMPLE_BANDS; band++) {
    const top = Math.floor(((2 * band + 1) * height) / (2 * SAMPLE_BANDS)) - SAMPLE_ROWS / 2;
    bands.push(rows.subarray(top * rowBytes, (top + SAMPLE_ROWS) * rowBytes));
  }
  const sample = Buffer.concat(bands);
  const runs = zlib.deflateSync(sample, { level, strategy: zlib.constants.Z_RLE }).length;
  return runs < zlib.deflateSync(sample, { level }).length ? zlib.constants.Z_RLE : zlib.constants.Z_DEFAULT_STRATEGY;
}

/** A chunk's parts: its length and type, its data (not copied), its CRC. */
export function pngChunk(type: string, data: Buffer): Buffer[] {
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.allocUnsafe(4);
  crc.writeUInt32BE(zlib.crc32(data, zlib.crc32(head.subarray(4))), 0);
  return [head, data, crc];
}
