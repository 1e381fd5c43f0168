import { Command } from 'commander';
import { basename } from 'node:path';
import type { ImageInfo } from '../../info/image-info.js';
import { interactive, logLine, positiveInteger, positiveNumber, withClusterOptions, withStoreOptions, type CommandContext, type StoreFlags } from '../usage.js';
import { tuneForOneShot } from '../one-shot.js';

interface InfoOptions extends StoreFlags {
  json?: boolean;
  maxPixels?: number;
  density?: number;
  concurrency?: number;
  sequential?: boolean;
  redis?: string;
  sharedFs?: boolean;
}

export function infoCommand({ env, result }: CommandContext): Command {
  return withStoreOptions(withClusterOptions(new Command('info'), env))
    .description('what each image is: size, format, frames, alpha, orientation, ICC profile, EXIF date and camera, dominant colour, ThumbHash and BlurHash placeholders')
    .argument('<images...>', 'image files, folders, quoted globs, or s3://bucket/prefix/')
    .option('--json', 'print a JSON list, one object per image (a failed one with its error)')
    .option('--density <dpi>', 'dots per inch to draw SVGs at (default 72: the size they declare)', positiveNumber)
    .option('--max-pixels <n>', 'refuse images whose header claims more pixels (default 50,000,000)', positiveInteger)
    .option('-c, --concurrency <n>', 'images in parallel (worker threads; default: cores)', positiveInteger)
    .option('--sequential', 'one image at a time on the main thread')
    .action(async (images: string[], options: InfoOptions) => {
      tuneForOneShot();
      const [{ runFiles }, { validatePipeline }, { showProgress }, { s3Settings }] = await Promise.all([
        import('../../jobs/run-files.js'), import('../../pipeline/validate.js'), import('../progress.js'), import('../../sources/s3/s3-settings.js'),
      ]);
      const pipeline = validatePipeline({ ...(options.density ? { input: { density: options.density } } : {}), steps: [{ op: 'info' }] });
      let stopProgress = () => {};
      const job = await runFiles({
        inputs: images, pipeline, sequential: options.sequential, threads: options.concurrency,
        redis: options.redis, sharedFs: options.sharedFs, environment: env, log: logLine, priority: 'interactive', s3: s3Settings(env, options.s3Endpoint),
        limits: options.maxPixels ? { maxInputPixels: options.maxPixels } : undefined,
        onStart: (started) => {
          if (interactive(env, options.json) && started.items.length > 1) stopProgress = showProgress(started);
        },
      }).finally(() => stopProgress());

      const listed: unknown[] = [];
      for (const item of job.items) {
        const file = item.relative ?? basename(item.input);
        if (item.status === 'done') {
          if (options.json) listed.push({ file, ...(item.data as ImageInfo) });
          else console.log(infoText(file, item.data as ImageInfo));
        } else {
          const error = item.error ?? { code: 'INTERNAL', message: 'failed' };
          if (options.json) listed.push({ file, error: { code: error.code, message: error.message } });
          else console.error(`${file}: ${error.message}`);
        }
      }
      if (options.json) process.stdout.write(`${JSON.stringify(listed, null, 2)}\n`);
      else for (const skipped of job.skipped) console.error(`skipped ${skipped.path}: ${skipped.reason}`);
      result.code = job.summary().failed > 0 ? 1 : 0;
    });
}

/** One image's facts, a line each, as a person reads them. */
export function infoText(name: string, info: ImageInfo): string {
  const camera = [info.camera?.make, info.camera?.model].filter(Boolean).join(' ');
  const lines: [string, string | undefined][] = [
    ['size', `${info.width}×${info.height}${info.frames > 1 ? `, ${info.frames} frames` : ''}`],
    ['format', `${info.format}${info.alpha ? ' with alpha' : ''}, ${info.bytes} bytes`],
    ['orientation', info.orientation === 1 ? undefined : String(info.orientation)],
    ['icc', info.icc],
    ['taken', info.date],
    ['camera', camera || undefined],
    ['dominant', info.dominant],
    ['thumbhash', info.thumbhash],
    ['blurhash', info.blurhash],
  ];
  return [name, ...lines.filter(([, value]) => value !== undefined).map(([key, value]) => `  ${key.padEnd(11)} ${value}`)].join('\n');
}
