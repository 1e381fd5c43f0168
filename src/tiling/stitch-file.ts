import { closeSync, fstatSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSharp } from '../image/sharp-module.js';
import { ImgfleetError } from '../errors.js';
import { Frame, NO_SHRINK_ON_LOAD, type Channels } from '../image/frame.js';
import type { Rect } from './grid.js';
import { plainVipsHeader, VIPS_HEADER_BYTES } from './raw-file.js';
import { checkTile, type Stitcher, type TileResult } from './stitch.js';

/**
 * Puts tile results into an image file on disk (the libvips native format: a header, then the
 * pixels uncompressed), so the submitter never holds the whole result: libvips then reads it
 * back row by row for the steps after the tiles and for the encoder.
 */
export class FileStitcher implements Stitcher {
  private dir?: string;
  private fd?: number;
  private channels?: Channels;
  private keptProfile = false;
  /** Opened once, by the first tile back; the others wait for it. */
  private opening?: Promise<void>;

  private constructor(private readonly width: number, private readonly height: number, private readonly profile?: Buffer) {}

  /** `profile`: the input's ICC profile, kept in the file for the encoder. */
  static create(width: number, height: number, profile?: Buffer): FileStitcher {
    return new FileStitcher(width, height, profile);
  }

  async place(keep: Rect, tile: TileResult): Promise<void> {
    checkTile(keep, tile, this.channels);
    // Every tile has the same layout (grey stays grey), so the first one decides it.
    this.opening ??= this.open(tile.channels);
    await this.opening;
    checkTile(keep, tile, this.channels);
    const pixels = Buffer.from(tile.pixels.buffer, tile.pixels.byteOffset, tile.pixels.byteLength);
    const row = keep.width * tile.channels;
    for (let y = 0; y < keep.height; y++) {
      const at = VIPS_HEADER_BYTES + ((keep.top + y) * this.width + keep.left) * tile.channels;
      writeSync(this.fd!, pixels, y * row, row, at);
    }
  }

  /** The stitched image, read from disk as libvips needs it. */
  frame(): Frame {
    if (this.fd === undefined || !this.dir) throw new ImgfleetError('INTERNAL', 'no tile was placed');
    closeSync(this.fd);
    this.fd = undefined;
    // Pixels are used as stored: the profile is only carried to the output.
    const image = loadSharp()(join(this.dir, 'stitched.v'), { sequentialRead: true, limitInputPixels: false, ignoreIcc: true });
    return Frame.open(image, { width: this.width, height: this.height }, this.channels!, NO_SHRINK_ON_LOAD, this.keptProfile);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** libvips writes an empty image of the right size and layout; tiles then overwrite its pixels. */
  private async open(channels: Channels): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'imgfleet-stitch-'));
    const path = join(this.dir, 'stitched.v');
    const colour = channels >= 3;
    const blank = loadSharp()({ create: { width: this.width, height: this.height, channels: channels === 2 || channels === 4 ? 4 : 3, background: { r: 0, g: 0, b: 0, alpha: 1 } } });
    await (colour ? blank : blank.toColourspace('b-w')).toFile(path);
    const fd = openSync(path, 'r+');
    const header = Buffer.alloc(VIPS_HEADER_BYTES);
    readSync(fd, header, 0, VIPS_HEADER_BYTES, 0);
    if (!plainVipsHeader(header, this.width, this.height, channels)) {
      closeSync(fd);
      throw new ImgfleetError('INTERNAL', 'libvips wrote the stitched image in an unexpected layout');
    }
    this.fd = fd;
    this.channels = channels;
    if (this.profile) this.keptProfile = withProfile(fd, VIPS_HEADER_BYTES + this.width * this.height * channels, this.profile);
  }
}

/**
 * Adds an ICC profile to the metadata that a libvips native file keeps after its pixels (XML,
 * blobs in base64), where libvips reads it as the image's own. False when the metadata is not
 * as libvips writes it: the output then goes without the profile.
 */
function withProfile(fd: number, metadataAt: number, profile: Buffer): boolean {
  const size = fstatSync(fd).size;
  const metadata = Buffer.alloc(size - metadataAt);
  readSync(fd, metadata, 0, metadata.length, metadataAt);
  const xml = metadata.toString('utf8');
  const end = xml.lastIndexOf('</meta>');
  if (end < 0 || xml.includes('name="icc-profile-data"')) return false;
  const field = `  <field type="VipsBlob" name="icc-profile-data">${profile.toString('base64')}</field>\n  `;
  const updated = Buffer.from(xml.slice(0, end) + field + xml.slice(end), 'utf8');
  writeSync(fd, updated, 0, updated.length, metadataAt);
  return true;
}
