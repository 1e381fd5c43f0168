import { openCache, type CacheChoice } from '../cache/open-cache.js';
import type { CacheEvents } from '../cache/cached-results.js';
import { createEngine, type EngineChoice } from '../engine/create-engine.js';
import { ImgfleetError } from '../errors.js';
import { collectInputs, planOutputs, type SkippedFile } from '../io/collect-inputs.js';
import type { Limits } from '../limits.js';
import { fixedFormat } from '../pipeline/negotiate.js';
import type { ValidPipeline } from '../pipeline/spec.js';
import { Runner } from '../runner/runner.js';
import type { S3Client } from '../sources/s3/s3-client.js';
import { isObjectUrl, objectUrl, parseObjectUrl, type ObjectPrefix } from '../sources/s3/object-url.js';
import type { Priority } from '../task/task.js';
import { checkTileable, type TilingChoice } from '../tiling/choose.js';
import { BatchJob, type BatchItem } from './batch-job.js';
import { runBatch } from './run-batch.js';

export interface RunFilesOptions extends EngineChoice {
  /** Files, folders, globs, and s3://bucket/prefix/ URLs. */
  inputs: string[];
  /** Output folder, or s3://bucket/prefix/; not needed when the pipeline yields data. */
  outDir?: string;
  pipeline: ValidPipeline;
  glob?: string;
  limits?: Partial<Limits>;
  /** Large images as tiles (see src/tiling/); none given: images above 16 MP, when the pipeline allows. */
  tiling?: TilingChoice;
  /** A result cache to serve repeated work from (see src/cache/); none: every image is computed. */
  cache?: CacheChoice;
  cacheEvents?: CacheEvents;
  /** @defaultValue batch */
  priority?: Priority;
  /** Called with the job before any work starts, to follow its progress. */
  onStart?: (job: BatchJob) => void;
  /** Cluster mode with a store: where tiles travel (s3://bucket/prefix/). @defaultValue imgfleet-scratch/ in the bucket of the output (or of the first input) */
  s3Scratch?: string;
}

/**
 * Images in flight when jobs carry only references (objects in a store, or shared paths): the
 * submitter holds no bytes for them, so it can keep a large fleet fed.
 */
const REFERENCE_WINDOW = 2048;

/** Everything `imgfleet run` (and `histogram`) does between parsing its arguments and printing the result. */
export async function runFiles(options: RunFilesOptions): Promise<BatchJob> {
  if (!options.pipeline.yieldsData && !options.outDir) throw new ImgfleetError('BAD_USAGE', 'an output folder is required');
  if (options.tiling) checkTileable(options.pipeline, options.tiling);
  const usesStore = [...options.inputs, options.outDir ?? ''].some(isObjectUrl) || Boolean(options.cache?.s3 && !options.cache.disabled);
  const store = usesStore ? await openStore(options) : undefined;
  try {
    const { items, skipped } = await batchItems(options, store);
    const references = items.every((item) => item.source) || (options.sharedFs === true && Boolean(options.redis));
    const scratch = store && options.redis ? { store, where: scratchPrefix(options) } : undefined;
    const engine = await createEngine({
      ...options, s3: store ? options.s3 : undefined, window: options.window ?? (references ? REFERENCE_WINDOW : undefined), scratch, batchImages: items.length,
    });
    try {
      const cache = options.cache ? await openCache(options.cache, options.log, store) : undefined;
      const runner = new Runner({ engine, cache, cacheEvents: options.cacheEvents, tiling: options.tiling, limits: options.limits, store });
      try {
        const job = new BatchJob(items, options.pipeline, engine.mode, skipped);
        options.onStart?.(job);
        await runBatch(runner, job, { priority: options.priority, limits: options.limits });
        return job;
      } finally {
        await runner.settled();
        await cache?.close();
      }
    } finally {
      await engine.close();
    }
  } finally {
    store?.close();
  }
}

/** Where the tiles of a large image travel on a cluster with a store: the prefix asked for, or imgfleet-scratch/ in the batch's bucket. */
export function scratchPrefix(options: { s3Scratch?: string; outDir?: string; inputs: string[] }): ObjectPrefix {
  if (options.s3Scratch) return parseObjectUrl(options.s3Scratch, '--s3-scratch');
  const bucketOf = [options.outDir ?? '', ...options.inputs].find(isObjectUrl)!;
  return { bucket: parseObjectUrl(bucketOf).bucket, prefix: 'imgfleet-scratch/' };
}

async function openStore(options: RunFilesOptions): Promise<S3Client> {
  if (!options.s3) throw new ImgfleetError('BAD_USAGE', 's3:// inputs or outputs need the object store\'s settings');
  const { S3Client } = await import('../sources/s3/s3-client.js');
  return new S3Client(options.s3);
}

/** The batch's items: inputs found (files, and objects listed page by page), each with the output it writes. */
async function batchItems(options: RunFilesOptions, store: S3Client | undefined): Promise<{ items: BatchItem[]; skipped: SkippedFile[] }> {
  const localArgs = options.inputs.filter((arg) => !isObjectUrl(arg));
  const found = localArgs.length > 0 ? await collectInputs(localArgs, options.glob) : { files: [], skipped: [] };
  const items: BatchItem[] = found.files.map((file) => ({ input: file.path, relative: file.relative }));
  const skipped = [...found.skipped];
  const seen = new Set<string>();
  for (const arg of options.inputs.filter(isObjectUrl)) {
    const { collectObjects } = await import('../io/collect-objects.js');
    const objects = await collectObjects(store!, arg, options.glob);
    skipped.push(...objects.skipped);
    for (const { source, relative } of objects.files) {
      const url = objectUrl(source);
      if (seen.has(url)) continue;
      seen.add(url);
      items.push({ input: url, relative, source });
    }
  }
  const { outDir, pipeline } = options;
  if (pipeline.yieldsData || !outDir) return { items, skipped };
  const format = fixedFormat(pipeline.output);
  if (isObjectUrl(outDir)) {
    const { planObjectOutputs } = await import('../io/collect-objects.js');
    const sinks = planObjectOutputs(items.map((item) => ({ relative: item.relative!, input: item.input })), parseObjectUrl(outDir, 'output'), format, seen);
    items.forEach((item, i) => {
      item.output = objectUrl(sinks[i]);
      item.sink = sinks[i];
    });
    return { items, skipped };
  }
  const outputs = planOutputs(items.map((item) => ({ path: item.input, relative: item.relative! })), outDir, format);
  items.forEach((item, i) => {
    item.output = outputs[i];
  });
  return { items, skipped };
}
