import { type Channels, type RawImage, hasAlpha } from './frame.js';

/**
 * ITU-R 601 luma exactly as Pillow's convert('L'): L = (R·19595 + G·38470 + B·7471 + 0x8000) >> 16.
 */
export function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

/** One grey byte per pixel (the image's own grey, or the 601 luma of its colour). */
export function toGreyPlane(image: RawImage): Uint8Array {
  const { data, width, height, channels } = image;
  const n = width * height;
  const grey = new Uint8Array(n);
  if (channels <= 2) {
    for (let i = 0, p = 0; i < n; i++, p += channels) grey[i] = data[p];
  } else {
    for (let i = 0, p = 0; i < n; i++, p += channels) grey[i] = luma(data[p], data[p + 1], data[p + 2]);
  }
  return grey;
}

/** Builds an image from a grey plane, keeping the source's alpha channel if it had one. */
export function greyWithAlphaOf(grey: Uint8Array, source: RawImage): RawImage {
  const { width, height } = source;
  if (!hasAlpha(source.channels)) {
    return { data: Buffer.from(grey.buffer, grey.byteOffset, grey.byteLength), width, height, channels: 1 };
  }
  const n = width * height;
  const data = Buffer.allocUnsafe(n * 2);
  const alphaAt = source.channels - 1;
  for (let i = 0, p = 0; i < n; i++, p += source.channels) {
    data[2 * i] = grey[i];
    data[2 * i + 1] = source.data[p + alphaAt];
  }
  return { data, width, height, channels: 2 };
}

/**
 * Applies `map` to every colour sample (alpha untouched) and returns a new image with the
 * same layout. `map` gets the sample value and its channel index.
 */
export function mapColourSamples(image: RawImage, map: (value: number, channel: number) => number): RawImage {
  const { data, channels } = image;
  const out = Buffer.allocUnsafe(data.length);
  const colour = hasAlpha(channels) ? channels - 1 : channels;
  for (let p = 0; p < data.length; p += channels) {
    for (let c = 0; c < colour; c++) out[p + c] = map(data[p + c], c);
    if (colour < channels) out[p + colour] = data[p + colour];
  }
  return { ...image, data: out };
}

/** Expands a grey (+alpha) image to RGB (+alpha). */
export function toRgb(image: RawImage): RawImage {
  if (image.channels >= 3) return image;
  const { data, width, height } = image;
  const alpha = image.channels === 2;
  const channels: Channels = alpha ? 4 : 3;
  const n = width * height;
  const out = Buffer.allocUnsafe(n * channels);
  for (let i = 0; i < n; i++) {
    const v = data[i * image.channels];
    const o = i * channels;
    out[o] = v; out[o + 1] = v; out[o + 2] = v;
    if (alpha) out[o + 3] = data[i * 2 + 1];
  }
  return { data: out, width, height, channels };
}

export function clampByte(value: number): number {
  return value <= 0 ? 0 : value >= 255 ? 255 : value;
}
