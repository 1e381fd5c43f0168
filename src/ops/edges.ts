import { Frame, type RawImage } from '../image/frame.js';
import { canny } from '../image/canny.js';
import { colorOrThrow, type Rgba } from '../image/color.js';
import { toGreyPlane, toRgb } from '../image/pixels.js';
import { sobelMagnitude } from '../image/sobel.js';
import type { ImageOperation } from './types.js';

export interface EdgesParams {
  method: 'sobel' | 'canny';
  low: number;
  high: number;
  overlay: string;
}

export const edges: ImageOperation<EdgesParams> = {
  kind: 'image',
  name: 'edges',
  label: 'Find edges',
  summary: 'Edge map: Sobel gradient magnitude, or Canny’s thin lines with hysteresis; optionally drawn over the original',
  positional: ['method'],
  params: {
    method: { type: 'enum', values: ['sobel', 'canny'], default: 'sobel', label: 'Method', description: 'sobel shows how strong every edge is; canny draws thin lines along the clear edges' },
    low: { type: 'number', min: 0, max: 2040, default: 100, label: 'Weak edge level (canny)', description: 'canny only: a gradient (|gx|+|gy|) above this continues an edge' },
    high: { type: 'number', min: 0, max: 2040, default: 200, label: 'Strong edge level (canny)', description: 'canny only: a gradient above this starts an edge' },
    overlay: {
      type: 'color', allowNone: true, default: 'none', label: 'Draw over the photo',
      description: 'none gives the edge map; a colour draws the edges in it over the half-bright original',
    },
  },
  check: (p) => (p.low > p.high ? ['low', `must not exceed high (${p.high}), got ${p.low}`] : undefined),
  tiling: (p) => (p.method === 'canny'
    ? { kind: 'whole', reason: 'edges:canny follows weak edges from strong ones across the whole image (hysteresis)' }
    : { kind: 'local', halo: 1 }),
  async apply(frame, p) {
    const image = await frame.raw();
    const grey = toGreyPlane(image);
    const { width, height } = image;
    const map = p.method === 'canny' ? canny(grey, width, height, p.low, p.high) : sobelMagnitude(grey, width, height);
    if (p.overlay === 'none') {
      return Frame.fromRaw({ data: Buffer.from(map.buffer, map.byteOffset, map.byteLength), width, height, channels: 1 });
    }
    return Frame.fromRaw(drawOver(toRgb(image), map, colorOrThrow(p.overlay)));
  },
};

/** Each pixel becomes the half-bright original blended toward `color` by the edge strength. */
function drawOver(image: RawImage, map: Uint8Array, color: Rgba): RawImage {
  const { data, channels } = image;
  const out = Buffer.allocUnsafe(data.length);
  const ink = [color.r, color.g, color.b];
  for (let i = 0, p = 0; i < map.length; i++, p += channels) {
    const t = (map[i] / 255) * color.alpha;
    for (let c = 0; c < 3; c++) out[p + c] = Math.round((data[p + c] / 2) * (1 - t) + ink[c] * t);
    if (channels === 4) out[p + 3] = data[p + 3];
  }
  return { ...image, data: out };
}
