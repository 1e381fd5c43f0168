import type { ImageOperation } from './types.js';

export interface BlurParams {
  sigma: number;
}

export const blur: ImageOperation<BlurParams> = {
  kind: 'image',
  name: 'blur',
  label: 'Blur',
  summary: 'Soften the image with a Gaussian blur',
  positional: ['sigma'],
  params: {
    sigma: { type: 'number', min: 0.3, max: 100, default: 2, label: 'Radius (σ)', description: 'how far the blur spreads, in pixels (the Gaussian’s standard deviation): 1 softens, 10 is strong' },
  },
  // libvips cuts its Gaussian mask where it falls below a fifth of its peak, well inside 3σ.
  stage: 'blur',
  tiling: (p) => ({ kind: 'local', halo: Math.ceil(3 * p.sigma) + 1 }),
  async apply(frame, p) {
    return frame.pipe(this.stage!, (image) => image.blur(p.sigma));
  },
};
