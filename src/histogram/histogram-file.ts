import { writeFileAtomic } from '../io/atomic-write.js';
import type { HistogramData } from '../ops/histogram.js';
import { histogramPng } from './chart-png.js';

/** The histogram contract: what `imgfleet histogram` writes and the HTTP API returns. */
export interface HistogramFile extends HistogramData {
  file: string;
}

export function histogramFile(file: string, data: HistogramData): HistogramFile {
  return { file, width: data.width, height: data.height, bins: data.bins, channels: data.channels };
}

/** Writes `<stem>.json` and a `<stem>.png` bar chart. */
export async function writeHistogramFiles(stem: string, histogram: HistogramFile): Promise<void> {
  writeFileAtomic(`${stem}.json`, `${JSON.stringify(histogram)}\n`);
  writeFileAtomic(`${stem}.png`, await histogramPng(histogram, `${histogram.file} (${histogram.width}×${histogram.height})`));
}
