import { CachedEngine } from '../cache/cached-engine.js';
import { openCache, type CacheChoice } from '../cache/open-cache.js';
import { ImgfleetError } from '../errors.js';
import { createEngine, type EngineChoice } from '../engine/create-engine.js';
import { collectInputs, planOutputs } from '../io/collect-inputs.js';
import type { Limits } from '../limits.js';
import { fixedFormat } from '../pipeline/negotiate.js';
import type { ValidPipeline } from '../pipeline/spec.js';
import { BatchJob } from './batch-job.js';
import { runBatch } from './run-batch.js';
import { checkTileable, type TilingChoice } from '../tiling/choose.js';

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
  /** Called with the job before any work starts, to follow its progress. */
  onStart?: (job: BatchJob) => void;
}

/** Everything `imgfleet run` does between parsing its arguments and printing the result. */
export async function runFiles(options: RunFilesOptions): Promise<BatchJob> {
  if (!options.pipeline.yieldsData && !options.outDir) throw new ImgfleetError('BAD_USAGE', 'an output folder is required');
  if (options.tiling) checkTileable(options.pipeline, options.tiling);
  const inputs = await collectInputs(options.inputs, options.glob);
  const outputs = options.pipeline.yieldsData || !options.outDir ? [] : planOutputs(inputs, options.outDir, fixedFormat(options.pipeline.output));
  const inner = await createEngine(options);
  const cache = options.cache ? await openCache(options.cache).catch(async (error: unknown) => {
    await inner.close();
    throw error;
  }) : undefined;
  const engine = cache ? new CachedEngine(inner, cache) : inner;
  try {
    const items = inputs.map((input, i) => ({ input: input.path, relative: input.relative, output: outputs[i] }));
    const job = new BatchJob(items, options.pipeline.spec, engine.name);
    options.onStart?.(job);
    await runBatch(engine, job, options.limits, options.tiling ?? {});
    return job;
  } finally {
    await engine.close();
    await cache?.close();
  }
}
