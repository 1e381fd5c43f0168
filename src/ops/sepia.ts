import { Frame, hasAlpha } from '../image/frame.js';
import { toRgb } from '../image/pixels.js';
import type { ImageOperation } from './types.js';

export interface SepiaParams {
  amount: number;
}

/** The classic sepia matrix; rows give R, G, B from (R, G, B). */
export const SEPIA_MATRIX = [
  [0.393, 0.769, 0.189],
  [0.349, 0.686, 0.168],
  [0.272, 0.534, 0.131],
] as const;

export const sepia: ImageOperation<SepiaParams> = {
  kind: 'image',
  name: 'sepia',
  label: 'Sepia',
  summary: 'Warm brown tone of old photos (the standard sepia matrix, clipped); amount < 1 blends with the original',
  positional: ['amount'],
  params: {
    amount: { type: 'number', min: 0, max: 1, default: 1, label: 'Amount', description: '1 is full sepia, 0 leaves the image as it is' },
  },
  tiling: () => ({ kind: 'local', halo: 0 }),
  async apply(frame, p) {
    const image = toRgb(await frame.raw());
    const m = SEPIA_MATRIX.map((row, r) => row.map((v, c) => p.amount * v + (r === c ? 1 - p.amount : 0)));
    const { data, channels } = image;
    const out = Buffer.allocUnsafe(data.length);
    for (let i = 0; i < data.length; i += channels) {
      const r = data[i], g = data[i + 1], b = data[i + 2];
      // Buffer stores clamp out-of-range values, so only rounding is needed here.
      out[i] = Math.min(255, Math.round(m[0][0] * r + m[0][1] * g + m[0][2] * b));
      out[i + 1] = Math.min(255, Math.round(m[1][0] * r + m[1][1] * g + m[1][2] * b));
      out[i + 2] = Math.min(255, Math.round(m[2][0] * r + m[2][1] * g + m[2][2] * b));
      if (hasAlpha(channels)) out[i + 3] = data[i + 3];
    }
    return Frame.fromRaw({ ...image, data: out });
  },
};
