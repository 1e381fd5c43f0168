/** Horizontal and vertical 3×3 Sobel derivatives of a grey plane; the image border is replicated. */
export function sobelGradients(grey: Uint8Array, width: number, height: number): { gx: Int16Array; gy: Int16Array } {
  const gx = new Int16Array(width * height);
  const gy = new Int16Array(width * height);
  for (let y = 0; y < height; y++) {
    const up = (y > 0 ? y - 1 : 0) * width;
    const row = y * width;
    const down = (y < height - 1 ? y + 1 : y) * width;
    for (let x = 0; x < width; x++) {
      const l = x > 0 ? x - 1 : 0;
      const r = x < width - 1 ? x + 1 : x;
      const tl = grey[up + l], t = grey[up + x], tr = grey[up + r];
      const ml = grey[row + l], mr = grey[row + r];
      const bl = grey[down + l], b = grey[down + x], br = grey[down + r];
      gx[row + x] = tr + 2 * mr + br - tl - 2 * ml - bl;
      gy[row + x] = bl + 2 * b + br - tl - 2 * t - tr;
    }
  }
  return { gx, gy };
}

/** Gradient magnitude √(gx² + gy²), clipped to 0..255. */
export function sobelMagnitude(grey: Uint8Array, width: number, height: number): Uint8Array {
  const { gx, gy } = sobelGradients(grey, width, height);
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(255, Math.round(Math.hypot(gx[i], gy[i])));
  return out;
}
