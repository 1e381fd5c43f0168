import type { ImageOperation } from './types.js';

export const negate: ImageOperation<Record<string, never>> = {
  kind: 'image',
  name: 'negate',
  summary: 'Invert colours: 255 − value, alpha untouched',
  params: {},
  stage: 'negate',
  tiling: () => ({ kind: 'local', halo: 0 }),
  async apply(frame) {
    return frame.pipe(this.stage!, (image) => image.negate({ alpha: false }));
  },
};
