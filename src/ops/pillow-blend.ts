/**
 * A lookup table for Pillow's Image.blend(degenerate, image, factor) where the degenerate
 * image is one flat value: out = base + factor·(v − base), computed in single precision and
 * truncated, clipped to 0..255, as Pillow's C code does. ImageEnhance is built on it.
 */
export function pillowBlend(base: number, factor: number): Uint8Array {
  const table = new Uint8Array(256);
  const alpha = Math.fround(factor);
  for (let v = 0; v < 256; v++) {
    const value = Math.fround(base + Math.fround(alpha * (v - base)));
    table[v] = value <= 0 ? 0 : value >= 255 ? 255 : Math.trunc(value);
  }
  return table;
}
