import { Frame } from '../image/frame.js';
import { greyWithAlphaOf, toGreyPlane } from '../image/pixels.js';
import type { ImageOperation } from './types.js';

export interface ThresholdParams {
  value: number;
}

export const threshold: ImageOperation<ThresholdParams> = {
  kind: 'image',
  name: 'threshold',
  label: 'Black and white',
  summary: 'Black and white only: pixels whose grey is at least the level become white, the rest black',
  positional: ['value'],
  params: {
    value: { type: 'integer', min: 0, max: 255, default: 128, label: 'Level', description: 'the grey (0 black to 255 white) from which a pixel becomes white' },
  },
  tiling: () => ({ kind: 'local', halo: 0 }),
  async apply(frame, p) {
    const image = await frame.raw();
    const grey = toGreyPlane(image);
    for (let i = 0; i < grey.length; i++) grey[i] = grey[i] >= p.value ? 255 : 0;
    return Frame.fromRaw(greyWithAlphaOf(grey, image));
  },
};
