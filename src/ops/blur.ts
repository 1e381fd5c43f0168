import type { ImageOperation } from './types.js';

export interface BlurParams {
  sigma: number;
}

export const blur: ImageOperation<BlurParams> = {
  kind: 'image',
  name: 'blur',
  summary: 'Gaussian blur',
  positional: ['sigma'],
  params: {
    sigma: { type: 'number', min: 0.3, max: 100, default: 2, description: 'standard deviation of the Gaussian, in pixels' },
  },
  async apply(frame, p) {
    return frame.pipe((image) => image.blur(p.sigma));
  },
};
