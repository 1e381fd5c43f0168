import { LITTLE_ENDIAN } from '../byte-order.js';
import type { Rgba } from '../color.js';
import type { RawImage } from '../frame.js';
import { orientPixels, storedRect, storedSize } from '../orientation.js';
import { KERNELS, type KernelName } from './kernels.js';
import { resampleInPlace, type ResamplerChannels, type SourceBox } from './wasm-resampler.js';

/** Where a resize puts the pixels (see resizeGeometry in src/ops/resize.ts). */
export interface PixelGeometry {
  resized: { width: number; height: number };
  crop?: { left: number; top: number; width: number; height: number };
  embed?: { left: number; top: number; width: number; height: number };
  output: { width: number; height: number };
}

/**
 * The pixels the resampler is given. `box`: the part of them the output is made from, in
 * fractions of a pixel, when not the whole image or, for a cover, its centred box (coverBox):
 * a JPEG decoded at 1/4 holds width / 4 columns of the photo, the last one partial; an image
 * resized first by libvips holds each side at its own scale.
 */
export interface ResamplerSource {
  width: number;
  height: number;
  box?: SourceBox;
}

/**
 * Resizes with the SIMD resampler: the source's RGBX pixels (or grey ones, with `channels` 1)
 * are written by `fill` straight into the resampler's memory, only the part of the source that
 * makes the output is resampled (cover), and the result is laid on a canvas of the background
 * (contain; grey takes its red). `use` gets RGBX pixels (the fourth byte is padding) or grey
 * ones, which may be the resampler's own memory, valid only during the call: by default, a copy.
 * `orientation`: the source is stored turned by this EXIF orientation and `geometry` is of the
 * image shown upright; the resampler works on the stored pixels and turns its small result.
 */
export function resizeInResampler<T = RawImage>(
  source: ResamplerSource, geometry: PixelGeometry, kernel: KernelName, background: Rgba, channels: ResamplerChannels,
  fill: (pixels: Buffer) => void, use: (image: RawImage) => T = copyOf as (image: RawImage) => T, orientation = 1,
): T {
  const stored = storedGeometry(geometry, orientation);
  const size = stored.crop ?? stored.resized;
  return resampleInPlace(source.width, source.height, size, source.box ?? coverBox(source, stored), kernel, channels, fill, (resampled) => {
    const pixels = orientPixels({ data: resampled, ...size, channels }, orientation).data;
    return use({ data: geometry.embed ? embed(pixels, channels, geometry, background) : pixels, ...geometry.output, channels });
  });
}

/** The geometry's resize and crop as the stored pixels hold them (the padding is laid on once turned). */
export function storedGeometry(geometry: PixelGeometry, orientation: number): PixelGeometry {
  if (orientation === 1) return geometry;
  const { resized, crop, output } = geometry;
  return {
    resized: storedSize(resized, orientation),
    crop: crop && storedRect(crop, resized, orientation),
    output: storedSize(output, orientation),
  };
}

/**
 * The part of the source a cover keeps: the centred box of the output's shape, in source
 * pixels, as Pillow's ImageOps.fit cuts it. libvips instead scales the whole image to whole
 * pixels and cuts whole pixels of that, up to half a pixel off centre and a little off scale
 * (4–5 dB below Pillow on 500×375 → 400×400): the size and the middle kept are the same, the
 * samples are where they belong. Unscaled, it cuts whole pixels, as libvips does.
 */
export function coverBox(source: { width: number; height: number }, geometry: PixelGeometry): SourceBox | undefined {
  const { crop, resized } = geometry;
  if (!crop) return undefined;
  if (resized.width === source.width && resized.height === source.height) return crop;
  const aspect = crop.width / crop.height;
  if (source.width / source.height > aspect) {
    const width = source.height * aspect;
    return { left: (source.width - width) / 2, top: 0, width, height: source.height };
  }
  const height = source.width / aspect;
  return { left: 0, top: (source.height - height) / 2, width: source.width, height };
}

function copyOf(image: RawImage): RawImage {
  return { ...image, data: Buffer.from(image.data) };
}

/** The same for decoded RGB or grey pixels, giving back the same layout (`box`: see ResamplerSource). */
export function resizeColourOrGrey(image: RawImage, geometry: PixelGeometry, kernel: KernelName, background: Rgba, box?: SourceBox): RawImage {
  const { data, channels } = image;
  const source = { width: image.width, height: image.height, box };
  if (channels === 1) return resizeInResampler(source, geometry, kernel, background, 1, (into) => into.set(data));
  if (channels !== 3) throw new Error('resizeColourOrGrey takes RGB or grey pixels');
  const rgbx = resizeInResampler(source, geometry, kernel, background, 4, (into) => {
    for (let p = 0, o = 0; p < data.length; p += 3, o += 4) {
      into[o] = data[p];
      into[o + 1] = data[p + 1];
      into[o + 2] = data[p + 2];
      into[o + 3] = 255;
    }
  });
  return rgbFromRgbx(rgbx);
}

/** Whether the resampler can make `to` from `from`: its fixed window of taps must fit inside the source. */
export function fitsResampler(from: { width: number; height: number }, to: { width: number; height: number }, kernel: KernelName): boolean {
  const fits = (inSize: number, outSize: number) => outSize >= 1 && 2 * Math.ceil(KERNELS[kernel].support * Math.max(1, inSize / outSize)) + 2 <= inSize;
  return fits(from.width, to.width) && fits(from.height, to.height);
}

/** The resized pixels laid on a canvas of the background colour (fit=contain). */
function embed(pixels: Buffer, channels: ResamplerChannels, geometry: PixelGeometry, background: Rgba): Buffer {
  const { output } = geometry;
  const at = geometry.embed!;
  const canvas = Buffer.allocUnsafe(output.width * output.height * channels);
  canvas.fill(Buffer.from([background.r, background.g, background.b, 255].slice(0, channels)));
  const row = at.width * channels;
  for (let y = 0; y < at.height; y++) pixels.copy(canvas, ((at.top + y) * output.width + at.left) * channels, y * row, (y + 1) * row);
  return canvas;
}

/** RGBX from the resampler as RGB: four pixels of 16 bytes become 12, a 32-bit word at a time. */
export function rgbFromRgbx(image: RawImage): RawImage {
  if (image.channels !== 4) return image;
  const n = image.width * image.height;
  const from = image.data;
  const data = Buffer.allocUnsafe(n * 3);
  let i = 0;
  if (LITTLE_ENDIAN && from.byteOffset % 4 === 0 && data.byteOffset % 4 === 0) {
    const pixels = new Uint32Array(from.buffer, from.byteOffset, n);
    const words = new Uint32Array(data.buffer, data.byteOffset, Math.floor((n * 3) / 4));
    for (let w = 0; i + 4 <= n; i += 4, w += 3) {
      const a = pixels[i], b = pixels[i + 1], c = pixels[i + 2], d = pixels[i + 3];
      words[w] = (a & 0xffffff) | (b << 24);
      words[w + 1] = ((b >>> 8) & 0xffff) | (c << 16);
      words[w + 2] = ((c >>> 16) & 0xff) | (d << 8);
    }
  }
  for (let o = i * 3, p = i * 4; i < n; i++, o += 3, p += 4) {
    data[o] = from[p];
    data[o + 1] = from[p + 1];
    data[o + 2] = from[p + 2];
  }
  return { ...image, data, channels: 3 };
}
