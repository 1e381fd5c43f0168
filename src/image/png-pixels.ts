/**
 * Plain PNGs decoded without libvips: 8-bit grey or RGB, not interlaced, with no chunk that
 * changes what the pixels mean (no transparency, gamma, chromaticities, ICC profile, sRGB
 * intent or EXIF), so that their samples are exactly what libvips would decode. Node's zlib
 * inflates the image data, and the row module (src/image/png-rows.c) unfilters the rows and
 * packs them for the resampler: RGBX, or grey as it is.
 */
import * as zlib from 'node:zlib';
import { chunkType, pngRowsModule, readChunks, readPngHeader } from './png-levels.js';

/** Chunks that leave the pixels as they are: the image's physical size, text and time. */
const NEUTRAL_CHUNKS = new Set(['pHYs', 'tEXt', 'zTXt', 'iTXt', 'tIME']);

export interface PlainPng {
  width: number;
  height: number;
  grey: boolean;
}

/** This decoder could not read the file: the caller lets libvips try it, and explain it when it is broken. */
export class PngRefused extends Error {}

/**
 * The PNG's size and kind when its first bytes (up to its first image data) show a plain PNG
 * this decoder takes; undefined otherwise. The whole file is checked again when it is decoded.
 */
export function readPlainPng(head: Uint8Array): PlainPng | undefined {
  // zlib.crc32, which checks the chunks, came with Node 20.15.
  if (typeof zlib.crc32 !== 'function') return undefined;
  const header = readPngHeader(head);
  if (!header || header.bitDepth !== 8 || (header.colourType !== 0 && header.colourType !== 2) || header.interlaced) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  for (let pos = 33; pos + 8 <= head.length; pos += 12 + view.getUint32(pos)) {
    const type = chunkType(head, pos + 4);
    if (type === 'IDAT') return { width: header.width, height: header.height, grey: header.colourType === 0 };
    if (!NEUTRAL_CHUNKS.has(type)) return undefined;
  }
  return undefined;
}

/**
 * Decodes a plain PNG into `into`: RGBX (`channels` 4) or RGB (3) for an RGB PNG, grey (`channels`
 * 1) for a grey one, exactly width × height pixels. Throws PngRefused for anything readPlainPng
 * would not take, a bad checksum, or image data that is cut short, runs long or has an unknown
 * row filter.
 */
export function decodePngInto(bytes: Uint8Array, into: Uint8Array, channels: 1 | 3 | 4): void {
  const png = readPlainPng(bytes);
  const chunks = png && readChunks(bytes);
  if (!png || !chunks || chunks.ancillary.some((type) => !NEUTRAL_CHUNKS.has(type))) throw new PngRefused('not a plain 8-bit grey or RGB PNG');
  if (png.grey !== (channels === 1)) throw new PngRefused(`a ${png.grey ? 'grey' : 'colour'} PNG asked for as ${channels} channels`);
  const bpp = png.grey ? 1 : 3;
  const rowBytes = png.width * bpp;
  const expected = png.height * (rowBytes + 1);
  const outBytes = png.width * png.height * channels;
  if (into.length < outBytes) throw new RangeError('decode buffer too small');
  let data: Buffer;
  try {
    // One output chunk a byte larger than the image: no concatenation, and a stream that runs long is caught.
    data = zlib.inflateSync(chunks.idat, { chunkSize: expected + 1, maxOutputLength: expected + 1 });
  } catch (error) {
    throw new PngRefused(`image data: ${(error as Error).message}`);
  }
  if (data.length !== expected) throw new PngRefused(`image data holds ${data.length} bytes, not ${expected}`);

  const rows = pngRowsModule(expected + outBytes);
  const align = (n: number) => (n + 15) & ~15;
  const zeroRow = align(rows.heap_base());
  const rowsAt = align(zeroRow + rowBytes + 16);
  const outAt = align(rowsAt + expected + 16);
  const end = outAt + outBytes + 16;
  const have = rows.memory.buffer.byteLength;
  if (end > have) rows.memory.grow(Math.ceil((end - have) / 65536));
  const heap = new Uint8Array(rows.memory.buffer);
  heap.fill(0, zeroRow, zeroRow + rowBytes);
  heap.set(data, rowsAt);
  const badRow = rows.unfilter_pack(rowsAt, png.height, rowBytes, bpp, zeroRow, outAt, channels === 4 ? 1 : 0);
  if (badRow !== 0) throw new PngRefused(`row ${badRow} has an unknown filter type`);
  into.set(heap.subarray(outAt, outAt + outBytes));
}
