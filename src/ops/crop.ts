import { ImgfleetError } from '../errors.js';
import type { ImageOperation } from './types.js';

export interface CropParams {
  left: number;
  top: number;
  width: number;
  height: number;
}

export const crop: ImageOperation<CropParams> = {
  kind: 'image',
  name: 'crop',
  label: 'Crop',
  summary: 'Cut out a rectangle, measured in pixels from the top-left corner',
  positional: ['left', 'top', 'width', 'height'],
  params: {
    left: { type: 'integer', min: 0, default: 0, label: 'Left', description: 'pixels from the image’s left edge to the rectangle' },
    top: { type: 'integer', min: 0, default: 0, label: 'Top', description: 'pixels from the image’s top edge to the rectangle' },
    width: { type: 'integer', min: 1, required: true, label: 'Width', description: 'width of the rectangle in pixels' },
    height: { type: 'integer', min: 1, required: true, label: 'Height', description: 'height of the rectangle in pixels' },
  },
  outputSize: (_input, p) => ({ width: p.width, height: p.height }),
  stage: 'extract',
  tiling: () => ({ kind: 'geometry' }),
  async apply(frame, p) {
    const size = await frame.size();
    if (p.left + p.width > size.width || p.top + p.height > size.height) {
      throw new ImgfleetError('BAD_REGION',
        `crop: region ${p.width}×${p.height} at (${p.left}, ${p.top}) reaches outside the ${size.width}×${size.height} image`);
    }
    return frame.pipe(this.stage!, (image) => image.extract({ left: p.left, top: p.top, width: p.width, height: p.height }), () => ({ width: p.width, height: p.height }));
  },
};
