import { Command } from 'commander';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileIdentity } from '../../io/file-kind.js';
import type { BatchJob } from '../../jobs/batch-job.js';
import type { Limits } from '../../limits.js';
import {
  folderToMake, interactive, loadPipeline, logLine, PIPELINE_HELP, positiveInteger, positiveNumber, tilingChoice, usageError, withClusterOptions, withPresetsOption, withScratchOption,
  withStoreOptions, withTilingOptions, type CommandContext, type StoreFlags, type TilingFlags,
} from '../usage.js';
import { tuneForOneShot } from '../one-shot.js';

interface RunOptions extends TilingFlags, StoreFlags {
  output: string;
  pipeline: string;
  glob?: string;
  concurrency?: number;
  sequential?: boolean;
  timeout: number;
  report?: string;
  json?: boolean;
  maxPixels?: number;
  maxFrames?: number;
  redis?: string;
  sharedFs?: boolean;
  presets?: string;
  cacheDir?: string;
  cacheRedis?: string;
  cacheS3?: string;
  cacheMb?: number;
  cache: boolean;
}

export function runCommand({ env, result }: CommandContext): Command {
  return withPresetsOption(withScratchOption(withStoreOptions(withTilingOptions(withClusterOptions(new Command('run'), env)))), env)
    .description('process files, folders, globs and buckets through a pipeline into an output folder or bucket')
    .argument('<inputs...>', 'image files, folders (searched recursively), quoted globs, or s3://bucket/prefix/')
    .requiredOption('-o, --output <dir>', 'output folder or s3://bucket/prefix/; outputs mirror the inputs’ relative paths (or keys)')
    .requiredOption('-p, --pipeline <pipeline>', PIPELINE_HELP)
    .option('--glob <pattern>', 'only files matching this pattern inside folders, e.g. "*.jpg"')
    .option('-c, --concurrency <n>', 'images in parallel (worker threads; default: cores)', positiveInteger)
    .option('--sequential', 'one image at a time on the main thread, no pool (for comparison)')
    .option('--timeout <seconds>', 'give up on one image after this long', positiveNumber, 120)
    .option('--report <file>', 'write a JSON report: per file status, error, output, bytes, step timings')
    .option('--json', 'print the report as JSON on stdout instead of the summary')
    .option('--max-pixels <n>', 'refuse inputs with more pixels than this, all frames of an animation counted (default 50 000 000)', positiveInteger)
    .option('--max-frames <n>', 'refuse animations with more frames than this (default 1000)', positiveInteger)
    .option('--cache-dir <dir>', 'keep results in this folder and serve repeated work from it (shared with imgfleet serve)', folderToMake)
    .option('--cache-redis <url>', 'keep results in this Redis instead (shared with the cluster\'s servers)')
    .option('--cache-s3 <url>', 'keep results in a bucket instead, s3://bucket/prefix/ (shared by a whole fleet; expired by the bucket\'s lifecycle rules)')
    .option('--cache-mb <n>', 'the cache\'s budget in MiB; least recently used results go first (default: disk 1024, Redis 256)', positiveNumber)
    .option('--no-cache', 'compute every image, even with a cache named')
    .addHelpText('after', '\nExit status: 0 all done, 1 some images failed, 2 bad usage (or a cluster that cannot be reached).')
    .action(async (inputs: string[], options: RunOptions) => {
      tuneForOneShot();
      // The progress bar is loaded only for a terminal: a script's run starts sooner without it.
      const withBar = interactive(env, options.json);
      const [{ runFiles }, { writeFileAtomic }, progress, { failureLines, summaryLine }] = await Promise.all([
        import('../../jobs/run-files.js'), import('../../io/atomic-write.js'), withBar ? import('../progress.js') : undefined, import('../summary.js'),
      ]);
      const pipeline = await loadPipeline(options.pipeline, options.presets);
      const { s3Settings } = await import('../../sources/s3/s3-settings.js');
      let stopProgress = () => {};
      const job = await runFiles({
        inputs, outDir: options.output, pipeline, glob: options.glob,
        sequential: options.sequential, threads: options.concurrency, timeoutMs: options.timeout * 1000,
        redis: options.redis, sharedFs: options.sharedFs, environment: env, log: logLine, tiling: tilingChoice(options),
        s3: s3Settings(env, options.s3Endpoint), s3Scratch: options.s3Scratch,
        cache: options.cache && (options.cacheDir || options.cacheRedis || options.cacheS3)
          ? { dir: options.cacheDir, redis: options.cacheRedis, s3: options.cacheS3, megabytes: options.cacheMb, prefix: env.prefix }
          : undefined,
        limits: inputLimits(options),
        onStart: (started) => {
          if (options.report) checkReportPath(options.report, started);
          if (progress) stopProgress = progress.showProgress(started);
        },
      }).finally(() => stopProgress());

      const report = job.report();
      if (options.report) writeFileAtomic(options.report, `${JSON.stringify(report, null, 2)}\n`);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        for (const line of failureLines(job)) console.error(line);
        console.log(summaryLine(report.summary));
      }
      result.code = report.summary.failed > 0 ? 1 : 0;
    });
}

/** Refuses, before any work, a report that would go over one of the batch's inputs or into a folder's place. */
function checkReportPath(report: string, job: BatchJob): void {
  if (statSync(report, { throwIfNoEntry: false })?.isDirectory()) throw usageError(`--report ${report}: a folder; name a file`);
  const there = fileIdentity(report);
  const path = resolve(report);
  // Only files can be in its way: objects (s3:// inputs) are left out, thousands of them at no cost.
  const input = job.items.find((item) => !item.source && (resolve(item.input) === path || (there !== undefined && fileIdentity(item.input) === there)));
  if (input) throw usageError(`--report ${report}: refusing to write the report over input ${input.input}`);
}

/** The input limits the flags ask for, or none. */
function inputLimits(options: Pick<RunOptions, 'maxPixels' | 'maxFrames'>): Partial<Limits> | undefined {
  const limits: Partial<Limits> = {
    ...(options.maxPixels ? { maxInputPixels: options.maxPixels } : {}),
    ...(options.maxFrames ? { maxFrames: options.maxFrames } : {}),
  };
  return Object.keys(limits).length > 0 ? limits : undefined;
}
