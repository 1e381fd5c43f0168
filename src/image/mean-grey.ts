import { luma } from './pixels.js';

/** The sum of the 601 grey of interleaved pixels (a grey image's own grey), for a mean taken in parts. */
export function greySum(data: Uint8Array, channels: number): number {
  let sum = 0;
  if (channels <= 2) for (let p = 0; p < data.length; p += channels) sum += data[p];
  else for (let p = 0; p < data.length; p += channels) sum += luma(data[p], data[p + 1], data[p + 2]);
  return sum;
}

/** A mean grey rounded as Pillow's ImageEnhance.Contrast rounds it: int(mean + 0.5). */
export function roundedMean(sum: number, count: number): number {
  return Math.trunc(sum / count + 0.5);
}
