import { levelCounts } from '../image/level-counts.js';
import { pngLevelCounts, readPngHeader } from '../image/png-levels.js';
import { checkFileSize, checkInputPixels, type Limits } from '../limits.js';
import type { AnalysisOperation } from './types.js';

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

export const histogram: AnalysisOperation<HistogramParams, HistogramData> = {
  kind: 'analysis',
  name: 'histogram',
  summary: 'Counts of each 8-bit level per channel (alpha not counted); ends the pipeline with data',
  positional: ['bins'],
  params: {
    bins: { type: 'integer', min: 1, max: 256, default: 256, description: 'number of equal-width bins over 0..255' },
  },
  async analyse(frame, p) {
    const { data, width, height, channels } = await frame.raw();
    const levels = levelCounts(data, channels).slice(0, channels >= 3 ? 3 : 1);
    return histogramData(width, height, levels, p.bins);
  },
};

/**
 * The histogram of a PNG counted straight from its rows, without the general decoder (see
 * pngLevelCounts); undefined for what is not a PNG, or one that decoder should read.
 * Limits are checked against the header first, as for any image.
 */
export function histogramOfPng(input: Buffer, p: HistogramParams, limits: Limits): HistogramData | undefined {
  const header = readPngHeader(input);
  if (!header) return undefined;
  checkFileSize(input.length, limits);
  checkInputPixels(header.width, header.height, limits);
  const levels = pngLevelCounts(input);
  return levels && histogramData(levels.width, levels.height, levels.counts, p.bins);
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
