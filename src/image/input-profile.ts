import type { Sharp } from 'sharp';
import { boundedByDeadline } from './deadline.js';
import { Frame, type RawImage } from './frame.js';
import { loadSharp } from './sharp-module.js';
import type { ImageHeader, ImageSource } from './decode.js';

/**
 * The frame to encode, carrying the input's ICC profile. Pixels are used as stored and the
 * profile travels to the output (keepIccProfile), which only a pipeline that reads the decoded
 * input can do: a frame made from pixels (the resampler, steps in JavaScript) gets the profile
 * back from the input, its pixels and the profile read by libvips from an uncompressed TIFF.
 */
export async function withInputProfile(frame: Frame, input: ImageSource, header: Pick<ImageHeader, 'hasIcc'>): Promise<Frame> {
  if (frame.readsInput) return frame;
  const icc = await inputProfile(input, header);
  if (!icc) return frame;
  const pixels = await frame.raw();
  return Frame.carrying(pixels, profiled(pixels, icc));
}

/** The input's ICC profile, if it has one. */
export async function inputProfile(input: ImageSource, header: Pick<ImageHeader, 'hasIcc'>): Promise<Buffer | undefined> {
  return header.hasIcc ? (await loadSharp()(input, { limitInputPixels: false }).metadata()).icc : undefined;
}

/** Pixels with an ICC profile, as libvips reads them: it takes the profile as the image's own and leaves the pixels as they are. */
function profiled(raw: RawImage, icc: Buffer): Sharp {
  return boundedByDeadline(loadSharp()(tiffOf(raw, icc), { ignoreIcc: true, limitInputPixels: false }));
}

const SHORT = 3;
const LONG = 4;
const UNDEFINED = 7;

/**
 * A baseline TIFF of 8-bit grey or RGB pixels (alpha as an extra sample), in one uncompressed
 * strip, with the ICC profile tag: the header, the directory, the bits per sample, the profile,
 * then the pixels.
 */
function tiffOf(raw: RawImage, icc: Buffer): Buffer {
  const { width, height, channels, data } = raw;
  const colour = channels >= 3;
  const alpha = channels === 2 || channels === 4;
  const entries = alpha ? 12 : 11;
  const directory = 8;
  const bitsAt = directory + 2 + entries * 12 + 4;
  const iccAt = bitsAt + ((channels * 2 + 3) & ~3);
  const pixelsAt = iccAt + ((icc.length + 3) & ~3);
  const tiff = Buffer.alloc(pixelsAt + data.length);
  tiff.write('II', 0, 'latin1');
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(directory, 4);
  tiff.writeUInt16LE(entries, directory);
  let at = directory + 2;
  const tag = (id: number, type: number, count: number, value: number) => {
    tiff.writeUInt16LE(id, at);
    tiff.writeUInt16LE(type, at + 2);
    tiff.writeUInt32LE(count, at + 4);
    if (type === SHORT && count === 1) tiff.writeUInt16LE(value, at + 8);
    else tiff.writeUInt32LE(value, at + 8);
    at += 12;
  };
  tag(256, LONG, 1, width);
  tag(257, LONG, 1, height);
  tag(258, SHORT, channels, bitsAt);
  tag(259, SHORT, 1, 1); // no compression
  tag(262, SHORT, 1, colour ? 2 : 1); // RGB, or grey with black at zero
  tag(273, LONG, 1, pixelsAt);
  tag(277, SHORT, 1, channels);
  tag(278, LONG, 1, height);
  tag(279, LONG, 1, data.length);
  tag(284, SHORT, 1, 1); // samples interleaved
  if (alpha) tag(338, SHORT, 1, 2); // the extra sample is unassociated alpha
  tag(34675, UNDEFINED, icc.length, iccAt);
  for (let c = 0; c < channels; c++) tiff.writeUInt16LE(8, bitsAt + c * 2);
  // With one or two samples, the bits per sample fit in the entry itself.
  if (channels <= 2) {
    const entry = directory + 2 + 2 * 12 + 8;
    tiff.writeUInt32LE(0, entry);
    for (let c = 0; c < channels; c++) tiff.writeUInt16LE(8, entry + c * 2);
  }
  icc.copy(tiff, iccAt);
  data.copy(tiff, pixelsAt);
  return tiff;
}
