/**
 * The EXIF orientation (1–8) on decoded pixels: how the stored image is turned and mirrored to be
 * shown upright, as libvips' autorotate and Pillow's ImageOps.exif_transpose do it.
 */
import type { RawImage, Size } from './frame.js';

/** The size shown: sides swapped for the orientations that turn a quarter (5–8). */
export function uprightSize(stored: Size, orientation: number): Size {
  return orientation >= 5 ? { width: stored.height, height: stored.width } : stored;
}

/** The stored size of an image shown as `upright`: the same swap, which is its own inverse. */
export const storedSize = uprightSize;

/**
 * Where the pixel shown at (x, y) is stored, for an image stored `stored.width` × `stored.height`.
 * Orientation 6 is shown turned a quarter clockwise, 8 a quarter anticlockwise; 2 and 4 are
 * mirrored left to right and top to bottom; 5 and 7 are mirrored across a diagonal.
 */
function storedAt(orientation: number, stored: Size): (x: number, y: number) => [number, number] {
  const right = stored.width - 1;
  const bottom = stored.height - 1;
  switch (orientation) {
    case 2: return (x, y) => [right - x, y];
    case 3: return (x, y) => [right - x, bottom - y];
    case 4: return (x, y) => [x, bottom - y];
    case 5: return (x, y) => [y, x];
    case 6: return (x, y) => [y, bottom - x];
    case 7: return (x, y) => [right - y, bottom - x];
    case 8: return (x, y) => [right - y, x];
    default: return (x, y) => [x, y];
  }
}

/**
 * The pixels of `image` (as stored) shown upright, in new memory; the same image for orientation 1.
 * Works a row of the result at a time, reading the stored pixels along a row or a column.
 */
export function orientPixels(image: RawImage, orientation: number): RawImage {
  if (orientation === 1) return image;
  const { width, height } = uprightSize(image, orientation);
  const { channels } = image;
  const at = storedAt(orientation, image);
  const [x0, y0] = at(0, 0);
  const [x1, y1] = at(1, 0);
  // One step right in the result is a fixed step through the stored pixels.
  const step = (y1 - y0) * image.width + (x1 - x0);
  // Memory of its own, so that it is aligned for 32-bit pixels.
  const data = Buffer.allocUnsafeSlow(width * height * channels);
  if (channels === 4 && image.data.byteOffset % 4 === 0) {
    const from = new Uint32Array(image.data.buffer, image.data.byteOffset, image.width * image.height);
    const to = new Uint32Array(data.buffer, data.byteOffset, width * height);
    for (let y = 0, o = 0; y < height; y++) {
      const [sx, sy] = at(0, y);
      for (let x = 0, p = sy * image.width + sx; x < width; x++, p += step) to[o++] = from[p];
    }
    return { data, width, height, channels };
  }
  const from = image.data;
  for (let y = 0, o = 0; y < height; y++) {
    const [sx, sy] = at(0, y);
    for (let x = 0, p = (sy * image.width + sx) * channels; x < width; x++, p += step * channels) {
      for (let c = 0; c < channels; c++) data[o++] = from[p + c];
    }
  }
  return { data, width, height, channels };
}

/** The whole pixels stored for a rectangle shown upright in an image shown `upright`.width × height. */
export function storedRect(rect: { left: number; top: number; width: number; height: number }, upright: Size, orientation: number): { left: number; top: number; width: number; height: number } {
  const at = storedAt(orientation, storedSize(upright, orientation));
  const [ax, ay] = at(rect.left, rect.top);
  const [bx, by] = at(rect.left + rect.width - 1, rect.top + rect.height - 1);
  return { left: Math.min(ax, bx), top: Math.min(ay, by), width: Math.abs(bx - ax) + 1, height: Math.abs(by - ay) + 1 };
}
