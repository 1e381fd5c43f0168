import { sobelGradients } from './sobel.js';

const TAN_22_5 = Math.tan(Math.PI / 8);
const TAN_67_5 = Math.tan((3 * Math.PI) / 8);

/**
 * Canny edge detector: Sobel gradients (L1 magnitude |gx| + |gy|, as OpenCV's default),
 * non-maximum suppression along the gradient direction, then hysteresis: pixels above `high`
 * start edges, which extend through 8-connected pixels above `low`. Returns 255 on edges, else 0.
 */
export function canny(grey: Uint8Array, width: number, height: number, low: number, high: number): Uint8Array {
  const { gx, gy } = sobelGradients(grey, width, height);
  const n = width * height;
  const mag = new Int32Array(n);
  for (let i = 0; i < n; i++) mag[i] = Math.abs(gx[i]) + Math.abs(gy[i]);

  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= width || y >= height ? 0 : mag[y * width + x]);
  // 0 = not an edge, 1 = weak candidate, 2 = strong edge
  const state = new Uint8Array(n);
  const stack: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const m = mag[i];
      if (m <= low) continue;
      const ax = Math.abs(gx[i]);
      const ay = Math.abs(gy[i]);
      let a: number;
      let b: number;
      if (ay <= ax * TAN_22_5) {
        a = at(x - 1, y); b = at(x + 1, y);
      } else if (ay >= ax * TAN_67_5) {
        a = at(x, y - 1); b = at(x, y + 1);
      } else if ((gx[i] > 0) === (gy[i] > 0)) {
        a = at(x - 1, y - 1); b = at(x + 1, y + 1);
      } else {
        a = at(x + 1, y - 1); b = at(x - 1, y + 1);
      }
      if (m > a && m >= b) {
        if (m > high) {
          state[i] = 2;
          stack.push(i);
        } else {
          state[i] = 1;
        }
      }
    }
  }

  while (stack.length > 0) {
    const i = stack.pop()!;
    const x = i % width;
    const y = (i - x) / width;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const nx = x + dx, ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const j = ny * width + nx;
        if (state[j] === 1) {
          state[j] = 2;
          stack.push(j);
        }
      }
    }
  }

  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = state[i] === 2 ? 255 : 0;
  return out;
}
