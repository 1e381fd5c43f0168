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
    const colour = channels >= 3 ? 3 : 1;
    const counts = Array.from({ length: colour }, () => new Float64Array(p.bins));
    const binOf = new Uint16Array(256);
    for (let v = 0; v < 256; v++) binOf[v] = Math.floor((v * p.bins) / 256);
    for (let c = 0; c < colour; c++) {
      const bins = counts[c];
      for (let i = c; i < data.length; i += channels) bins[binOf[data[i]]]++;
    }
    const list = counts.map((bins) => Array.from(bins));
    return {
      width, height, bins: p.bins,
      channels: colour === 3 ? { red: list[0], green: list[1], blue: list[2] } : { gray: list[0] },
    };
  },
};
