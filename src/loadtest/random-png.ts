import { loadSharp } from '../image/sharp-module.js';

/** A width×height RGB PNG of pseudo-random pixels (the same for the same seed), as a default PNG encoder writes it: the load test's image. */
export async function randomPng(width = 512, height = 512, seed = 1): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  // xorshift32: fast, and repeatable without a dependency.
  let x = seed >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = x & 0xff;
  }
  return loadSharp()(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}
