import type { ImageOperation } from './types.js';

export interface FlipParams {
  direction: 'horizontal' | 'vertical' | 'both';
}

export const flip: ImageOperation<FlipParams> = {
  kind: 'image',
  name: 'flip',
  label: 'Flip',
  summary: 'Mirror the image: horizontal swaps left and right, vertical swaps top and bottom',
  positional: ['direction'],
  params: {
    direction: { type: 'enum', values: ['horizontal', 'vertical', 'both'], default: 'horizontal', label: 'Direction', description: 'which way to mirror' },
  },
  stage: 'orient',
  tiling: () => ({ kind: 'geometry' }),
  async apply(frame, p) {
    // In sharp, flop() mirrors about the vertical axis (left↔right) and flip() about the horizontal one.
    return frame.pipe(this.stage!, (image) => {
      const mirrored = p.direction === 'vertical' ? image : image.flop();
      return p.direction === 'horizontal' ? mirrored : mirrored.flip();
    });
  },
};
