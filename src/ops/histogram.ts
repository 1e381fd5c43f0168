import { levelCounts } from '../image/level-counts.js';
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
  label: 'Histogram',
  summary: 'Counts of each 8-bit level per channel (alpha not counted); ends the pipeline with data',
  positional: ['bins'],
  params: {
    bins: { type: 'integer', min: 1, max: 256, default: 256, label: 'Bins', description: 'number of equal-width bins over 0..255' },
  },
  async analyse(frame, p) {
    const { data, width, height, channels } = await frame.raw();
    const colour = channels >= 3 ? 3 : 1;
    const levels = levelCounts(data, channels).slice(0, colour);
    const counts = levels.map((perLevel) => {
      const bins = new Array<number>(p.bins).fill(0);
      for (let v = 0; v < 256; v++) bins[Math.floor((v * p.bins) / 256)] += perLevel[v];
      return bins;
    });
    return {
      width, height, bins: p.bins,
      channels: colour === 3 ? { red: counts[0], green: counts[1], blue: counts[2] } : { gray: counts[0] },
    };
  },
};
