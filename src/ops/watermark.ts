import { loadSharp } from '../image/sharp-module.js';
import { Frame, type RawImage } from '../image/frame.js';
import { toRgb } from '../image/pixels.js';
import { colorOrThrow } from '../image/color.js';
import { renderTextMaskWithin } from '../image/text-mask.js';
import type { ImageOperation, OpContext, Size } from './types.js';

export const POSITIONS = ['top-left', 'top', 'top-right', 'left', 'center', 'right', 'bottom-left', 'bottom', 'bottom-right'] as const;
export type Position = (typeof POSITIONS)[number];

export interface WatermarkParams {
  text?: string;
  image?: string;
  position: Position;
  opacity: number;
  size?: number;
  color: string;
  margin?: number;
}

export const watermark: ImageOperation<WatermarkParams> = {
  kind: 'image',
  name: 'watermark',
  label: 'Watermark',
  summary: 'Text (drawn with a real font) or a logo, blended in at a position',
  positional: ['text'],
  params: {
    text: { type: 'string', maxLength: 200, label: 'Text', description: 'the words to draw' },
    image: { type: 'string', maxLength: 1000, label: 'Logo', description: 'a logo to draw instead of text: the name of an image sent with the request (multipart field logo) or of a file in the server’s assets folder' },
    position: { type: 'enum', values: POSITIONS, default: 'bottom-right', label: 'Position', description: 'where to place it' },
    opacity: { type: 'number', min: 0, max: 1, default: 0.5, label: 'Opacity', description: '0 invisible, 1 fully opaque' },
    size: {
      type: 'integer', min: 1, max: 10_000, label: 'Size (pixels)',
      description: 'text height or logo width in pixels (default: 6% of the shorter side for text, 20% of the width for a logo)',
    },
    color: { type: 'color', default: '#ffffff', label: 'Text colour', description: 'colour of the text' },
    margin: { type: 'integer', min: 0, max: 10_000, label: 'Margin (pixels)', description: 'gap to the edges in pixels (default: 2% of the shorter side)' },
  },
  check: (p) => {
    if ((p.text === undefined) === (p.image === undefined)) return ['text', 'give either text or image (a logo), not both or neither'];
    return undefined;
  },
  tiling: () => ({ kind: 'placed' }),
  // 1.3 ms for text on a 400×300 image on this project's 2-core machine; the mark never
  // covers more than the image.
  pixelWorkNs: (size) => 12 * size.width * size.height,
  async apply(frame, p, ctx) {
    const base = await frame.raw();
    const shorter = Math.min(base.width, base.height);
    const margin = p.margin ?? Math.round(shorter * 0.02);
    const room = { width: Math.max(1, base.width - 2 * margin), height: Math.max(1, base.height - 2 * margin) };
    const mark = p.text !== undefined
      ? await textOverlay(p.text, p.size ?? Math.max(8, Math.round(shorter * 0.06)), p, room)
      : await logoOverlay(p.image!, p.size ?? Math.max(1, Math.round(base.width * 0.2)), p, room, ctx);
    return Frame.fromRaw(blendInto(toRgb(base), mark, place(p.position, base, mark, margin)));
  },
};

/**
 * Source-over alpha compositing of an RGBA overlay onto an RGB(A) image, in place: the pixels
 * are the step's own (a frame is not used after a step has read it), and a copy of a whole
 * small photo cost more than drawing the mark on it. The image's alpha is kept.
 */
function blendInto(base: RawImage, mark: Overlay, at: { left: number; top: number }): RawImage {
  const { data, channels } = base;
  const width = Math.min(mark.width, base.width - at.left);
  const height = Math.min(mark.height, base.height - at.top);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const m = (y * mark.width + x) * 4;
      const a = mark.data[m + 3] / 255;
      if (a === 0) continue;
      const o = ((at.top + y) * base.width + at.left + x) * channels;
      for (let c = 0; c < 3; c++) data[o + c] = Math.round(data[o + c] * (1 - a) + mark.data[m + c] * a);
    }
  }
  return { ...base, data };
}

interface Overlay {
  data: Buffer;
  width: number;
  height: number;
}

async function textOverlay(text: string, pixelHeight: number, p: WatermarkParams, room: Size): Promise<Overlay> {
  const mask = await renderTextMaskWithin(text, pixelHeight, room);
  const color = colorOrThrow(p.color);
  const alpha = p.opacity * color.alpha;
  const data = Buffer.allocUnsafe(mask.width * mask.height * 4);
  for (let i = 0, o = 0; i < mask.data.length; i++, o += 4) {
    data[o] = color.r; data[o + 1] = color.g; data[o + 2] = color.b;
    data[o + 3] = Math.round(mask.data[i] * alpha);
  }
  const overlay = { data, width: mask.width, height: mask.height };
  return overlay.width > room.width || overlay.height > room.height ? cropOverlay(overlay, room) : overlay;
}

async function logoOverlay(ref: string, width: number, p: WatermarkParams, room: Size, ctx: OpContext): Promise<Overlay> {
  const logo = await ctx.loadAsset(ref);
  const { data, info } = await loadSharp()(logo)
    .resize({ width: Math.min(width, room.width), height: room.height, fit: 'inside' })
    .ensureAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  for (let o = 3; o < data.length; o += 4) data[o] = Math.round(data[o] * p.opacity);
  return { data, width: info.width, height: info.height };
}

function cropOverlay(overlay: Overlay, room: Size): Overlay {
  const width = Math.min(overlay.width, room.width);
  const height = Math.min(overlay.height, room.height);
  const data = Buffer.allocUnsafe(width * height * 4);
  for (let y = 0; y < height; y++) overlay.data.copy(data, y * width * 4, y * overlay.width * 4, (y * overlay.width + width) * 4);
  return { data, width, height };
}

export function place(position: Position, base: Size, mark: Size, margin: number): { left: number; top: number } {
  const [vertical, horizontal] = position === 'center' ? ['center', 'center']
    : position === 'left' || position === 'right' ? ['center', position]
      : position.includes('-') ? position.split('-') : [position, 'center'];
  const x = horizontal === 'left' ? margin : horizontal === 'right' ? base.width - mark.width - margin : (base.width - mark.width) / 2;
  const y = vertical === 'top' ? margin : vertical === 'bottom' ? base.height - mark.height - margin : (base.height - mark.height) / 2;
  return { left: Math.max(0, Math.round(x)), top: Math.max(0, Math.round(y)) };
}
