import { closeSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame, Channels } from '../image/frame.js';
import { greySum, roundedMean } from '../image/mean-grey.js';
import type { Rect } from './grid.js';

/**
 * The libvips native format: a 64-byte header (magic, width, height, bands, bits, band format,
 * coding, … as 32-bit words), then the pixels uncompressed, then metadata.
 */
export const VIPS_HEADER_BYTES = 64;
const VIPS_UCHAR = 0;
const VIPS_NOT_CODED = 0;

/** Whether a libvips native header describes plain 8-bit pixels of this size and band count. */
export function plainVipsHeader(header: Buffer, width: number, height: number, channels: number): boolean {
  return header.readInt32LE(4) === width && header.readInt32LE(8) === height && header.readInt32LE(12) === channels
    && header.readInt32LE(20) === VIPS_UCHAR && header.readInt32LE(24) === VIPS_NOT_CODED;
}

/**
 * A decoded image kept on disk, so that the submitter reads tiles from it without holding the
 * whole image in memory. libvips writes it as it decodes, row by row.
 */
export class RawFile {
  private constructor(
    private readonly dir: string,
    private readonly fd: number,
    private readonly offset: number,
    readonly width: number,
    readonly height: number,
    readonly channels: Channels,
  ) {}

  /** Runs what is pending on the frame into a temporary file. */
  static async write(frame: Frame): Promise<RawFile> {
    const dir = await mkdtemp(join(tmpdir(), 'imgfleet-tiles-'));
    const path = join(dir, 'source.v');
    try {
      const info = await frame.toSharp().toFile(path);
      const fd = openSync(path, 'r');
      const header = Buffer.alloc(VIPS_HEADER_BYTES);
      readSync(fd, header, 0, VIPS_HEADER_BYTES, 0);
      if (plainVipsHeader(header, info.width, info.height, frame.channels)) return new RawFile(dir, fd, VIPS_HEADER_BYTES, info.width, info.height, frame.channels);
      closeSync(fd);
      // Anything libvips does not write as plain 8-bit bands (16-bit input, grey with alpha) goes through memory once.
      const raw = await frame.raw();
      writeFileSync(path, raw.data);
      return new RawFile(dir, openSync(path, 'r'), 0, raw.width, raw.height, raw.channels);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The pixels of one rectangle, rows top to bottom. */
  read(rect: Rect): Buffer {
    const row = rect.width * this.channels;
    const out = Buffer.allocUnsafe(row * rect.height);
    for (let y = 0; y < rect.height; y++) {
      const at = this.offset + ((rect.top + y) * this.width + rect.left) * this.channels;
      readSync(this.fd, out, y * row, row, at);
    }
    return out;
  }

  /** The mean 601 grey of the whole image, rounded as the contrast step rounds it, read in bands. */
  meanGrey(): number {
    const rows = Math.max(1, Math.floor((8 << 20) / (this.width * this.channels)));
    let sum = 0;
    for (let top = 0; top < this.height; top += rows) {
      sum += greySum(this.read({ left: 0, top, width: this.width, height: Math.min(rows, this.height - top) }), this.channels);
    }
    return roundedMean(sum, this.width * this.height);
  }

  close(): void {
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
