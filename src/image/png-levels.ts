import { readFileSync } from 'node:fs';
import * as zlib from 'node:zlib';

/** Counts of each 8-bit level per colour channel of a PNG: one array (grey) or three (red, green, blue). */
export interface PngLevels {
  width: number;
  height: number;
  counts: Uint32Array[];
}

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colourType: number;
  interlaced: boolean;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Samples per pixel of each colour type: grey, RGB, palette, grey + alpha, RGBA. */
const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
/** Adam7 passes: first column, first row, column step, row step. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

/** Width and height from a PNG's IHDR, or undefined when the bytes are not a PNG this reader takes. */
export function readPngHeader(bytes: Uint8Array): PngHeader | undefined {
  if (bytes.length < 33 || SIGNATURE.some((b, i) => bytes[i] !== b)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8) !== 13 || chunkType(bytes, 12) !== 'IHDR') return undefined;
  const header = {
    width: view.getUint32(16), height: view.getUint32(20), bitDepth: bytes[24], colourType: bytes[25], interlaced: bytes[28] === 1,
  };
  const valid = header.width > 0 && header.height > 0 && DEPTHS[header.colourType]?.includes(header.bitDepth)
    && bytes[26] === 0 && bytes[27] === 0 && bytes[28] <= 1;
  return valid ? header : undefined;
}

/**
 * Level counts straight from a PNG's rows: the image data is inflated once, copied into the
 * memory of a small WebAssembly module (src/image/png-rows.c) that unfilters each row in place
 * and counts it, and nothing else is made of the image (no interleaved copy, no palette
 * expansion, no 16-to-8-bit pass). A histogram does not depend on
 * where pixels are, so interlaced passes are counted as they come. 16-bit samples count at
 * their high byte, as Pillow reads 16-bit colour PNGs; alpha is not counted; a palette image
 * counts its colours. Returns undefined for anything it does not take (a bad checksum, an
 * unknown critical chunk, EXIF orientation, a stream that ends early or runs long): the
 * general decoder then reads the file and says what is wrong with it.
 */
export function pngLevelCounts(bytes: Uint8Array): PngLevels | undefined {
  const header = readPngHeader(bytes);
  // zlib.crc32 came with Node 20.15.
  if (!header || typeof zlib.crc32 !== 'function') return undefined;
  const chunks = readChunks(bytes);
  if (!chunks) return undefined;
  const samples = SAMPLES[header.colourType];
  const bitsPerPixel = samples * header.bitDepth;
  const passes = (header.interlaced ? ADAM7 : [[0, 0, 1, 1]]).map(([x0, y0, dx, dy]) => ({
    width: header.width > x0 ? Math.ceil((header.width - x0) / dx) : 0,
    height: header.height > y0 ? Math.ceil((header.height - y0) / dy) : 0,
  })).filter((p) => p.width > 0 && p.height > 0);
  const expected = passes.reduce((sum, p) => sum + p.height * (1 + Math.ceil((p.width * bitsPerPixel) / 8)), 0);

  let data: Buffer;
  try {
    // One output chunk a byte larger than the image: no concatenation, and a stream that runs long is caught.
    data = zlib.inflateSync(chunks.idat, { chunkSize: Math.max(64, expected + 1), maxOutputLength: expected + 1 });
  } catch {
    return undefined;
  }
  if (data.length !== expected) return undefined;

  const bpp = Math.max(1, bitsPerPixel >> 3);
  const counted = countedBytes(header);
  const widest = Math.max(...passes.map((p) => Math.ceil((p.width * bitsPerPixel) / 8)));
  const rows = rowCounter(256 * bpp * 4, widest, expected);
  const { exports, at } = rows;
  new Uint8Array(exports.memory.buffer).set(data, at.rows);
  const subByte = header.bitDepth < 8 ? new Uint32Array(256) : undefined;
  let offset = 0;
  for (const pass of passes) {
    const rowBytes = Math.ceil((pass.width * bitsPerPixel) / 8);
    // Sub-byte samples: whole bytes are counted as bytes and split later; a row's last, partly used byte is split here.
    const wholeBytes = subByte ? Math.floor((pass.width * bitsPerPixel) / 8) : rowBytes;
    const mask = counted.reduce((m, position) => m | (1 << position), 0);
    if (exports.unfilter_count(at.rows + offset, pass.height, rowBytes, bpp, at.counts, mask, wholeBytes, at.zeroRow) !== 0) return undefined;
    if (subByte && wholeBytes < rowBytes) {
      const heap = new Uint8Array(exports.memory.buffer);
      const used = (pass.width * header.bitDepth) % 8;
      for (let y = 0; y < pass.height; y++) {
        const last = heap[at.rows + offset + y * (rowBytes + 1) + rowBytes];
        for (let s = 0; s < used; s += header.bitDepth) subByte[(last >> (8 - header.bitDepth - s)) & ((1 << header.bitDepth) - 1)]++;
      }
    }
    offset += pass.height * (rowBytes + 1);
  }
  const byteCounts = new Uint32Array(exports.memory.buffer, at.counts, 256 * bpp).slice();

  const levels = subByte ? splitBytes(byteCounts, subByte, header.bitDepth) : byteCounts;
  const counts = header.colourType === 3 ? paletteCounts(levels, chunks.palette)
    : counted.map((position) => toEightBit(levels.subarray(position << 8, (position << 8) + 256), header));
  return counts && { width: header.width, height: header.height, counts };
}

export interface PngRowsModule {
  memory: WebAssembly.Memory;
  heap_base(): number;
  unfilter_count(rows: number, height: number, rowBytes: number, bpp: number, counts: number, mask: number, countBytes: number, zeroRow: number): number;
  unfilter_pack(rows: number, height: number, rowBytes: number, bpp: number, zeroRow: number, out: number, rgbx: number): number;
  filter_rows(pixels: number, width: number, height: number, inBpp: number, bpp: number, work: number, out: number): void;
}

/** Images up to this many bytes of rows reuse one module per thread; larger ones get a module of their own, freed after. */
const KEPT_MEMORY = 64 * 1024 * 1024;
let rowModule: WebAssembly.Module | undefined;
let kept: PngRowsModule | undefined;

/** The row module (src/image/png-rows.c): this thread's own, or for more than KEPT_MEMORY bytes of rows a new one, freed after. */
export function pngRowsModule(rowsBytes: number): PngRowsModule {
  rowModule ??= new WebAssembly.Module(readFileSync(new URL('../../../assets/wasm/png-rows.wasm', import.meta.url)));
  const instantiate = () => new WebAssembly.Instance(rowModule!, {}).exports as unknown as PngRowsModule;
  return rowsBytes > KEPT_MEMORY ? instantiate() : (kept ??= instantiate());
}

/**
 * The row unfilterer (src/image/png-rows.c) with room laid out for the counts (zeroed), a row
 * of zeros (the row above the first), and the rows, each region padded for 8-byte vector loads.
 */
function rowCounter(countBytes: number, rowBytes: number, rowsBytes: number): { exports: PngRowsModule; at: { counts: number; zeroRow: number; rows: number } } {
  const exports = pngRowsModule(rowsBytes);
  const align = (n: number) => (n + 15) & ~15;
  const counts = align(exports.heap_base());
  const zeroRow = align(counts + countBytes);
  const rows = align(zeroRow + rowBytes + 16);
  const end = rows + rowsBytes + 16;
  const have = exports.memory.buffer.byteLength;
  if (end > have) exports.memory.grow(Math.ceil((end - have) / 65536));
  new Uint8Array(exports.memory.buffer).fill(0, counts, rows);
  return { exports, at: { counts, zeroRow, rows } };
}

export interface Chunks {
  idat: Buffer;
  palette?: Uint8Array;
  /** The types of the ancillary chunks, in order. */
  ancillary: string[];
}

/** The image data and palette, with every critical chunk's CRC checked; undefined for anything unusual. */
export function readChunks(bytes: Uint8Array): Chunks | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const idat: Uint8Array[] = [];
  let palette: Uint8Array | undefined;
  const ancillary: string[] = [];
  let pos = 8;
  while (pos + 12 <= bytes.length) {
    const length = view.getUint32(pos);
    const end = pos + 12 + length;
    if (end > bytes.length) return undefined;
    const type = chunkType(bytes, pos + 4);
    const data = bytes.subarray(pos + 8, pos + 8 + length);
    const critical = (bytes[pos + 4] & 0x20) === 0;
    if (critical && zlib.crc32(bytes.subarray(pos + 4, pos + 8 + length)) !== view.getUint32(pos + 8 + length)) return undefined;
    if (type === 'IEND') {
      if (idat.length === 0) return undefined;
      return { idat: idat.length === 1 ? Buffer.from(idat[0].buffer, idat[0].byteOffset, idat[0].byteLength) : Buffer.concat(idat), palette, ancillary };
    }
    if (type === 'IDAT') idat.push(data);
    else if (type === 'PLTE') palette = data;
    // libvips turns an image by its EXIF orientation, and the reported size with it.
    else if (type === 'eXIf') return undefined;
    else if (critical && type !== 'IHDR') return undefined;
    else if (!critical) ancillary.push(type);
    pos = end;
  }
  return undefined;
}

export function chunkType(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

/** Positions within a pixel's bytes that hold a counted level: colour samples (their high byte), never alpha. */
function countedBytes(header: PngHeader): number[] {
  const colour = header.colourType === 2 || header.colourType === 6 ? 3 : 1;
  const bytesPerSample = header.bitDepth === 16 ? 2 : 1;
  return Array.from({ length: colour }, (_, c) => c * bytesPerSample);
}

/** Counts of sub-byte samples from counts of whole bytes (each byte holds 8 / depth samples) plus those counted singly. */
function splitBytes(byteCounts: Uint32Array, single: Uint32Array, depth: number): Uint32Array {
  const out = single;
  const mask = (1 << depth) - 1;
  for (let b = 0; b < 256; b++) {
    const n = byteCounts[b];
    if (n === 0) continue;
    for (let shift = 8 - depth; shift >= 0; shift -= depth) out[(b >> shift) & mask] += n;
  }
  return out;
}

/** Grey samples below 8 bits scale to 0..255 (a 1-bit 1 is 255, a 4-bit 15 is 255). */
function toEightBit(counts: Uint32Array, header: PngHeader): Uint32Array {
  if (header.bitDepth >= 8) return counts;
  const max = (1 << header.bitDepth) - 1;
  const out = new Uint32Array(256);
  for (let v = 0; v <= max; v++) out[(v * 255) / max] += counts[v];
  return out;
}

/** Red, green and blue counts from counts of palette indices; undefined when an index has no colour. */
function paletteCounts(indices: Uint32Array, palette: Uint8Array | undefined): Uint32Array[] | undefined {
  if (!palette || palette.length % 3 !== 0) return undefined;
  const entries = palette.length / 3;
  const counts = [new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)];
  for (let i = 0; i < 256; i++) {
    const n = indices[i];
    if (n === 0) continue;
    if (i >= entries) return undefined;
    counts[0][palette[3 * i]] += n;
    counts[1][palette[3 * i + 1]] += n;
    counts[2][palette[3 * i + 2]] += n;
  }
  return counts;
}
