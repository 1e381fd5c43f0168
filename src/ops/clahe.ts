import type { ImageOperation } from './types.js';

export interface ClaheParams {
  width: number;
  height: number;
  maxSlope: number;
}

export const clahe: ImageOperation<ClaheParams> = {
  kind: 'image',
  name: 'clahe',
  summary: 'Contrast-limited adaptive histogram equalisation (local contrast)',
  positional: ['width', 'height', 'maxSlope'],
  params: {
    width: { type: 'integer', min: 1, max: 1000, default: 8, description: 'width of the search window, in pixels' },
    height: { type: 'integer', min: 1, max: 1000, default: 8, description: 'height of the search window, in pixels' },
    maxSlope: { type: 'integer', min: 0, max: 100, default: 3, description: 'contrast limit; 0 disables it' },
  },
  // libvips equalises each pixel by the histogram of the window centred on it.
  stage: 'clahe',
  tiling: (p) => ({ kind: 'local', halo: Math.ceil(Math.max(p.width, p.height) / 2) + 1 }),
  async apply(frame, p) {
    return frame.pipe(this.stage!, (image) => image.clahe({ width: p.width, height: p.height, maxSlope: p.maxSlope }));
  },
};
