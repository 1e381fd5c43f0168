import { ImgfleetError } from '../errors.js';
import type { RawImage } from '../image/frame.js';
import type { Rect } from './grid.js';
import type { TileResult } from './tile-task.js';

/** Puts tile results into one image; the only full-size buffer the submitter holds. */
export class Stitcher {
  private image?: RawImage;

  constructor(private readonly width: number, private readonly height: number) {}

  place(keep: Rect, tile: TileResult): void {
    if (tile.width !== keep.width || tile.height !== keep.height) {
      throw new ImgfleetError('INTERNAL', `tile came back ${tile.width}×${tile.height}, expected ${keep.width}×${keep.height}`);
    }
    // Every tile has the same layout (grey stays grey), so the first one decides it.
    this.image ??= { data: Buffer.allocUnsafe(this.width * this.height * tile.channels), width: this.width, height: this.height, channels: tile.channels };
    const { data, channels } = this.image;
    if (tile.channels !== channels) throw new ImgfleetError('INTERNAL', `tile has ${tile.channels} channels, others ${channels}`);
    const pixels = Buffer.from(tile.pixels.buffer, tile.pixels.byteOffset, tile.pixels.byteLength);
    const row = keep.width * channels;
    for (let y = 0; y < keep.height; y++) {
      pixels.copy(data, ((keep.top + y) * this.width + keep.left) * channels, y * row, (y + 1) * row);
    }
  }

  result(): RawImage {
    if (!this.image) throw new ImgfleetError('INTERNAL', 'no tile was placed');
    return this.image;
  }
}
