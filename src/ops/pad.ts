import { colorOrThrow } from '../image/color.js';
import type { ImageOperation } from './types.js';

export interface PadParams {
  top: number;
  right: number;
  bottom: number;
  left: number;
  background: string;
}

const side = (where: string) => ({ type: 'integer' as const, min: 0, max: 10_000, default: 0, description: `pixels added ${where}` });

export const pad: ImageOperation<PadParams> = {
  kind: 'image',
  name: 'pad',
  summary: 'Add a border of a colour around the image',
  positional: ['top', 'right', 'bottom', 'left'],
  params: {
    top: side('above'),
    right: side('on the right'),
    bottom: side('below'),
    left: side('on the left'),
    background: { type: 'color', default: '#000000', description: 'border colour' },
  },
  outputSize: (input, p) => ({ width: input.width + p.left + p.right, height: input.height + p.top + p.bottom }),
  stage: 'extend',
  tiling: () => ({ kind: 'geometry' }),
  async apply(frame, p) {
    return frame.pipe(this.stage!, (image) => image.extend({ top: p.top, right: p.right, bottom: p.bottom, left: p.left, background: colorOrThrow(p.background) }));
  },
};
