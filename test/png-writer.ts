import zlib from 'node:zlib';

/**
 * A small PNG encoder for tests: any colour type and bit depth, a chosen filter type per row,
 * Adam7 interlacing, and a palette. It writes the filters forwards from the specification, so
 * decoders are checked against images whose every sample is known.
 */
export interface PngSpec {
  width: number;
  height: number;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  /** 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA. */
  colourType: 0 | 2 | 3 | 4 | 6;
  /** Samples, row by row, pixel by pixel (palette: indices). */
  samples: number[];
  /** Filter type of each row of each pass, chosen in turn. @defaultValue [0] */
  filters?: number[];
  interlaced?: boolean;
  /** RGB triples. */
  palette?: number[];
}

const SAMPLES = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

export function encodePng(spec: PngSpec): Buffer {
  const perPixel = SAMPLES[spec.colourType];
  const bitsPerPixel = perPixel * spec.bitDepth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const passes = spec.interlaced ? ADAM7 : [[0, 0, 1, 1]];
  const filters = spec.filters ?? [0];
  const out: Buffer[] = [];
  let rowIndex = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const xs: number[] = [];
    for (let x = x0; x < spec.width; x += dx) xs.push(x);
    if (xs.length === 0) continue;
    const rowBytes = Math.ceil((xs.length * bitsPerPixel) / 8);
    let previous = Buffer.alloc(rowBytes);
    for (let y = y0; y < spec.height; y += dy) {
      const row = Buffer.alloc(rowBytes);
      let bit = 0;
      for (const x of xs) {
        for (let s = 0; s < perPixel; s++) {
          const value = spec.samples[(y * spec.width + x) * perPixel + s];
          if (spec.bitDepth === 16) {
            row.writeUInt16BE(value, bit >> 3);
          } else if (spec.bitDepth === 8) {
            row[bit >> 3] = value;
          } else {
            row[bit >> 3] |= value << (8 - spec.bitDepth - (bit & 7));
          }
          bit += spec.bitDepth;
        }
      }
      const filter = filters[rowIndex++ % filters.length];
      out.push(Buffer.from([filter]), applyFilter(filter, row, previous, bpp));
      previous = row;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(spec.width, 0);
  ihdr.writeUInt32BE(spec.height, 4);
  ihdr[8] = spec.bitDepth;
  ihdr[9] = spec.colourType;
  ihdr[12] = spec.interlaced ? 1 : 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    ...(spec.palette ? [pngChunk('PLTE', Buffer.from(spec.palette))] : []),
    pngChunk('IDAT', zlib.deflateSync(Buffer.concat(out))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function applyFilter(filter: number, row: Buffer, above: Buffer, bpp: number): Buffer {
  const out = Buffer.alloc(row.length);
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp] : 0;
    const b = above[i];
    const c = i >= bpp ? above[i - bpp] : 0;
    const predictor = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter];
    out[i] = (row[i] - predictor) & 255;
  }
  return out;
}

/** The PNG specification's Paeth predictor, as written there. */
function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  if (pb <= pc) return b;
  return c;
}

export function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(zlib.crc32(body), body.length + 4);
  return out;
}
