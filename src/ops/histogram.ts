import { loadSharp } from '../image/sharp-module.js';
import { decodeError } from '../image/decode.js';
import { readJpegHeader } from '../image/jpeg-header.js';
import { levelCounts } from '../image/level-counts.js';
import { pngLevelCounts, readPngHeader } from '../image/png-levels.js';
import { checkFileSize, checkInputPixels, type Limits } from '../limits.js';
import type { Frame } from '../image/frame.js';
import type { AnalysisOperation, OpContext } from './types.js';

export interface HistogramParams {
  bins: number;
}

/** Counts per channel: `gray` for single-channel images, else `red`, `green`, `blue`. Alpha is not counted. */
export type HistogramChannels = { gray: number[] } | { red: number[]; green: number[]; blue: number[] };

export interface HistogramData {
  width: number;
  height: number;
  bins: number;
  channels: HistogramChannels;
}

export const histogram = {
  kind: 'analysis' as const,
  name: 'histogram',
  label: 'Histogram',
  summary: 'Counts of each 8-bit level per channel (alpha not counted); ends the pipeline with data',
  positional: ['bins'],
  params: {
    bins: { type: 'integer', min: 1, max: 256, default: 256, label: 'Bins', description: 'number of equal-width bins over 0..255' },
  },
  async analyse(frame: Frame, p: HistogramParams, _ctx: OpContext) {
    const { data, width, height, channels } = await frame.raw();
    const levels = levelCounts(data, channels).slice(0, channels >= 3 ? 3 : 1);
    return histogramData(width, height, levels, p.bins);
  },
} satisfies AnalysisOperation<HistogramParams, HistogramData>;

/** A histogram made straight from the file, and how. */
export interface DirectHistogram {
  data: HistogramData;
  format: 'png' | 'jpeg';
  /** `png-rows`: counted as the rows are inflated (see pngLevelCounts); `libvips`: its decode, counted in place. */
  path: 'png-rows' | 'libvips';
}

/**
 * The histogram of a PNG or a JPEG without the general path's steps: a PNG is counted straight
 * from its rows; a JPEG is decoded by libvips in one call, without a separate header read and
 * without turning it by its EXIF orientation (which moves pixels, never changes their counts),
 * and counted in the decoded buffer. Undefined for anything else (other formats, CMYK or 12-bit
 * JPEGs, PNGs the row counter leaves to the general decoder). Limits are checked against the
 * header first, as for any image.
 */
export async function histogramFromBytes(input: Buffer, p: HistogramParams, limits: Limits): Promise<DirectHistogram | undefined> {
  const png = readPngHeader(input);
  if (png) {
    checkFileSize(input.length, limits);
    checkInputPixels(png.width, png.height, limits);
    const levels = pngLevelCounts(input);
    return levels && { data: histogramData(levels.width, levels.height, levels.counts, p.bins), format: 'png', path: 'png-rows' };
  }
  const jpeg = readJpegHeader(input);
  if (!jpeg || jpeg.precision !== 8 || (jpeg.components !== 1 && jpeg.components !== 3)) return undefined;
  checkFileSize(input.length, limits);
  checkInputPixels(jpeg.width, jpeg.height, limits);
  try {
    const image = loadSharp()(input, { failOn: 'warning', sequentialRead: true, ignoreIcc: true, limitInputPixels: limits.maxInputPixels });
    // libvips' raw output is sRGB unless told to keep grey.
    const { data, info } = await (jpeg.components === 1 ? image.toColourspace('b-w') : image).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const levels = levelCounts(data, info.channels).slice(0, info.channels >= 3 ? 3 : 1);
    const turned = jpeg.orientation >= 5;
    return { data: histogramData(turned ? info.height : info.width, turned ? info.width : info.height, levels, p.bins), format: 'jpeg', path: 'libvips' };
  } catch (error) {
    throw decodeError(error);
  }
}

/** Per-level counts (one array of 256 for grey, three for colour) into `bins` equal-width bins per channel. */
function histogramData(width: number, height: number, levels: Uint32Array[], bins: number): HistogramData {
  const counts = levels.map((perLevel) => {
    const out = new Array<number>(bins).fill(0);
    for (let v = 0; v < 256; v++) out[Math.floor((v * bins) / 256)] += perLevel[v];
    return out;
  });
  return {
    width, height, bins,
    channels: counts.length === 3 ? { red: counts[0], green: counts[1], blue: counts[2] } : { gray: counts[0] },
  };
}
