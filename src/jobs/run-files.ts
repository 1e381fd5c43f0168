import { openCache, type CacheChoice } from '../cache/open-cache.js';
import type { CacheEvents } from '../cache/cached-results.js';
import { createEngine, type EngineChoice } from '../engine/create-engine.js';
import { ImgfleetError } from '../errors.js';
import { collectInputs, planOutputs } from '../io/collect-inputs.js';
import type { Limits } from '../limits.js';
import { fixedFormat } from '../pipeline/negotiate.js';
import type { ValidPipeline } from '../pipeline/spec.js';
import { Runner } from '../runner/runner.js';
import type { Priority } from '../task/task.js';
import { checkTileable, type TilingChoice } from '../tiling/choose.js';
import { BatchJob } from './batch-job.js';
import { runBatch } from './run-batch.js';

export interface RunFilesOptions extends EngineChoice {
  inputs: string[];
  /** Output folder; not needed when the pipeline yields data. */
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
}

/** Everything `imgfleet run` (and `histogram`) does between parsing its arguments and printing the result. */
export async function runFiles(options: RunFilesOptions): Promise<BatchJob> {
  if (!options.pipeline.yieldsData && !options.outDir) throw new ImgfleetError('BAD_USAGE', 'an output folder is required');
  if (options.tiling) checkTileable(options.pipeline, options.tiling);
  const found = await collectInputs(options.inputs, options.glob);
  const outputs = options.pipeline.yieldsData || !options.outDir ? [] : planOutputs(found.files, options.outDir, fixedFormat(options.pipeline.output));
  const engine = await createEngine(options);
  try {
    const cache = options.cache ? await openCache(options.cache, options.log) : undefined;
    try {
      const runner = new Runner({ engine, cache, cacheEvents: options.cacheEvents, tiling: options.tiling, limits: options.limits });
      const items = found.files.map((input, i) => ({ input: input.path, relative: input.relative, output: outputs[i] }));
      const job = new BatchJob(items, options.pipeline, engine.mode, found.skipped);
      options.onStart?.(job);
      await runBatch(runner, job, { priority: options.priority, limits: options.limits });
      return job;
    } finally {
      await cache?.close();
    }
  } finally {
    await engine.close();
  }
}
