import { Command } from 'commander';
import { basename } from 'node:path';
import { interactive, logLine, positiveInteger, withClusterOptions, withStoreOptions, type CommandContext, type StoreFlags } from '../usage.js';
import { tuneForOneShot } from '../one-shot.js';

interface HistogramOptions extends StoreFlags {
  output?: string;
  bins: number;
  concurrency?: number;
  sequential?: boolean;
  chart: boolean;
  json?: boolean;
  redis?: string;
  sharedFs?: boolean;
}

export function histogramCommand({ env, result }: CommandContext): Command {
  return withStoreOptions(withClusterOptions(new Command('histogram'), env))
    .description('per-channel histograms: <name>.json and a <name>.png bar chart for each image, and a chart in the terminal')
    .argument('<images...>', 'image files, folders, quoted globs, or s3://bucket/prefix/')
    .option('-o, --output <dir>', 'folder for <name>.json and <name>.png (without it, only the terminal chart)')
    .option('--bins <n>', 'bins per channel, 1..256', positiveInteger, 256)
    .option('-c, --concurrency <n>', 'images in parallel (worker threads; default: cores)', positiveInteger)
    .option('--sequential', 'one image at a time on the main thread')
    .option('--no-chart', 'no chart in the terminal')
    .option('--json', 'print the histograms as a JSON list on stdout')
    .action(async (images: string[], options: HistogramOptions) => {
      tuneForOneShot();
      const [{ runFiles }, { validatePipeline }, files, { terminalChart }, { showProgress }, { failureLines, summaryLine }] = await Promise.all([
        import('../../jobs/run-files.js'), import('../../pipeline/validate.js'), import('../../histogram/histogram-file.js'),
        import('../../histogram/terminal-chart.js'), import('../progress.js'), import('../summary.js'),
      ]);
      const pipeline = validatePipeline({ steps: [{ op: 'histogram', bins: options.bins }] });
      const { s3Settings } = await import('../../sources/s3/s3-settings.js');
      let stopProgress = () => {};
      let stems: string[] = [];
      const job = await runFiles({
        inputs: images, pipeline, sequential: options.sequential, threads: options.concurrency,
        redis: options.redis, sharedFs: options.sharedFs, environment: env, log: logLine, priority: 'interactive', s3: s3Settings(env, options.s3Endpoint),
        onStart: (started) => {
          if (options.output) stems = files.planHistogramStems(started.items, options.output);
          if (interactive(env, options.json) && started.items.length > 1) stopProgress = showProgress(started);
        },
      }).finally(() => stopProgress());

      const histograms = [];
      for (const [i, item] of job.items.entries()) {
        if (item.status !== 'done') continue;
        const histogram = files.histogramFile(basename(item.input), item.data as Parameters<typeof files.histogramFile>[1]);
        histograms.push(histogram);
        if (options.output) await files.writeHistogramFiles(stems[i], histogram);
        if (options.chart && !options.json) {
          console.log(`${histogram.file}  ${histogram.width}×${histogram.height}`);
          console.log(terminalChart(histogram, 64, Boolean(process.stdout.isTTY)));
        }
      }
      if (options.json) process.stdout.write(`${JSON.stringify(histograms, null, 2)}\n`);
      else {
        for (const line of failureLines(job)) console.error(line);
        console.log(summaryLine(job.summary()));
      }
      result.code = job.summary().failed > 0 ? 1 : 0;
    });
}
