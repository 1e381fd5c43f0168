import { colorOrThrow } from '../image/color.js';
import type { ImageOperation, Size } from './types.js';

export type Fit = 'cover' | 'contain' | 'fill' | 'inside' | 'outside';

export interface ResizeParams {
  width?: number;
  height?: number;
  fit: Fit;
  kernel: 'nearest' | 'linear' | 'cubic' | 'mitchell' | 'lanczos2' | 'lanczos3';
  enlarge: boolean;
  background: string;
}

export const resize: ImageOperation<ResizeParams> = {
  kind: 'image',
  name: 'resize',
  label: 'Resize',
  summary: 'Make the image smaller or larger: give a width, a height or both; fill gives exactly width×height',
  positional: ['width', 'height'],
  params: {
    width: { type: 'integer', min: 1, max: 65_535, label: 'Width', description: 'target width in pixels; without it, the height alone decides' },
    height: { type: 'integer', min: 1, max: 65_535, label: 'Height', description: 'target height in pixels; without it, the width alone decides' },
    fit: {
      type: 'enum', values: ['cover', 'contain', 'fill', 'inside', 'outside'], default: 'inside', label: 'Fit',
      description: 'with both width and height, inside keeps the whole image within them, outside covers them (both keep the shape); cover crops, contain pads and fill stretches to exactly width×height',
    },
    kernel: {
      type: 'enum', values: ['nearest', 'linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3'], default: 'lanczos3', label: 'Resampling filter',
      description: 'how new pixels are computed: lanczos3 is the sharpest, nearest keeps hard pixel edges (pixel art)',
    },
    enlarge: { type: 'boolean', default: true, label: 'Allow enlarging', description: 'when off, an image smaller than the target keeps its size' },
    background: { type: 'color', default: '#000000', label: 'Padding colour', description: 'colour of the bars that fit=contain adds' },
  },
  check: (p) => (p.width === undefined && p.height === undefined ? ['width', 'give width, height or both'] : undefined),
  outputSize: (input, p) => resizedSize(input, p),
  tiling: () => ({ kind: 'geometry' }),
  async apply(frame, p) {
    return frame.pipe((image) => image.resize({
      width: p.width,
      height: p.height,
      fit: p.fit,
      kernel: p.kernel,
      withoutEnlargement: !p.enlarge,
      background: colorOrThrow(p.background),
    }));
  },
};

/** The size sharp will produce, for limit checks before decoding. */
export function resizedSize(input: Size, p: Pick<ResizeParams, 'width' | 'height' | 'fit' | 'enlarge'>): Size {
  const sx = p.width === undefined ? undefined : p.width / input.width;
  const sy = p.height === undefined ? undefined : p.height / input.height;
  let scaleX: number;
  let scaleY: number;
  if (sx === undefined || sy === undefined) {
    scaleX = scaleY = (sx ?? sy) as number;
  } else if (p.fit === 'fill' || p.fit === 'cover' || p.fit === 'contain') {
    return p.enlarge ? { width: p.width!, height: p.height! } : {
      width: Math.min(p.width!, input.width), height: Math.min(p.height!, input.height),
    };
  } else {
    scaleX = scaleY = p.fit === 'inside' ? Math.min(sx, sy) : Math.max(sx, sy);
  }
  if (!p.enlarge) {
    scaleX = Math.min(scaleX, 1);
    scaleY = Math.min(scaleY, 1);
  }
  return {
    width: Math.max(1, Math.round(input.width * scaleX)),
    height: Math.max(1, Math.round(input.height * scaleY)),
  };
}
