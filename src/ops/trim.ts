import { rawToSharp } from '../image/frame.js';
import type { ImageOperation } from './types.js';

export interface TrimParams {
  threshold: number;
}

export const trim: ImageOperation<TrimParams> = {
  kind: 'image',
  name: 'trim',
  label: 'Trim border',
  summary: 'Cut away a border of one colour (the top-left pixel’s) around the image; an image of one colour is kept whole',
  positional: ['threshold'],
  params: {
    threshold: {
      type: 'number', min: 0, max: 255, default: 10, label: 'Threshold',
      description: 'how far, in levels of 0–255, a pixel may differ from the border colour and still be border',
    },
  },
  notPerFrame: 'each frame would lose a border of its own size, and the frames of an animation keep one size',
  // The border is known only once the pixels are: the size stays at most the input's.
  tiling: () => ({ kind: 'geometry' }),
  async apply(frame, p) {
    const pixels = await frame.raw();
    // libvips finds the box (vips_find_trim); only its place and size are used.
    const { info } = await rawToSharp(pixels).trim({ threshold: p.threshold }).toBuffer({ resolveWithObject: true });
    const box = { left: -(info.trimOffsetLeft ?? 0), top: -(info.trimOffsetTop ?? 0), width: info.width, height: info.height };
    if (box.width === pixels.width && box.height === pixels.height) return frame;
    return frame.pipe('extract', (image) => image.extract(box));
  },
};
