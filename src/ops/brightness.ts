import { Frame } from '../image/frame.js';
import { mapColourSamples } from '../image/pixels.js';
import type { ImageOperation } from './types.js';
import { pillowBlend } from './pillow-blend.js';

export interface BrightnessParams {
  factor: number;
}

export const brightness: ImageOperation<BrightnessParams> = {
  kind: 'image',
  name: 'brightness',
  label: 'Brightness',
  summary: 'Scale brightness as Pillow’s ImageEnhance.Brightness: 0 black, 1 unchanged, 2 twice as bright',
  positional: ['factor'],
  params: {
    factor: { type: 'number', min: 0, max: 100, default: 1, label: 'Factor', description: '0 black, 1 unchanged, 2 twice as bright' },
  },
  tiling: () => ({ kind: 'local', halo: 0 }),
  async apply(frame, p) {
    if (p.factor === 1) return frame;
    const image = await frame.raw();
    const table = pillowBlend(0, p.factor);
    return Frame.fromRaw(mapColourSamples(image, (v) => table[v]));
  },
};
