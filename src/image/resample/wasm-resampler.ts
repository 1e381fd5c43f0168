import { readFileSync } from 'node:fs';
import type { RawImage } from '../frame.js';
import { KERNELS, type KernelName } from './kernels.js';

const PRECISION = 14;
const ONE = 1 << PRECISION;

interface Exports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  hpass(src: number, sw: number, h: number, dst: number, dw: number, start: number, weights: number, npairs: number): void;
  hpass1(src: number, sw: number, h: number, dst: number, dw: number, start: number, weights: number, npairs: number): void;
  vpass(src: number, rowBytes: number, dst: number, dh: number, start: number, weights: number, npairs: number): void;
}

/** One axis: for each output sample, the first source sample and packed fixed-point weight pairs. */
interface AxisTable {
  start: Int32Array;
  weights: Int32Array;
  npairs: number;
}

let instance: Exports | undefined;

function wasm(): Exports {
  instance ??= new WebAssembly.Instance(new WebAssembly.Module(
    readFileSync(new URL('../../../../assets/wasm/resample.wasm', import.meta.url)),
  ), {}).exports as unknown as Exports;
  return instance;
}

const tables = new Map<string, AxisTable>();

/**
 * Weights for resampling the part of an axis of `inSize` samples that starts at `from` and
 * spans `span` (fractions allowed; by default the whole axis) to `outSize` samples, with sample
 * centres aligned as Pillow does (output sample o covers source position from + (o + ½)·scale)
 * and the kernel widened by the scale when shrinking. Windows are cut at the image edge and
 * renormalised.
 */
export function axisTable(inSize: number, outSize: number, kernelName: KernelName, from = 0, span = inSize): AxisTable {
  const key = `${inSize}:${outSize}:${kernelName}:${from}:${span}`;
  const cached = tables.get(key);
  if (cached) return cached;
  const kernel = KERNELS[kernelName];
  const scale = span / outSize;
  const stretch = Math.max(scale, 1);
  const reach = kernel.support * stretch;
  const windows: { first: number; weights: number[] }[] = [];
  let taps = 2;
  for (let o = 0; o < outSize; o++) {
    const centre = from + (o + 0.5) * scale;
    const first = Math.max(0, Math.floor(centre - reach + 0.5));
    const last = Math.min(inSize, Math.floor(centre + reach + 0.5));
    const weights: number[] = [];
    for (let i = first; i < last; i++) weights.push(kernel.weight((i - centre + 0.5) / stretch));
    const total = weights.reduce((a, b) => a + b, 0);
    windows.push({ first, weights: weights.map((w) => w / total) });
    taps = Math.max(taps, weights.length);
  }
  taps += taps & 1;
  if (taps > inSize) throw new RangeError(`image too small to resample: ${inSize} samples, ${taps} taps`);
  const start = new Int32Array(outSize);
  const packed = new Int32Array((outSize * taps) / 2);
  const fixed = new Int32Array(taps);
  windows.forEach(({ first, weights }, o) => {
    const shifted = Math.min(first, inSize - taps);
    fixed.fill(0);
    let sum = 0;
    let largest = 0;
    weights.forEach((w, k) => {
      const v = Math.round(w * ONE);
      fixed[first - shifted + k] = v;
      sum += v;
      if (Math.abs(v) > Math.abs(fixed[first - shifted + largest])) largest = k;
    });
    // Rounding may leave the weights a unit or two off 1.0; the largest absorbs it, so flat stays flat.
    fixed[first - shifted + largest] += ONE - sum;
    start[o] = shifted;
    for (let p = 0; p < taps / 2; p++) packed[(o * taps) / 2 + p] = (fixed[2 * p] & 0xffff) | (fixed[2 * p + 1] << 16);
  });
  const table = { start, weights: packed, npairs: taps / 2 };
  if (tables.size > 64) tables.delete(tables.keys().next().value!);
  tables.set(key, table);
  return table;
}

/**
 * Resizes 8-bit pixels of 4 channels (RGBX or RGBA, not premultiplied) or of one (grey) to
 * width × height with a separable kernel: a horizontal pass, then a vertical one, 8-bit in between.
 */
export function resample(source: RawImage, width: number, height: number, kernel: KernelName): RawImage {
  const { channels } = source;
  if (channels !== 4 && channels !== 1) throw new Error('resample needs 4 channels or 1');
  const data = resampleInPlace(source.width, source.height, { width, height }, undefined, kernel, channels,
    (input) => input.set(source.data), (output) => Buffer.from(output));
  return { data, width, height, channels };
}

/** The part of the source that fills the output, in source pixels (fractions allowed). */
export interface SourceBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Grey (one channel) or RGBX/RGBA (four): the layouts the resampler works on. */
export type ResamplerChannels = 1 | 4;

/**
 * The same, without copies: `fill` writes the source pixels straight into the resampler's
 * memory and `use` reads the result from it. Both views are valid only during the call. With a
 * `box`, only that part of the source is resampled to `output` (a crop); by default, all of it.
 */
export function resampleInPlace<T>(
  sourceWidth: number, sourceHeight: number, output: { width: number; height: number }, box: SourceBox | undefined,
  kernel: KernelName, channels: ResamplerChannels, fill: (input: Buffer) => void, use: (output: Buffer) => T,
): T {
  const { width, height } = output;
  const x = axisTable(sourceWidth, width, kernel, box?.left, box?.width);
  const y = axisTable(sourceHeight, height, kernel, box?.top, box?.height);
  const w = wasm();
  const sizes = [sourceWidth * sourceHeight * channels, width * sourceHeight * channels, width * height * channels,
    x.start.byteLength, x.weights.byteLength, y.start.byteLength, y.weights.byteLength];
  // A bump layout from the heap base for this call only; memory grows to the largest image seen.
  const at: number[] = [];
  let next = (w.heap_base() + 15) & ~15;
  for (const size of sizes) {
    at.push(next);
    next = (next + size + 16 + 15) & ~15;
  }
  if (next > w.memory.buffer.byteLength) w.memory.grow(Math.ceil((next - w.memory.buffer.byteLength) / 65536));
  const heap = new Uint8Array(w.memory.buffer);
  const bytes = (a: Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  heap.set(bytes(x.start), at[3]);
  heap.set(bytes(x.weights), at[4]);
  heap.set(bytes(y.start), at[5]);
  heap.set(bytes(y.weights), at[6]);
  fill(Buffer.from(w.memory.buffer, at[0], sizes[0]));
  (channels === 1 ? w.hpass1 : w.hpass)(at[0], sourceWidth, sourceHeight, at[1], width, at[3], at[4], x.npairs);
  w.vpass(at[1], width * channels, at[2], height, at[5], at[6], y.npairs);
  return use(Buffer.from(w.memory.buffer, at[2], sizes[2]));
}
