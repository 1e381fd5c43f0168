import type { Sharp } from 'sharp';
import { loadSharp } from './sharp-module.js';
import { ImgfleetError } from '../errors.js';
import type { Limits } from '../limits.js';
import { boundedByDeadline } from './deadline.js';
import type { ImageHeader, ImageSource } from './decode.js';
import type { Channels, RawImage } from './frame.js';

/**
 * Every frame of an animated GIF or WebP, decoded in one libvips pass (a GIF's frames build on
 * the ones before, so one frame alone costs as much as all those before it), each frame whole
 * as the viewer sees it, 8-bit, as stored (animations carry no EXIF orientation).
 */
export async function decodeFrames(input: ImageSource, header: ImageHeader, limits: Limits): Promise<RawImage[]> {
  const image = boundedByDeadline(loadSharp()(input, {
    animated: true, ignoreIcc: true, failOn: 'warning', limitInputPixels: limits.maxInputPixels,
  }));
  const { data, info } = await image.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const frames = header.frames;
  const height = info.height / frames;
  if (!Number.isInteger(height) || info.width !== header.width) {
    throw new ImgfleetError('CORRUPT_IMAGE', `corrupt animation: ${frames} frames of ${header.width}×${header.height} do not make the decoded ${info.width}×${info.height}`);
  }
  const bytes = info.width * height * info.channels;
  return Array.from({ length: frames }, (_, i) => ({
    data: data.subarray(i * bytes, (i + 1) * bytes), width: info.width, height, channels: info.channels as Channels,
  }));
}

/**
 * Whether an input's first bytes show an animation: a GIF with the looping extension
 * (NETSCAPE2.0) that animated GIFs carry before their frames, or a WebP whose VP8X header sets
 * its animation flag. For choosing a format before the header is read in full.
 */
export function looksAnimated(head: Uint8Array): boolean {
  const bytes = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (bytes.toString('latin1', 0, 4) === 'GIF8') return bytes.includes('NETSCAPE2.0', 0, 'latin1');
  return bytes.length > 20 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 16) === 'WEBPVP8X' && (bytes[20] & 0x02) !== 0;
}

/** The frames as one libvips image of stacked pages, for an encoder that writes them as an animation. */
export function framesToSharp(frames: RawImage[]): Sharp {
  const [first] = frames;
  const odd = frames.find((f) => f.width !== first.width || f.height !== first.height || f.channels !== first.channels);
  if (odd) {
    throw new ImgfleetError('BAD_PIPELINE',
      `the frames of an animation came out in different sizes (${first.width}×${first.height} and ${odd.width}×${odd.height}); output:…:frames=first takes the first frame only`);
  }
  const image = boundedByDeadline(loadSharp()(Buffer.concat(frames.map((f) => f.data)), {
    raw: { width: first.width, height: first.height * frames.length, channels: first.channels, pageHeight: first.height },
    limitInputPixels: false,
  }));
  return first.channels <= 2 ? image.toColourspace('b-w') : image;
}
