import { readFileSync } from 'node:fs';
import type { RawImage } from './frame.js';

/** The unsharp mask's settings, as libvips names them (vips_sharpen). */
export interface UnsharpSettings {
  /** σ of the Gaussian the lightness is compared with. */
  sigma: number;
  /** Slope for differences within ±x1 (flat areas). */
  m1: number;
  /** Slope for differences beyond ±x1 (jagged areas). */
  m2: number;
  x1?: number;
  /** Most the lightness may rise, in L* units. */
  y2?: number;
  /** Most the lightness may fall, in L* units. */
  y3?: number;
}

/**
 * libvips' sharpen on 8-bit pixels of 1–4 channels, in WebAssembly (src/image/unsharp.c), a
 * strip of rows at a time: the image goes to CIE Lab with L held as libvips holds it, L is
 * blurred with libvips' integer Gaussian and pushed away from the blur through its curve, and
 * the pixels come back to sRGB; alpha is kept. The arithmetic is libvips' own but for Lab's cube
 * root, computed here where libvips reads a table, so results agree with it to within one level.
 * Both colour conversions and the blur run four pixels at a time in SIMD; grey pixels are
 * converted through tables made once by the same arithmetic.
 */
export function unsharpLightness(image: RawImage, settings: UnsharpSettings): RawImage {
  const { data, width, height, channels } = image;
  const w = module();
  const mask = integerGaussian(settings.sigma);
  w.useCurve(sharpenCurve(settings));
  // Strips of rows with their neighbourhood, so that the module holds a strip, never the image.
  const radius = mask.weights.length >> 1;
  const band = Math.max(64, 8 * radius);
  const rowBytes = width * channels;
  const stripRows = Math.min(height, band + 2 * radius);
  const shorts = 2 * width * stripRows;
  const at = w.layout([rowBytes * stripRows, shorts, shorts, shorts, shorts, shorts, 4 * (width + mask.weights.length), mask.weights.byteLength]);
  const heap = new Uint8Array(w.exports.memory.buffer);
  heap.set(new Uint8Array(mask.weights.buffer, mask.weights.byteOffset, mask.weights.byteLength), at[7]);
  const sharpened = Buffer.allocUnsafe(data.length);
  for (let start = 0; start < height; start += band) {
    const end = Math.min(height, start + band);
    const top = Math.max(0, start - radius);
    const bottom = Math.min(height, end + radius);
    heap.set(data.subarray(top * rowBytes, bottom * rowBytes), at[0]);
    w.exports.unsharp(at[0], width, bottom - top, channels, start - top, end - top, at[1], at[2], at[3], at[4], at[5], at[6],
      at[7], mask.weights.length, mask.sum, w.curveAt, w.toLinearAt, w.toSrgbAt);
    sharpened.set(heap.subarray(at[0] + (start - top) * rowBytes, at[0] + (end - top) * rowBytes), start * rowBytes);
  }
  // WebAssembly memory never shrinks: after a very wide image, the next call starts a new
  // instance and this one's memory goes with it.
  if (w.exports.memory.buffer.byteLength > KEPT_MEMORY_BYTES) loaded = undefined;
  return { ...image, data: sharpened };
}

/** Memory one instance keeps between calls: strips of images up to about 8,000 pixels wide. */
const KEPT_MEMORY_BYTES = 32 * 1024 * 1024;

interface Exports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  unsharp(pixels: number, width: number, rows: number, channels: number, first: number, last: number, lightness: number, aStar: number, bStar: number,
    across: number, blurred: number, rowBuffer: number, weights: number, taps: number, sum: number, curve: number,
    toLinear: number, toSrgb: number): void;
}

interface UnsharpModule {
  exports: Exports;
  toLinearAt: number;
  toSrgbAt: number;
  curveAt: number;
  /** Writes a curve into its place, unless it is already there. */
  useCurve(curve: Int32Array): void;
  /** Places for one call's buffers after the tables, growing memory as needed. */
  layout(sizes: number[]): number[];
}

let loaded: UnsharpModule | undefined;

/** The module, with the colour tables written once after its own data. */
function module(): UnsharpModule {
  if (loaded) return loaded;
  const exports = new WebAssembly.Instance(new WebAssembly.Module(
    readFileSync(new URL('../../../assets/wasm/unsharp.wasm', import.meta.url)),
  ), {}).exports as unknown as Exports;
  const { toLinear, toSrgb } = colourTables();
  const tables = [toLinear, toSrgb, new Int32Array(65536)];
  const at: number[] = [];
  let next = align(exports.heap_base());
  for (const table of tables) {
    at.push(next);
    next = align(next + table.byteLength);
  }
  const tablesEnd = next;
  grow(exports.memory, tablesEnd);
  const heap = new Uint8Array(exports.memory.buffer);
  tables.slice(0, 2).forEach((table, i) => heap.set(new Uint8Array(table.buffer, table.byteOffset, table.byteLength), at[i]));
  let curveInPlace: Int32Array | undefined;
  loaded = {
    exports,
    toLinearAt: at[0],
    toSrgbAt: at[1],
    curveAt: at[2],
    useCurve(curve) {
      if (curve === curveInPlace) return;
      new Uint8Array(exports.memory.buffer).set(new Uint8Array(curve.buffer, curve.byteOffset, curve.byteLength), at[2]);
      curveInPlace = curve;
    },
    layout(sizes) {
      const places: number[] = [];
      let end = tablesEnd;
      for (const size of sizes) {
        places.push(end);
        end = align(end + size);
      }
      grow(exports.memory, end);
      return places;
    },
  };
  return loaded;
}

function align(address: number): number {
  return (address + 15) & ~15;
}

function grow(memory: WebAssembly.Memory, bytes: number): void {
  if (bytes > memory.buffer.byteLength) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
}

interface ColourTables {
  /** sRGB level → linear light, 0–1. */
  toLinear: Float32Array;
  /** Linear light × 255 → sRGB level, read between entries. */
  toSrgb: Int32Array;
}

let tables: ColourTables | undefined;

function colourTables(): ColourTables {
  if (tables) return tables;
  const toLinear = new Float32Array(256);
  const toSrgb = new Int32Array(257);
  for (let i = 0; i < 256; i++) {
    const f = i / 255;
    toLinear[i] = f <= 0.04045 ? f / 12.92 : ((f + 0.055) / 1.055) ** 2.4;
    toSrgb[i] = Math.round(255 * (f <= 0.0031308 ? 12.92 * f : 1.055 * f ** (1 / 2.4) - 0.055));
  }
  toSrgb[256] = toSrgb[255];
  tables = { toLinear, toSrgb };
  return tables;
}

/** libvips' integer Gaussian (vips_gaussmat, min_ampl 0.1): weights of 0–20 and their sum. */
function integerGaussian(sigma: number): { weights: Int32Array; sum: number } {
  const twoSigmaSquared = 2 * sigma * sigma;
  const limit = Math.min(8 * sigma, 10000);
  let x = 0;
  while (x < limit && Math.exp(-(x * x) / twoSigmaSquared) >= 0.1) x++;
  const size = 2 * Math.max(x - 1, 0) + 1;
  const weights = new Int32Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const offset = i - (size >> 1);
    weights[i] = Math.round(20 * Math.exp(-(offset * offset) / twoSigmaSquared));
    sum += weights[i];
  }
  return { weights, sum: sum || 1 };
}

/**
 * How much L moves for each difference between a pixel's L and its blur, both in LabS units,
 * indexed by the difference + 32768: slope m1 within ±x1 L* units, m2 beyond, at most y2 up
 * and y3 down (vips_sharpen's table).
 */
function sharpenCurve({ m1, m2, x1 = 2, y2 = 10, y3 = 20 }: UnsharpSettings): Int32Array {
  const key = `${m1} ${m2} ${x1} ${y2} ${y3}`;
  const cached = curves.get(key);
  if (cached) return cached;
  const curve = new Int32Array(65536);
  for (let i = 0; i < 65536; i++) {
    const v = (i - 32767) / 327.67;
    let y = v < -x1 ? (v + x1) * m2 - x1 * m1 : v < x1 ? v * m1 : (v - x1) * m2 + x1 * m1;
    y = Math.min(y2, Math.max(-y3, y));
    curve[i] = Math.round(y * 327.67);
  }
  if (curves.size >= 8) curves.clear();
  curves.set(key, curve);
  return curve;
}

const curves = new Map<string, Int32Array>();
