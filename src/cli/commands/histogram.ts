import { Command } from 'commander';
import { basename, extname, join } from 'node:path';
import { histogramFile, writeHistogramFiles, type HistogramFile } from '../../histogram/histogram-file.js';
import { terminalChart } from '../../histogram/terminal-chart.js';
import type { ItemState } from '../../jobs/batch-job.js';
import { runFiles } from '../../jobs/run-files.js';
import type { HistogramData } from '../../ops/histogram.js';
import { validatePipeline } from '../../pipeline/validate.js';
import { showProgress } from '../progress.js';
import { failureLines, summaryLine } from '../summary.js';
import { interactive, positiveInteger, withClusterOptions } from '../usage.js';

interface HistogramOptions {
  output?: string;
  bins: number;
  concurrency?: number;
  sequential?: boolean;
  chart: boolean;
  json?: boolean;
  redis?: string;
  sharedFs?: boolean;
}

export function histogramCommand(): Command {
  return withClusterOptions(new Command('histogram'))
    .description('per-channel histograms: <name>.json and a <name>.png bar chart for each image, and a chart in the terminal')
    .argument('<images...>', 'image files, folders or quoted globs')
    .option('-o, --output <dir>', 'folder for <name>.json and <name>.png (without it, only the terminal chart)')
    .option('--bins <n>', 'bins per channel, 1..256', positiveInteger, 256)
    .option('-c, --concurrency <n>', 'images in parallel (worker threads; default: cores)', positiveInteger)
    .option('--sequential', 'one image at a time on the main thread')
    .option('--no-chart', 'no chart in the terminal')
    .option('--json', 'print the histograms as a JSON list on stdout')
    .action(async (images: string[], options: HistogramOptions) => {
      const pipeline = validatePipeline({ steps: [{ op: 'histogram', bins: options.bins }] });
      let stopProgress = () => {};
      const job = await runFiles({
        inputs: images, pipeline, sequential: options.sequential, threads: options.concurrency,
        redis: options.redis, sharedFs: options.sharedFs, priority: 1,
        onStart: (started) => {
          if (interactive(options.json) && started.items.length > 1) stopProgress = showProgress(started);
        },
      }).finally(() => stopProgress());

      const results = [];
      for (const item of job.items.filter((i) => i.status === 'done')) {
        const result = histogramFile(basename(item.input), item.data as HistogramData);
        results.push(result);
        if (options.output) await writeOutputs(options.output, item, result);
        if (options.chart && !options.json) {
          console.log(`${result.file}  ${result.width}×${result.height}`);
          console.log(terminalChart(result, 64, Boolean(process.stdout.isTTY)));
        }
      }
      if (options.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
      else {
        for (const line of failureLines(job)) console.error(line);
        console.log(summaryLine(job.summary()));
      }
      process.exitCode = job.summary().failed > 0 ? 1 : 0;
    });
}

async function writeOutputs(dir: string, item: ItemState, result: HistogramFile): Promise<void> {
  const rel = item.relative ?? basename(item.input);
  await writeHistogramFiles(join(dir, rel.slice(0, rel.length - extname(rel).length)), result);
}
