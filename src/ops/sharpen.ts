import { Frame, hasAlpha } from '../image/frame.js';
import { unsharpLightness } from '../image/unsharp-lightness.js';
import { LARGE_IMAGE_PIXELS } from '../image/vips-threads.js';
import type { ImageOperation, Size } from './types.js';

/**
 * Below the size where libvips' threads pay, the pixels are sharpened in WebAssembly; from it,
 * libvips' threads and its streaming from decoder to encoder win (20 photos of 3–12 MP, sharpened
 * at full size: 4.7 s with libvips, 6.8 s in WebAssembly).
 */
const onPixels = (size: Size) => size.width * size.height < LARGE_IMAGE_PIXELS;

export interface SharpenParams {
  sigma: number;
  amount: number;
}

export const sharpen: ImageOperation<SharpenParams> = {
  kind: 'image',
  name: 'sharpen',
  label: 'Sharpen',
  summary: 'Make edges crisper, with an unsharp mask on lightness',
  positional: ['sigma', 'amount'],
  params: {
    sigma: { type: 'number', min: 0.3, max: 10, default: 1, label: 'Radius (σ)', description: 'size of the details that get crisper, in pixels (the mask’s Gaussian σ)' },
    amount: { type: 'number', min: 0, max: 20, default: 1, label: 'Strength', description: 'how much crisper: 1 is moderate, 3 is strong' },
  },
  // 28 ns a pixel on this project's 2-core machine when nothing else runs (1.35–1.38 ms for a
  // 256×192 thumbnail).
  pixelWorkNs: (size) => (onPixels(size) ? 28 * size.width * size.height : 0),
  // The mask's Gaussian, as for blur; the rest is per pixel.
  tiling: (p) => ({ kind: 'local', halo: Math.ceil(3 * p.sigma) + 1 }),
  // On a small image libvips' arithmetic is repeated on the pixels, where it costs less; an
  // image with alpha goes to libvips, which sharpens it premultiplied.
  stageAt: (size, _p, channels) => (hasAlpha(channels) || !onPixels(size) ? 'sharpen' : undefined),
  async apply(frame, p) {
    // libvips' unsharp mask: it sharpens flat areas by m1 and jagged ones by m2; its defaults
    // (1, 2) are amount 1.
    const settings = { sigma: p.sigma, m1: p.amount, m2: 2 * p.amount };
    if (this.stageAt!(frame.expectedSize() ?? await frame.size(), p, frame.channels)) return frame.pipe('sharpen', (image) => image.sharpen(settings));
    return Frame.fromRaw(unsharpLightness(await frame.raw(), settings));
  },
};
