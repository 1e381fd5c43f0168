import type { HistogramData } from '../ops/histogram.js';

const BLOCKS = ' ▁▂▃▄▅▆▇█';
const ANSI: Record<string, string> = { red: '\x1b[31m', green: '\x1b[32m', blue: '\x1b[34m', gray: '\x1b[37m' };

/** One line of block characters per channel, the bins merged into `columns` columns. */
export function terminalChart(histogram: HistogramData, columns = 64, colour = false): string {
  const lines: string[] = [];
  for (const [name, counts] of Object.entries(histogram.channels) as [string, number[]][]) {
    const width = Math.min(columns, counts.length);
    const merged = Array.from({ length: width }, (_, c) => {
      const from = Math.floor((c * counts.length) / width);
      const to = Math.floor(((c + 1) * counts.length) / width);
      let sum = 0;
      for (let i = from; i < to; i++) sum += counts[i];
      return sum;
    });
    const max = Math.max(1, ...merged);
    const bar = merged.map((v) => BLOCKS[Math.round((v / max) * (BLOCKS.length - 1))]).join('');
    lines.push(`${name.padEnd(5)} ${colour ? `${ANSI[name]}${bar}\x1b[0m` : bar}`);
  }
  return lines.join('\n');
}
