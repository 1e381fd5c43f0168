/** A rectangle in pixels. */
export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** One tile: the part of the output it makes, and the part of the input it reads to make it. */
export interface Tile {
  index: number;
  column: number;
  row: number;
  /** Pixels this tile contributes to the output. */
  keep: Rect;
  /** `keep` widened by the halo, clipped to the image: interior edges read real neighbours. */
  read: Rect;
}

/**
 * Cuts a width × height image into tiles of at most `size` pixels a side, row by row. Sizes
 * that do not divide the image give smaller tiles on the right and bottom.
 */
export function tileGrid(width: number, height: number, size: number, halo: number): Tile[] {
  const tiles: Tile[] = [];
  const columns = Math.ceil(width / size);
  const rows = Math.ceil(height / size);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const left = column * size;
      const top = row * size;
      const keep = { left, top, width: Math.min(size, width - left), height: Math.min(size, height - top) };
      const readLeft = Math.max(0, left - halo);
      const readTop = Math.max(0, top - halo);
      const read = {
        left: readLeft,
        top: readTop,
        width: Math.min(width, left + keep.width + halo) - readLeft,
        height: Math.min(height, top + keep.height + halo) - readTop,
      };
      tiles.push({ index: tiles.length, column, row, keep, read });
    }
  }
  return tiles;
}
