import { INPUT_TITLES, type MatrixRow } from './rows.js';
import type { MatrixCell, Tool } from './run-matrix.js';

/** One row of the matrix as measured: its cells, and when. */
export interface MatrixRowResult extends MatrixRow {
  measuredAt: string;
  cells: MatrixCell[];
}

const BASELINES: Tool[] = ['Pillow', 'sharp'];

/** CPU per image of the baseline that needs least, over imgfleet's: steadier than wall time on a busy machine. */
export function cpuRatioOf(row: MatrixRowResult): number | undefined {
  const ours = row.cells.find((c) => c.tool === 'imgfleet');
  const leanest = Math.min(...row.cells.filter((c) => BASELINES.includes(c.tool)).map((c) => c.cpuMsPerImage));
  return ours && Number.isFinite(leanest) ? leanest / ours.cpuMsPerImage : undefined;
}

/** imgfleet's images per second over the faster baseline's in the same run, and which baseline that was. */
export function ratioOf(row: MatrixRowResult): { ratio: number; against: Tool } | undefined {
  const ours = row.cells.find((c) => c.tool === 'imgfleet');
  const fastest = row.cells.filter((c) => BASELINES.includes(c.tool)).sort((a, b) => b.imagesPerSecond - a.imagesPerSecond)[0];
  return ours && fastest ? { ratio: ours.imagesPerSecond / fastest.imagesPerSecond, against: fastest.tool } : undefined;
}

const fixed = (v: number | undefined, digits: number) => (v === undefined ? '–' : v.toFixed(digits));
const cell = (row: MatrixRowResult, tool: Tool) => row.cells.find((c) => c.tool === tool);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
};

export function matrixMarkdown(rows: MatrixRowResult[], cores: number): string {
  const ratios = rows.map((r) => ({ row: r, ...ratioOf(r)! })).filter((r) => r.ratio !== undefined);
  const slower = ratios.filter((r) => r.ratio < 1);
  const dates = [...new Set(rows.map((r) => r.measuredAt.slice(0, 16).replace('T', ' ')))].sort();
  const loads = rows.flatMap((r) => r.cells.map((c) => c.loadAverage)).filter((l): l is number => l !== undefined);
  const cpuRatios = rows.map(cpuRatioOf).filter((r): r is number => r !== undefined);
  const lines = [
    `The matrix: each row is one pipeline on one folder of images, run by imgfleet (\`imgfleet run <folder> -o <out> -p <pipeline>\`, `
      + `a pool of ${cores} threads), by Pillow (a multiprocessing Pool of ${cores} processes, written as an informed Pillow user writes it: `
      + 'draft mode, reducing_gap, ImageOps.fit) and by plain sharp (its defaults, 4 images in flight), one after another in the same run '
      + '(each row starting with the next tool in turn; before each, its inputs read into memory and the disk\'s pending writes written out), '
      + `each as a whole process. Measured ${dates.length === 1 ? `on ${dates[0]} UTC` : `between ${dates[0]} and ${dates[dates.length - 1]} UTC`}`
      + (loads.length > 0 ? `, with the machine's load average between ${Math.min(...loads).toFixed(1)} and ${Math.max(...loads).toFixed(1)} on ${cores} cores.` : '.'),
    '',
    `**imgfleet ÷ the faster baseline: median ${median(ratios.map((r) => r.ratio)).toFixed(2)}×; imgfleet is faster than both in `
      + `${ratios.length - slower.length} of ${ratios.length} rows.** By CPU per image (the leaner baseline's over imgfleet's), the median is `
      + `${median(cpuRatios).toFixed(2)}×.`
      + (slower.length > 0 ? ` **Slower** in ${slower.map((r) => `${r.row.id} (${r.ratio.toFixed(2)}× ${r.against})`).join(', ')}.` : ''),
    '',
    'Images per second (higher is better), and in brackets the PSNR in dB of the outputs against a float reference of the same pipeline (higher is closer):',
    '',
    '| row | input | pipeline (imgfleet) | images | imgfleet | Pillow | sharp | imgfleet ÷ faster | by CPU |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    const r = ratioOf(row);
    const shown = (tool: Tool) => {
      const c = cell(row, tool);
      return c ? `${fixed(c.imagesPerSecond, c.imagesPerSecond < 100 ? 1 : 0)} (${fixed(c.psnrDb, 1)})` : 'n/a';
    };
    const ratio = r ? `${r.ratio < 1 ? '**' : ''}${r.ratio.toFixed(2)}× ${r.against}${r.ratio < 1 ? '**' : ''}` : '';
    const byCpu = cpuRatioOf(row);
    lines.push(`| ${row.id} | ${INPUT_TITLES[row.input]} | \`${row.pipeline}\` | ${row.cells[0]?.images ?? ''} | ${shown('imgfleet')} | ${shown('Pillow')} | ${shown('sharp')} | ${ratio} | ${byCpu ? `${byCpu.toFixed(2)}×` : ''} |`);
  }
  lines.push('', 'CPU per image (all processes of the run, ms) and the process tree\'s peak memory (sum of PSS, MiB):', '',
    '| row | imgfleet CPU | Pillow CPU | sharp CPU | imgfleet MiB | Pillow MiB | sharp MiB |', '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((row) => `| ${row.id} | ${(['imgfleet', 'Pillow', 'sharp'] as Tool[]).map((t) => fixed(cell(row, t)?.cpuMsPerImage, 2)).join(' | ')} | `
      + `${(['imgfleet', 'Pillow', 'sharp'] as Tool[]).map((t) => fixed(cell(row, t)?.peakMiB, 0)).join(' | ')} |`));
  const notes = rows.filter((r) => r.differences).map((r) => `- ${r.id}: ${r.differences}`);
  if (notes.length > 0) lines.push('', 'Where the tools differ in meaning:', '', ...notes);
  return `${lines.join('\n')}\n`;
}
