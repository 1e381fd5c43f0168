import { colorOrThrow } from '../image/color.js';
import type { ImageOperation } from './types.js';

export interface RotateParams {
  angle: number;
  background: string;
}

export const rotate: ImageOperation<RotateParams> = {
  kind: 'image',
  name: 'rotate',
  label: 'Rotate',
  summary: 'Turn clockwise by any angle; quarter turns (multiples of 90°) lose nothing',
  positional: ['angle'],
  params: {
    angle: { type: 'number', min: -3600, max: 3600, default: 90, label: 'Angle (degrees)', description: 'clockwise; a negative angle turns anticlockwise' },
    background: { type: 'color', default: '#000000', label: 'Corner colour', description: 'fills the corners that an angle other than a quarter turn uncovers' },
  },
  outputSize(input, p) {
    const rad = (p.angle * Math.PI) / 180;
    const cos = Math.abs(Math.cos(rad));
    const sin = Math.abs(Math.sin(rad));
    return {
      width: Math.ceil(input.width * cos + input.height * sin),
      height: Math.ceil(input.width * sin + input.height * cos),
    };
  },
  stage: 'orient',
  tiling: () => ({ kind: 'geometry' }),
  async apply(frame, p) {
    return frame.pipe(this.stage!, (image) => image.rotate(p.angle, { background: colorOrThrow(p.background) }));
  },
};
