import { colorOrThrow } from '../image/color.js';
import type { ImageOperation } from './types.js';

export interface PadParams {
  top: number;
  right: number;
  bottom: number;
  left: number;
  background: string;
}

const side = (label: string, where: string) => ({ type: 'integer' as const, min: 0, max: 10_000, default: 0, label, description: `pixels added ${where}` });

export const pad: ImageOperation<PadParams> = {
  kind: 'image',
  name: 'pad',
  label: 'Border',
  summary: 'Add a border of a colour around the image',
  positional: ['top', 'right', 'bottom', 'left'],
  params: {
    top: side('Top', 'above'),
    right: side('Right', 'on the right'),
    bottom: side('Bottom', 'below'),
    left: side('Left', 'on the left'),
    background: { type: 'color', default: '#000000', label: 'Colour', description: 'colour of the border' },
  },
  outputSize: (input, p) => ({ width: input.width + p.left + p.right, height: input.height + p.top + p.bottom }),
  stage: 'extend',
  tiling: () => ({ kind: 'geometry' }),
  async apply(frame, p) {
    return frame.pipe(this.stage!, (image) => image.extend({ top: p.top, right: p.right, bottom: p.bottom, left: p.left, background: colorOrThrow(p.background) }));
  },
};
