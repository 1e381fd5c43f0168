import type { ImageOperation } from './types.js';

export interface SaturateParams {
  amount: number;
}

export const saturate: ImageOperation<SaturateParams> = {
  kind: 'image',
  name: 'saturate',
  label: 'Saturation',
  summary: 'Scale colour saturation (chroma in LCh): 0 grey, 1 unchanged, 2 twice as vivid',
  positional: ['amount'],
  params: {
    amount: { type: 'number', min: 0, max: 10, default: 1, label: 'Amount', description: '0 grey, 1 unchanged, 2 twice as vivid' },
  },
  // A per-pixel change of chroma in LCh.
  stage: 'modulate',
  tiling: () => ({ kind: 'local', halo: 0 }),
  async apply(frame, p) {
    if (p.amount === 1 || frame.channels <= 2) return frame;
    return frame.pipe(this.stage!, (image) => image.modulate({ saturation: p.amount }));
  },
};
