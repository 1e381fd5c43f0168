import { Frame } from '../image/frame.js';
import { greySum, roundedMean } from '../image/mean-grey.js';
import { mapColourSamples } from '../image/pixels.js';
import type { ImageOperation } from './types.js';
import { pillowBlend } from './pillow-blend.js';

export interface ContrastParams {
  factor: number;
}

export const contrast: ImageOperation<ContrastParams> = {
  kind: 'image',
  name: 'contrast',
  label: 'Contrast',
  summary: 'Scale contrast as Pillow’s ImageEnhance.Contrast: blend with the mean grey',
  positional: ['factor'],
  params: {
    factor: { type: 'number', min: 0, max: 100, default: 1, label: 'Factor', description: '0 flat grey, 1 unchanged, 2 twice the contrast' },
  },
  async apply(frame, p) {
    if (p.factor === 1) return frame;
    const image = await frame.raw();
    return withMeanGrey(frame, p.factor, roundedMean(greySum(image.data, image.channels), image.width * image.height));
  },
  tiling: () => ({ kind: 'mean-grey', applyWithMean: (frame, p, mean) => withMeanGrey(frame, p.factor, mean) }),
};

/** The blend toward a given mean grey: per pixel once the mean is known. */
async function withMeanGrey(frame: Frame, factor: number, mean: number): Promise<Frame> {
  if (factor === 1) return frame;
  const table = pillowBlend(mean, factor);
  return Frame.fromRaw(mapColourSamples(await frame.raw(), (v) => table[v]));
}
