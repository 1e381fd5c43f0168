import type { ImageOperation } from './types.js';

export interface ClaheParams {
  width: number;
  height: number;
  maxSlope: number;
}

export const clahe: ImageOperation<ClaheParams> = {
  kind: 'image',
  name: 'clahe',
  label: 'Local contrast',
  summary: 'Bring out detail in dark and bright areas: contrast-limited adaptive histogram equalisation (CLAHE)',
  positional: ['width', 'height', 'maxSlope'],
  params: {
    width: { type: 'integer', min: 1, max: 1000, default: 8, label: 'Window width', description: 'width of the neighbourhood each pixel is evened out in, in pixels' },
    height: { type: 'integer', min: 1, max: 1000, default: 8, label: 'Window height', description: 'height of that neighbourhood, in pixels' },
    maxSlope: { type: 'integer', min: 0, max: 100, default: 3, label: 'Contrast limit', description: 'how far contrast may be raised; 0 means no limit' },
  },
  // libvips equalises each pixel by the histogram of the window centred on it.
  stage: 'clahe',
  tiling: (p) => ({ kind: 'local', halo: Math.ceil(Math.max(p.width, p.height) / 2) + 1 }),
  async apply(frame, p) {
    return frame.pipe(this.stage!, (image) => image.clahe({ width: p.width, height: p.height, maxSlope: p.maxSlope }));
  },
};
