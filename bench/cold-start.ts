/**
 * The cold-start workload of `npm run bench -- --only cold-start`: how long a command takes from
 * a fresh process, as a user waits for it. `imgfleet --version`, and `imgfleet process` of one
 * photo against the plain sharp script doing the same (baselines/sharp_one.mjs), each run many
 * times, interleaved, as whole processes. Writes bench/results/cold-start.{json,md}.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { measure } from './measure.js';

export interface ColdStartOptions {
  rounds: number;
  command: string;
}

interface Variant {
  id: string;
  label: string;
  argv: (out: string) => string[];
}

interface Timing {
  id: string;
  label: string;
  runs: number;
  medianMs: number;
  minMs: number;
  /** User and system CPU of the process, median. */
  medianCpuMs: number;
}

export async function runColdStartWorkload(root: string, photos: string, options: ColdStartOptions): Promise<void> {
  const photo = join(photos, readdirSync(photos).filter((f) => f.endsWith('.jpg')).sort()[0]);
  const bin = join(root, 'bin', 'imgfleet.js');
  const variants: Variant[] = [
    { id: 'version', label: '`imgfleet --version`', argv: () => [bin, '--version'] },
    { id: 'process', label: '`imgfleet process photo.jpg -p resize:800,output:webp`', argv: (out) => [bin, 'process', photo, '-p', 'resize:800,output:webp', '-o', join(out, 'imgfleet.webp')] },
    { id: 'sharp', label: 'plain node + sharp script (`sharp(f).resize(800).webp().toFile(o)`)', argv: (out) => [join(root, 'bench', 'baselines', 'sharp_one.mjs'), photo, join(out, 'sharp.webp')] },
  ];
  const work = mkdtempSync(join(tmpdir(), 'imgfleet-cold-'));
  const wall: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  const load = [loadavg()[0]];
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const variant of variants) {
        const run = measure([process.execPath, ...variant.argv(work)]);
        if (run.exitCode !== 0) throw new Error(`${variant.id} failed: ${run.stderr.trim()}`);
        (wall[variant.id] ??= []).push(run.wallS * 1000);
        (cpu[variant.id] ??= []).push(run.cpuS * 1000);
      }
    }
    load.push(loadavg()[0]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const timings: Timing[] = variants.map((v) => ({
    id: v.id, label: v.label, runs: wall[v.id].length, medianMs: median(wall[v.id]), minMs: Math.min(...wall[v.id]), medianCpuMs: median(cpu[v.id]),
  }));
  const results = {
    date: new Date().toISOString(), command: options.command, machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    loadAverage: load, photo: { name: photo.split('/').pop(), bytes: statSync(photo).size }, timings,
  };
  const dir = join(root, 'bench', 'results');
  writeFileSync(join(dir, 'cold-start.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, 'cold-start.md'), coldStartMarkdown(results));
  console.log(coldStartMarkdown(results));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function coldStartMarkdown(results: { date: string; command: string; machine: { cores: number; cpu?: string; node: string }; loadAverage: number[]; photo: { name?: string; bytes: number }; timings: Timing[] }): string {
  const { date, command, machine, loadAverage, photo, timings } = results;
  const sharp = timings.find((t) => t.id === 'sharp')!;
  const lines = [
    `Run ${date.slice(0, 16).replace('T', ' ')} UTC on ${machine.cores} cores (${machine.cpu ?? 'unknown CPU'}), Node ${machine.node}: \`${command}\``,
    '',
    `Each command as a whole fresh process, ${timings[0].runs} times, interleaved (load average ${loadAverage.map((l) => l.toFixed(1)).join(' → ')}); the photo is ${photo.name} (${(photo.bytes / 1024).toFixed(0)} KiB).`,
    '',
    '| command | median wall (ms) | fastest (ms) | median CPU (ms) | × the sharp script |',
    '|---|---:|---:|---:|---:|',
    ...timings.map((t) => `| ${t.label} | ${t.medianMs.toFixed(0)} | ${t.minMs.toFixed(0)} | ${t.medianCpuMs.toFixed(0)} | ${t.id === 'version' ? '' : (t.medianMs / sharp.medianMs).toFixed(2) + '×'} |`),
    '',
  ];
  return lines.join('\n');
}
