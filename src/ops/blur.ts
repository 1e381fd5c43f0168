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
  // libvips cuts its Gaussian mask where it falls below a fifth of its peak, well inside 3σ.
  stage: 'blur',
  tiling: (p) => ({ kind: 'local', halo: Math.ceil(3 * p.sigma) + 1 }),
  async apply(frame, p) {
    return frame.pipe(this.stage!, (image) => image.blur(p.sigma));
  },
};
