/**
 * `npm start`: real photos through real pipelines on the local engine, with progress and a
 * summary. Outputs go to ./out/.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { showProgress } from '../cli/progress.js';
import { failureLines, summaryLine } from '../cli/summary.js';
import { readEnvironment } from '../config.js';
import { histogramFile, writeHistogramFiles } from '../histogram/histogram-file.js';
import { terminalChart } from '../histogram/terminal-chart.js';
import type { BatchJob } from '../jobs/batch-job.js';
import { runFiles } from '../jobs/run-files.js';
import type { HistogramData } from '../ops/histogram.js';
import { parseCompact } from '../pipeline/compact.js';
import { validatePipeline } from '../pipeline/validate.js';

const SAMPLES = fileURLToPath(new URL('../../../samples', import.meta.url));
const OUT = 'out';

const DEMOS = [
  { title: 'Web thumbnails', dir: 'thumbnails', pipeline: 'resize:640:480:fit=cover,sharpen:sigma=0.8,watermark:imgfleet:opacity=0.45,output:webp:80' },
  { title: 'Edges drawn over the photo', dir: 'edges', pipeline: 'resize:800,blur:1.2,edges:canny:low=60:high=160:overlay=ff3b30,output:png' },
  { title: 'Vintage print', dir: 'vintage', pipeline: 'resize:800,sepia:0.85,contrast:1.15,brightness:1.05,output:jpeg:85' },
];

async function main(): Promise<void> {
  await rm(OUT, { recursive: true, force: true });
  console.log(`imgfleet demo: ${SAMPLES} → ./${OUT}/\n`);
  let failed = 0;
  for (const demo of DEMOS) {
    const pipeline = validatePipeline(parseCompact(demo.pipeline));
    console.log(`${demo.title}\n  pipeline: ${demo.pipeline}`);
    const job = await runFiles({ inputs: [SAMPLES], outDir: join(OUT, demo.dir), pipeline, onStart: follow });
    failed += job.summary().failed;
    printResult(job);
  }

  const histograms = await runFiles({ inputs: [SAMPLES], pipeline: validatePipeline({ steps: [{ op: 'histogram' }] }), onStart: follow });
  console.log('Histograms (JSON and PNG charts in out/histograms/)');
  for (const item of histograms.items.filter((i) => i.status === 'done')) {
    const result = histogramFile(item.relative ?? item.input, item.data as HistogramData);
    await writeHistogramFiles(join(OUT, 'histograms', result.file.replace(/\.[^.]+$/, '')), result);
    if (item === histograms.items[0]) console.log(`  ${result.file}\n${terminalChart(result, 48).replace(/^/gm, '  ')}`);
  }
  printResult(histograms);
  console.log(`Outputs are in ./${OUT}/. Try your own: npx imgfleet run <folder> -o out/mine -p 'resize:800,sharpen,output:webp'`);
  process.exitCode = failed > 0 ? 1 : 0;
}

function follow(job: BatchJob): void {
  if (readEnvironment().interactive) showProgress(job);
}

function printResult(job: BatchJob): void {
  for (const line of failureLines(job)) console.error(line);
  const steps = new Map<string, number[]>();
  for (const item of job.items) {
    for (const step of item.stats?.steps ?? []) steps.set(step.op, [...(steps.get(step.op) ?? []), step.ms]);
    if (item.stats?.encodeMs) steps.set('encode', [...(steps.get('encode') ?? []), item.stats.encodeMs]);
  }
  const timings = [...steps].map(([op, ms]) => `${op} ${(ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(1)} ms`).join(', ');
  console.log(`  ${summaryLine(job.summary())}\n  mean per image: ${timings}\n`);
}

await main();
