import { toErrorInfo } from '../errors.js';
import { readInput } from '../engine/file-task.js';
import type { BytesOutcome, BytesTask, Engine, FileTask, TaskOutcome } from '../engine/types.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import type { ProcessStats } from '../pipeline/process.js';
import { validatePipeline } from '../pipeline/validate.js';
import { CachedResults, type CacheEvents, type Served } from './cached-results.js';
import type { EntryMeta } from './entry.js';
import type { ResultCache } from './result-cache.js';
import { resultKey } from './result-key.js';

/**
 * An engine whose results go through a result cache: a batch run again over the same inputs
 * and pipeline writes each output from the cache without computing it. Images that run as
 * tiles go straight to the inner engine.
 */
export class CachedEngine implements Engine {
  readonly name: string;
  readonly capacity: number;
  private readonly results: CachedResults;

  constructor(private readonly inner: Engine, cache: ResultCache, events?: CacheEvents) {
    this.name = inner.name;
    this.capacity = inner.capacity;
    this.results = new CachedResults(cache, events);
    if (inner.runTile) this.runTile = inner.runTile.bind(inner);
    if (inner.tileCapacity) this.tileCapacity = inner.tileCapacity.bind(inner);
  }

  runTile?: Engine['runTile'];
  tileCapacity?: Engine['tileCapacity'];

  async run(task: FileTask): Promise<TaskOutcome> {
    let served: Served;
    try {
      const yieldsData = validatePipeline(task.spec, { maxSteps: Number.MAX_SAFE_INTEGER }).yieldsData;
      const input = readInput(task.inputPath, task.limits?.maxFileBytes);
      served = await this.serve({ input, spec: task.spec, limits: task.limits });
      if (!served.ok) return served;
      const { entry } = served;
      const stats = served.stats ?? cachedStats(entry.meta);
      const worker = served.worker ?? 'cache';
      if (yieldsData) return { ok: true, data: JSON.parse(entry.body.toString('utf8')), stats, worker, cache: served.cache };
      if (!task.outputPath) return { ok: false, error: { code: 'BAD_USAGE', message: 'no output path for an image result' }, worker };
      writeFileAtomic(task.outputPath, entry.body);
      const { format = '', width = 0, height = 0 } = entry.meta;
      return { ok: true, stats, worker, cache: served.cache, output: { path: task.outputPath, bytes: entry.body.length, width, height, format } };
    } catch (error) {
      return { ok: false, error: toErrorInfo(error), worker: this.name };
    }
  }

  async runBytes(task: BytesTask): Promise<BytesOutcome> {
    const served = await this.serve(task);
    if (!served.ok) return served;
    const { entry } = served;
    const stats = served.stats ?? cachedStats(entry.meta);
    const worker = served.worker ?? 'cache';
    if (entry.meta.kind === 'data') return { ok: true, result: { kind: 'data', data: JSON.parse(entry.body.toString('utf8')), stats }, worker };
    const { format = 'png', width = 0, height = 0 } = entry.meta;
    return { ok: true, result: { kind: 'image', data: entry.body, format, width, height, channels: 0, stats }, worker };
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private serve(task: BytesTask): Promise<Served> {
    // Hashed first: a pool thread may take the input's memory.
    const key = resultKey(task.input, task.spec);
    return this.results.serve(key, () => this.inner.runBytes(task));
  }
}

/** The stats of a result served from the cache: the source it was made from, and no work. */
export function cachedStats(meta: EntryMeta): ProcessStats {
  return { input: meta.input, path: 'cache', probeMs: 0, steps: [], encodeMs: 0, totalMs: 0 };
}
