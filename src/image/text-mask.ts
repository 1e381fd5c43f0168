import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

/** The bundled font, so text looks the same on every machine whatever fonts it has. */
export const FONT_FILE = fileURLToPath(new URL('../../../assets/fonts/DejaVuSans-Bold.ttf', import.meta.url));
const FONT_NAME = 'DejaVu Sans Bold';

export interface Mask {
  /** Coverage 0..255 per pixel. */
  data: Uint8Array;
  width: number;
  height: number;
}

const cache = new Map<string, Promise<Mask>>();
const CACHE_ENTRIES = 64;

/** Renders one line of text with Pango at a pixel height; repeated texts come from a small cache. */
export function renderTextMask(text: string, pixelHeight: number): Promise<Mask> {
  const key = `${pixelHeight}\u0000${text}`;
  let mask = cache.get(key);
  if (!mask) {
    mask = render(text, pixelHeight);
    mask.catch(() => cache.delete(key));
    if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(key, mask);
  }
  return mask;
}

async function render(text: string, pixelHeight: number): Promise<Mask> {
  const { data, info } = await sharp({
    text: { text: escapeMarkup(text), fontfile: FONT_FILE, font: `${FONT_NAME} ${pixelHeight}px`, dpi: 72 },
  }).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
