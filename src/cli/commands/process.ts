import { Command } from 'commander';
import { fstatSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { EXTENSIONS } from '../../image/encode.js';
import { AUTO_FORMAT, OUTPUT_FORMATS, type OutputFormat, type ValidPipeline } from '../../pipeline/spec.js';
import {
  interactive, loadPipeline, logLine, PIPELINE_HELP, positiveInteger, tilingChoice, usageError, withClusterOptions, withPresetsOption, withScratchOption, withStoreOptions,
  withTilingOptions, type CommandContext, type StoreFlags, type TilingFlags,
} from '../usage.js';
import { tuneForOneShot } from '../one-shot.js';

interface ProcessOptions extends TilingFlags, StoreFlags {
  pipeline: string;
  output?: string;
  json?: boolean;
  redis?: string;
  sharedFs?: boolean;
  presets?: string;
  maxPixels?: number;
  maxFrames?: number;
}

const FORMAT_BY_EXTENSION: Record<string, OutputFormat> = { '.jpg': 'jpeg', '.jpeg': 'jpeg', '.tif': 'tiff' };

export function processCommand({ env, result }: CommandContext): Command {
  return withPresetsOption(withScratchOption(withStoreOptions(withTilingOptions(withClusterOptions(new Command('process'), env)))), env)
    .description('process one image')
    .argument('<image>', 'input image: a file, or s3://bucket/key')
    .requiredOption('-p, --pipeline <pipeline>', PIPELINE_HELP)
    .option('-o, --output <file>', 'output file or s3://bucket/key; its extension sets the format when the pipeline does not (data pipelines print JSON without it)')
    .option('--json', 'print the result and step timings as JSON')
    .option('--max-pixels <n>', 'refuse an input with more pixels than this, all frames of an animation counted (default 50 000 000)', positiveInteger)
    .option('--max-frames <n>', 'refuse an animation with more frames than this (default 1000)', positiveInteger)
    .action(async (image: string, options: ProcessOptions) => {
      tuneForOneShot();
      const pipeline = withFormatFromExtension(await loadPipeline(options.pipeline, options.presets), options.output);
      if (!pipeline.yieldsData && !options.output) throw usageError('-o, --output <file> is required for an image result');
      const [{ createEngine }, { Runner }, { fromErrorInfo }, { formatBytes }, { writeFileAtomic }, objects] = await Promise.all([
        import('../../engine/create-engine.js'), import('../../runner/runner.js'), import('../../errors.js'), import('../../limits.js'), import('../../io/atomic-write.js'),
        import('../../sources/s3/object-url.js'),
      ]);
      const objectOf = (url: string, what: string) => {
        const { bucket, prefix } = objects.parseObjectUrl(url, what);
        if (prefix === '' || prefix.endsWith('/')) throw usageError(`${what} ${url}: name one object, s3://bucket/key`);
        return { kind: 'object' as const, bucket, key: prefix };
      };
      const source = objects.isObjectUrl(image) ? objectOf(image, 'input') : { kind: 'file' as const, path: image };
      const outputSink = options.output && objects.isObjectUrl(options.output) ? objectOf(options.output, 'output') : options.output ? { kind: 'file' as const, path: options.output } : undefined;
      const usesStore = source.kind === 'object' || outputSink?.kind === 'object';
      const s3 = usesStore ? (await import('../../sources/s3/s3-settings.js')).s3Settings(env, options.s3Endpoint) : undefined;
      const store = s3 && new (await import('../../sources/s3/s3-client.js')).S3Client(s3);
      const tiling = tilingChoice(options);
      const { checkTileable } = await import('../../tiling/choose.js');
      checkTileable(pipeline, tiling);
      // One image: the calling thread is quicker than starting a pool (tiles of a large one get a pool); on a cluster it goes ahead of batches.
      const { scratchPrefix } = await import('../../jobs/run-files.js');
      const scratch = store && options.redis ? { store, where: scratchPrefix({ s3Scratch: options.s3Scratch, outDir: options.output, inputs: [image] }) } : undefined;
      const engine = await createEngine({ sequential: true, tilesOnPool: true, redis: options.redis, sharedFs: options.sharedFs, environment: env, log: logLine, s3, scratch });
      const progress = interactive(env, options.json) ? (await import('../progress.js')).showTileProgress() : undefined;
      const limits = {
        ...(options.maxPixels ? { maxInputPixels: options.maxPixels } : {}),
        ...(options.maxFrames ? { maxFrames: options.maxFrames } : {}),
      };
      const outcome = await new Runner({ engine, tiling, store, limits }).run({
        source, pipeline, priority: 'interactive', onTile: progress?.onTile,
        sink: outputSink && !pipeline.yieldsData ? outputSink : { kind: 'none' },
      }).finally(async () => {
        progress?.stop();
        await engine.close();
        store?.close();
      });
      if (!outcome.ok) throw fromErrorInfo(outcome.error);
      if (options.json || outcome.data !== undefined) {
        const { ok: _ok, body: _body, ...shown } = outcome;
        const json = `${JSON.stringify(outcome.data, null, 2)}\n`;
        if (outcome.data !== undefined && outputSink?.kind === 'file') writeFileAtomic(outputSink.path, json);
        if (outcome.data !== undefined && outputSink?.kind === 'object') await store!.put(outputSink, Buffer.from(json), { contentType: 'application/json' });
        process.stdout.write(`${JSON.stringify(options.json ? shown : outcome.data, null, 2)}\n`);
        return;
      }
      const out = outcome.output!;
      const { stats } = outcome;
      const steps = stats.steps.map((s) => `${s.op} ${s.ms.toFixed(1)} ms`).concat(`encode ${stats.encodeMs.toFixed(1)} ms`);
      const tiles = stats.tiles ? ` as ${stats.tiles.count} tiles of ${stats.tiles.size} px (halo ${stats.tiles.halo} px) on ${Object.keys(stats.tiles.workers).join(', ')}` : '';
      const frames = stats.frames ? `, ${stats.frames} frames` : '';
      const quality = stats.quality !== undefined ? `, quality ${stats.quality}` : '';
      // Written to standard output (-o /dev/stdout), the image keeps it to itself.
      const say = outputSink?.kind === 'file' && isStandardOutput(outputSink.path) ? console.error : console.log;
      say(`wrote ${out.path ?? options.output} (${out.width}×${out.height} ${out.format}${frames}${quality}, ${formatBytes(out.bytes)}) in ${stats.totalMs.toFixed(1)} ms${tiles}: ${steps.join(', ')}`);
      result.code = 0;
    });
}

/** Whether a path is this process' standard output (a device or pipe it was given as fd 1). */
function isStandardOutput(path: string): boolean {
  try {
    const out = fstatSync(1);
    const target = statSync(path);
    return out.dev === target.dev && out.ino === target.ino;
  } catch {
    return false;
  }
}

/** Image types people name outputs with that no encoder here writes. */
const UNWRITABLE = new Set(['.heic', '.heif', '.bmp', '.jp2', '.j2k', '.ico', '.psd', '.svg', '.pdf', '.tga', '.ppm', '.pgm', '.pbm', '.dng']);

/**
 * `-o out.webp` picks WebP unless the pipeline names a format itself; an extension that says
 * another format than the pipeline's, or one imgfleet cannot write, is refused rather than
 * given a file whose name lies about it. Other extensions (`.bin`, `.tmp`) take the format the
 * pipeline makes.
 */
function withFormatFromExtension(pipeline: ValidPipeline, output: string | undefined): ValidPipeline {
  if (!output || pipeline.yieldsData) return pipeline;
  const ext = extname(output).toLowerCase();
  if (UNWRITABLE.has(ext)) {
    throw usageError(`-o ${output}: imgfleet does not write ${ext.slice(1).toUpperCase()}; name a ${Object.values(EXTENSIONS).join(', ')} file`);
  }
  const format = FORMAT_BY_EXTENSION[ext] ?? ext.slice(1);
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) return pipeline;
  const asked = pipeline.output.format;
  if (asked && asked !== AUTO_FORMAT && asked !== format) {
    throw usageError(`-o ${output} names ${format} but the pipeline writes ${asked}: name the file ${EXTENSIONS[asked]}, or leave out output:${asked}`);
  }
  if (asked) return pipeline;
  const outputSpec = { ...pipeline.output, format: format as OutputFormat };
  return { ...pipeline, output: outputSpec, spec: { ...pipeline.spec, output: outputSpec } };
}
