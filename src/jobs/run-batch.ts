import type { Engine } from '../engine/types.js';
import type { Limits } from '../limits.js';
import type { BatchJob, BatchSummary } from './batch-job.js';

/**
 * Feeds a batch to an engine, keeping at most `engine.capacity` items in flight so memory stays
 * bounded whatever the batch size. One item's failure never stops the others.
 */
export async function runBatch(engine: Engine, job: BatchJob, limits?: Partial<Limits>, signal?: AbortSignal): Promise<BatchSummary> {
  job.start();
  let next = 0;
  const lane = async () => {
    // An aborted batch takes no new items; the ones in flight finish.
    while (next < job.items.length && !signal?.aborted) {
      const index = next++;
      const item = job.items[index];
      job.markRunning(index);
      job.settle(index, await engine.run({ inputPath: item.input, outputPath: item.output, spec: job.pipeline, limits }));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(engine.capacity, job.items.length)) }, lane));
  job.finish();
  return job.summary();
}
