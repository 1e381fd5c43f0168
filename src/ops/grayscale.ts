import { Frame, hasAlpha } from '../image/frame.js';
import { greyWithAlphaOf, luma, toGreyPlane } from '../image/pixels.js';
import type { ImageOperation } from './types.js';

export interface GrayscaleParams {
  amount: number;
}

export const grayscale: ImageOperation<GrayscaleParams> = {
  kind: 'image',
  name: 'grayscale',
  label: 'Greyscale',
  summary: 'Shades of grey, weighted as the eye sees brightness (ITU-R 601 luma, as Pillow’s convert("L")); amount < 1 keeps some colour',
  positional: ['amount'],
  params: {
    amount: { type: 'number', min: 0, max: 1, default: 1, label: 'Amount', description: '1 is fully grey, 0 leaves the image as it is' },
  },
  tiling: () => ({ kind: 'local', halo: 0 }),
  async apply(frame, p) {
    const image = await frame.raw();
    if (image.channels <= 2 || p.amount === 0) return frame;
    if (p.amount === 1) return Frame.fromRaw(greyWithAlphaOf(toGreyPlane(image), image));
    const { data, channels } = image;
    const out = Buffer.allocUnsafe(data.length);
    const keep = 1 - p.amount;
    for (let i = 0; i < data.length; i += channels) {
      const grey = luma(data[i], data[i + 1], data[i + 2]) * p.amount;
      out[i] = Math.round(data[i] * keep + grey);
      out[i + 1] = Math.round(data[i + 1] * keep + grey);
      out[i + 2] = Math.round(data[i + 2] * keep + grey);
      if (hasAlpha(channels)) out[i + 3] = data[i + 3];
    }
    return Frame.fromRaw({ ...image, data: out });
  },
};
