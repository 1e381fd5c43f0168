import { encode as blurhashEncode } from 'blurhash';
import { loadSharp } from '../image/sharp-module.js';
import { rgbaToThumbHash, thumbHashToDataURL } from 'thumbhash';

/** ThumbHash takes images of at most 100 px a side. */
export const THUMBHASH_SIZE = 100;
/** BlurHash's cost grows with pixels × components: 32 px is plenty for a few components. */
export const BLURHASH_SIZE = 32;

export interface Placeholders {
  /** The image's ThumbHash, base64. */
  thumbhash: string;
  blurhash: string;
  /** The ThumbHash drawn back as a small PNG, for an <img> to show while the image loads. */
  placeholderDataUrl: string;
  /** The most common colour, `#rrggbb`. */
  dominant: string;
}

/**
 * Placeholders and the dominant colour of a small thumbnail (RGBA, 8-bit sRGB, at most
 * THUMBHASH_SIZE a side), made from the image by shrink-on-load.
 */
export async function placeholders(thumb: { data: Buffer; width: number; height: number }): Promise<Placeholders> {
  const { data, width, height } = thumb;
  const thumbhash = rgbaToThumbHash(width, height, data);
  const scale = Math.min(1, BLURHASH_SIZE / Math.max(width, height));
  const small = await loadSharp()(data, { raw: { width, height, channels: 4 } })
    .resize(Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale)), { fit: 'fill' })
    .raw().toBuffer({ resolveWithObject: true });
  const portrait = small.info.height > small.info.width;
  const blurhash = blurhashEncode(new Uint8ClampedArray(small.data), small.info.width, small.info.height, portrait ? 3 : 4, portrait ? 4 : 3);
  const { dominant } = await loadSharp()(data, { raw: { width, height, channels: 4 } }).stats();
  return {
    thumbhash: Buffer.from(thumbhash).toString('base64'),
    blurhash,
    placeholderDataUrl: thumbHashToDataURL(thumbhash),
    dominant: `#${[dominant.r, dominant.g, dominant.b].map((v) => v.toString(16).padStart(2, '0')).join('')}`,
  };
}
