import { Frame } from '../image/frame.js';
import { mapColourSamples, toGreyPlane } from '../image/pixels.js';
import type { ImageOperation } from './types.js';
import { pillowBlend } from './pillow-blend.js';

export interface ContrastParams {
  factor: number;
}

export const contrast: ImageOperation<ContrastParams> = {
  kind: 'image',
  name: 'contrast',
  summary: 'Scale contrast as Pillow’s ImageEnhance.Contrast: blend with the mean grey',
  positional: ['factor'],
  params: {
    factor: { type: 'number', min: 0, max: 100, default: 1, description: '0 flat grey, 1 unchanged, 2 twice the contrast' },
  },
  async apply(frame, p) {
    if (p.factor === 1) return frame;
    const image = await frame.raw();
    const table = pillowBlend(meanGrey(toGreyPlane(image)), p.factor);
    return Frame.fromRaw(mapColourSamples(image, (v) => table[v]));
  },
};

/** The mean of the 601 luma, rounded as Pillow's ImageEnhance.Contrast does: int(mean + 0.5). */
export function meanGrey(grey: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < grey.length; i++) sum += grey[i];
  return Math.trunc(sum / grey.length + 0.5);
}
