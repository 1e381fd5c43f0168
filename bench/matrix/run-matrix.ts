/**
 * Runs the benchmark matrix: every row on imgfleet, Pillow and plain sharp, one after another
 * in the same run, each as a whole process as users run it; then the PSNR of a sample of each
 * tool's outputs against a float reference of the row's pipeline.
 */
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { parsePipelineText } from '../../src/pipeline/load.js';
import { validatePipeline } from '../../src/pipeline/validate.js';
import { measure } from '../measure.js';
import type { MatrixInput, MatrixRow } from './rows.js';

export const TOOLS = ['imgfleet', 'Pillow', 'sharp'] as const;
export type Tool = (typeof TOOLS)[number];

export interface MatrixCell {
  row: string;
  tool: Tool;
  images: number;
  wallS: number;
  imagesPerSecond: number;
  cpuMsPerImage: number;
  /** The process tree's peak memory (sum of PSS). */
  peakMiB: number;
  /** Against the float reference, over `psnrImages` outputs. */
  psnrDb?: number;
  psnrImages?: number;
  /** The machine's 1-minute load average when the cell finished: what else was running. */
  loadAverage?: number;
}

export interface MatrixOptions {
  rows: MatrixRow[];
  corpora: Record<MatrixInput, string>;
  work: string;
  cores: number;
  /** Outputs per cell compared with the float reference: small inputs, large inputs. */
  psnrSamples: { small: number; large: number };
  repeat: number;
}

const BENCH = fileURLToPath(new URL('../../../bench/', import.meta.url));
const BIN = fileURLToPath(new URL('../../../bin/imgfleet.js', import.meta.url));

function commandOf(tool: Tool, row: MatrixRow, input: string, output: string, cores: number): string[] {
  switch (tool) {
    case 'imgfleet': return [process.execPath, BIN, 'run', input, '-o', output, '-p', row.pipeline];
    case 'Pillow': return ['/usr/bin/python3', join(BENCH, 'baselines', 'pil_matrix.py'), row.id, input, output, String(cores)];
    case 'sharp': return [process.execPath, join(BENCH, 'baselines', 'sharp_matrix.mjs'), row.id, input, output];
  }
}

/** The rows each baseline implements (a baseline whose tools are missing implements none). */
function rowsKnownBy(tool: Tool): Set<string> {
  if (tool === 'imgfleet') return new Set(['*']);
  try {
    const [command, ...args] = commandOf(tool, { id: '--list' } as MatrixRow, '', '', 1).slice(0, 3);
    return new Set(execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean));
  } catch {
    return new Set();
  }
}

export async function runMatrix(options: MatrixOptions): Promise<MatrixCell[]> {
  const known = Object.fromEntries(TOOLS.map((tool) => [tool, rowsKnownBy(tool)])) as Record<Tool, Set<string>>;
  const cells: MatrixCell[] = [];
  for (const row of options.rows) {
    const dir = join(options.work, row.id);
    rmSync(dir, { recursive: true, force: true });
    const input = subset(options.corpora[row.input], join(dir, 'input'), row.share ?? 1);
    const names = readdirSync(input).sort();
    const tools = TOOLS.filter((tool) => known[tool].has('*') || known[tool].has(row.id));
    const rowCells: MatrixCell[] = [];
    for (let round = 0; round < options.repeat; round++) {
      for (const tool of inTurn(tools, options.rows.indexOf(row) + round)) {
        const output = join(dir, tool);
        rmSync(output, { recursive: true, force: true });
        mkdirSync(output, { recursive: true });
        settleDisk(input, names);
        const m = measure(commandOf(tool, row, input, output, options.cores));
        const outputs = readdirSync(output).length;
        if (m.exitCode !== 0 || outputs !== names.length) {
          throw new Error(`${row.id} ${tool}: exit ${m.exitCode}, ${outputs}/${names.length} outputs\n${m.stderr}`);
        }
        const cell: MatrixCell = {
          row: row.id, tool, images: names.length, wallS: m.wallS, imagesPerSecond: names.length / m.wallS,
          cpuMsPerImage: (m.cpuS * 1000) / names.length, peakMiB: m.treePeakMiB, loadAverage: loadavg()[0],
        };
        const previous = rowCells.findIndex((c) => c.tool === tool);
        if (previous < 0) rowCells.push(cell);
        else if (rowCells[previous].imagesPerSecond < cell.imagesPerSecond) rowCells[previous] = cell;
        console.log(`${row.id.padEnd(12)} ${tool.padEnd(9)} ${cell.imagesPerSecond.toFixed(1).padStart(7)} img/s  ${cell.cpuMsPerImage.toFixed(2).padStart(7)} CPU ms/img  ${cell.peakMiB.toFixed(0).padStart(5)} MiB`);
      }
    }
    const samples = names.slice(0, row.input === 'large-jpeg' ? options.psnrSamples.large : options.psnrSamples.small);
    const psnr = await psnrOf(row, input, samples, tools.map((tool) => [tool, join(dir, tool)] as const), join(dir, 'psnr')).catch((error: Error) => {
      console.log(`${row.id}: no PSNR (${error.message.split('\n')[0]})`);
      return {} as Awaited<ReturnType<typeof psnrOf>>;
    });
    for (const cell of rowCells) Object.assign(cell, { psnrDb: psnr[cell.tool]?.psnrDb, psnrImages: psnr[cell.tool]?.images });
    console.log(`${row.id.padEnd(12)} PSNR     ${tools.map((t) => `${t} ${psnr[t]?.psnrDb.toFixed(2) ?? '–'} dB`).join(', ')}`);
    cells.push(...rowCells);
    rmSync(dir, { recursive: true, force: true });
  }
  return cells;
}

/**
 * The tools in a row's order: each row starts with the next tool, so that none is always the
 * one that runs first, right after the previous row's files were deleted and this row's made
 * (and whose own code the kernel may have paged out meanwhile; see settleDisk).
 */
function inTurn<T>(tools: readonly T[], turn: number): T[] {
  const first = turn % tools.length;
  return [...tools.slice(first), ...tools.slice(0, first)];
}

/**
 * Before a cell: its inputs read into the page cache, and what earlier cells left to write
 * written out, so that every tool starts from the same place. This machine's kernel pages out
 * memory idle for a while (a DAMON scheme, `pageout`, on by default here), the page cache too:
 * 20 minutes after a run, 170 of 1,000 PNGs of a corpus had no page left in memory, so the tool
 * that ran first in a row read its inputs from the disk. In a run with imgfleet first in every
 * row, four of its cells used 0.6-1.4 of the 2 cores where every other cell used 1.5-1.9, and a
 * rerun of those rows alone did not repeat it.
 */
function settleDisk(input: string, names: string[]): void {
  for (const name of names) readFileSync(join(input, name));
  execFileSync('sync');
}

/** The first `share` of a corpus, as hard links in a folder of its own. */
function subset(corpus: string, dir: string, share: number): string {
  mkdirSync(dir, { recursive: true });
  const names = readdirSync(corpus).sort();
  for (const name of names.slice(0, Math.max(1, Math.round(names.length * share)))) linkSync(join(corpus, name), join(dir, name));
  return dir;
}

/**
 * Decodes each tool's outputs of the sample inputs to PNG with one decoder (sharp, profiles
 * ignored), then compares them with float_psnr.py's reference of the row's pipeline.
 */
async function psnrOf(row: MatrixRow, input: string, samples: string[], outputs: (readonly [Tool, string])[], dir: string): Promise<Record<string, { psnrDb: number; images: number }>> {
  mkdirSync(dir, { recursive: true });
  const pairs = [];
  for (const name of samples) {
    const stem = basename(name, extname(name));
    const decoded: Record<string, string> = {};
    for (const [tool, outputDir] of outputs) {
      const file = readdirSync(outputDir).find((f) => basename(f, extname(f)) === stem);
      if (!file) throw new Error(`${row.id} ${tool}: no output for ${name}`);
      decoded[tool] = join(dir, `${stem}.${tool}.png`);
      await sharp(join(outputDir, file), { ignoreIcc: true }).png({ compressionLevel: 1 }).toFile(decoded[tool]);
    }
    pairs.push({ source: join(input, name), outputs: decoded });
  }
  const job = join(dir, 'job.json');
  writeFileSync(job, JSON.stringify({ steps: validatePipeline(parsePipelineText(row.pipeline)).spec.steps, pairs }));
  return JSON.parse(execFileSync('/usr/bin/python3', [join(BENCH, 'matrix', 'float_psnr.py'), job], { encoding: 'utf8' }));
}
