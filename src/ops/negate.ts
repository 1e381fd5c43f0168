import type { ImageOperation } from './types.js';

export const negate: ImageOperation<Record<string, never>> = {
  kind: 'image',
  name: 'negate',
  label: 'Invert colours',
  summary: 'Invert colours like a photo negative: 255 − value; transparency untouched',
  params: {},
  stage: 'negate',
  tiling: () => ({ kind: 'local', halo: 0 }),
  async apply(frame) {
    return frame.pipe(this.stage!, (image) => image.negate({ alpha: false }));
  },
};
