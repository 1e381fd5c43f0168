import { basename, extname, join, resolve } from 'node:path';
import { ImgfleetError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { fileIdentity } from '../io/file-kind.js';
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

/**
 * Where each input's `<stem>.json` and `<stem>.png` go under `outDir` (the input's relative path
 * without its extension). Refuses, before any work, a chart or JSON file that would go over an
 * input (a PNG histogrammed into its own folder) or that two inputs would share (a.jpg, a.png).
 */
export function planHistogramStems(inputs: { input: string; relative?: string }[], outDir: string): string[] {
  const inputPaths = new Set(inputs.map((item) => resolve(item.input)));
  // The inputs' files by identity, read once and only if a file to be written exists already.
  let inputFiles: Set<string> | undefined;
  const isAnInput = (path: string) => {
    const identity = fileIdentity(path);
    if (identity === undefined) return false;
    inputFiles ??= new Set(inputs.map((item) => fileIdentity(item.input)).filter((id) => id !== undefined));
    return inputFiles.has(identity);
  };
  const claimed = new Map<string, string>();
  return inputs.map(({ input, relative }) => {
    const rel = relative ?? basename(input);
    const stem = resolve(outDir, rel.slice(0, rel.length - extname(rel).length));
    for (const written of [`${stem}.json`, `${stem}.png`]) {
      if (inputPaths.has(written) || isAnInput(written)) {
        throw new ImgfleetError('BAD_USAGE', `refusing to write a histogram over input ${written}: choose another output folder`);
      }
    }
    const other = claimed.get(stem);
    if (other) throw new ImgfleetError('BAD_USAGE', `${other} and ${input} would both write ${join(outDir, basename(stem))}.json: histogram them into different folders`);
    claimed.set(stem, input);
    return stem;
  });
}
