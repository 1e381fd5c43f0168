import { ImgfleetError } from '../errors.js';
import { Frame, type Channels, type RawImage } from '../image/frame.js';
import type { Rect } from './grid.js';

/** The kept part of one tile, as it comes back from wherever it ran. */
export interface TileResult {
  pixels: Uint8Array;
  width: number;
  height: number;
  channels: Channels;
  /** Who ran it, when the engine says. */
  worker?: string;
  /** Which run of the tile this was, on a queue that retries (1 unless it had to run again). */
  attempts?: number;
}

/** Puts tile results into one image, in memory or in a file on disk. */
export interface Stitcher {
  place(keep: Rect, tile: TileResult): void | Promise<void>;
  /** The stitched image, for the steps after the tiles and the encoder. */
  frame(): Frame;
  /** Frees what it holds (a file on disk); safe to call more than once. */
  close(): void;
}

/** Checks a tile against the place it goes and the layout of the tiles before it. */
export function checkTile(keep: Rect, tile: TileResult, channels: Channels | undefined): void {
  if (tile.width !== keep.width || tile.height !== keep.height) {
    throw new ImgfleetError('INTERNAL', `tile came back ${tile.width}×${tile.height}, expected ${keep.width}×${keep.height}`);
  }
  if (channels !== undefined && tile.channels !== channels) throw new ImgfleetError('INTERNAL', `tile has ${tile.channels} channels, others ${channels}`);
  if (tile.pixels.byteLength !== keep.width * keep.height * tile.channels) throw new ImgfleetError('INTERNAL', 'a tile came back with the wrong number of bytes');
}

/** Stitches in memory: the only full-size buffer the submitter holds. */
export class MemoryStitcher implements Stitcher {
  private image?: RawImage;

  constructor(private readonly width: number, private readonly height: number) {}

  place(keep: Rect, tile: TileResult): void {
    checkTile(keep, tile, this.image?.channels);
    // Every tile has the same layout (grey stays grey), so the first one decides it.
    this.image ??= { data: Buffer.allocUnsafe(this.width * this.height * tile.channels), width: this.width, height: this.height, channels: tile.channels };
    const { data, channels } = this.image;
    const pixels = Buffer.from(tile.pixels.buffer, tile.pixels.byteOffset, tile.pixels.byteLength);
    const row = keep.width * channels;
    for (let y = 0; y < keep.height; y++) {
      pixels.copy(data, ((keep.top + y) * this.width + keep.left) * channels, y * row, (y + 1) * row);
    }
  }

  frame(): Frame {
    if (!this.image) throw new ImgfleetError('INTERNAL', 'no tile was placed');
    return Frame.fromRaw(this.image);
  }

  close(): void {
    this.image = undefined;
  }
}
