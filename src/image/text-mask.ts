import { fileURLToPath } from 'node:url';
import { loadSharp } from './sharp-module.js';

/** The bundled font, so text looks the same on every machine whatever fonts it has. */
export const FONT_FILE = fileURLToPath(new URL('../../../assets/fonts/DejaVuSans-Bold.ttf', import.meta.url));
const FONT_NAME = 'DejaVu Sans Bold';

export interface Mask {
  /** Coverage 0..255 per pixel. */
  data: Uint8Array;
  width: number;
  height: number;
}

/** Masks kept for repeated texts, by size: a few small ones, never a large one. */
const cache = new Map<string, { mask: Promise<Mask>; bytes: number }>();
const CACHE_BYTES = 16 * 1024 * 1024;
const LARGEST_KEPT = 2 * 1024 * 1024;
let cachedBytes = 0;
/** The height a text is first drawn at to learn its proportions. */
const PROBE_HEIGHT = 32;

/** Renders one line of text with Pango at a pixel height; repeated small texts come from a cache. */
export function renderTextMask(text: string, pixelHeight: number): Promise<Mask> {
  const key = `${pixelHeight}\u0000${text}`;
  const known = cache.get(key);
  if (known) return known.mask;
  const mask = render(text, pixelHeight);
  mask.then((done) => {
    const bytes = done.data.length;
    if (bytes > LARGEST_KEPT || cache.has(key)) return;
    cache.set(key, { mask, bytes });
    cachedBytes += bytes;
    for (const [oldest, entry] of cache) {
      if (cachedBytes <= CACHE_BYTES) break;
      cache.delete(oldest);
      cachedBytes -= entry.bytes;
    }
  }, () => {});
  return mask;
}

/**
 * The text at `pixelHeight`, or smaller so that it fits `room`: its proportions are learnt from
 * a small rendering first, so a large size on a small image never draws a mask larger than the image.
 */
export async function renderTextMaskWithin(text: string, pixelHeight: number, room: { width: number; height: number }): Promise<Mask> {
  const probe = await renderTextMask(text, PROBE_HEIGHT);
  const perPixelOfHeight = Math.max(probe.width, 1) / PROBE_HEIGHT;
  const height = Math.max(1, Math.floor(Math.min(pixelHeight, room.height, room.width / perPixelOfHeight)));
  const mask = await renderTextMask(text, height);
  if (mask.width <= room.width && mask.height <= room.height) return mask;
  // Line spacing and hinting: a little larger than the probe said; one more, scaled to fit.
  const scale = Math.min(room.width / mask.width, room.height / mask.height);
  return renderTextMask(text, Math.max(1, Math.floor(height * scale)));
}

async function render(text: string, pixelHeight: number): Promise<Mask> {
  const { data, info } = await loadSharp()({
    text: { text: escapeMarkup(text), fontfile: FONT_FILE, font: `${FONT_NAME} ${pixelHeight}px`, dpi: 72 },
  }).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
