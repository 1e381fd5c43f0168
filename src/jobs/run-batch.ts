import type { Limits } from '../limits.js';
import type { ImageRequest } from '../runner/request.js';
import type { Runner } from '../runner/runner.js';
import type { Outcome, Priority } from '../task/task.js';
import type { TilingChoice } from '../tiling/choose.js';
import type { BatchJob, BatchSummary } from './batch-job.js';

export interface BatchOptions {
  /** Interactive batches (a histogram someone waits for) go before others. @defaultValue batch */
  priority?: Priority;
  /** Tiles for every image of the batch; none: the runner's choice. */
  tiling?: TilingChoice;
  limits?: Partial<Limits>;
  /** An aborted batch takes no new items; the ones in flight finish. */
  signal?: AbortSignal;
  /** Logos sent with the batch (see Task.assets). */
  assets?: ImageRequest['assets'];
  /** Sees each item's outcome before it is settled, and may turn it into another (a quota passed). */
  review?: (index: number, outcome: Outcome) => Outcome | Promise<Outcome>;
}

/**
 * Feeds a batch to a runner, keeping at most the engine's image slots in flight so memory stays
 * bounded whatever the batch size. One item's failure never stops the others.
 */
export async function runBatch(runner: Runner, job: BatchJob, options: BatchOptions = {}): Promise<BatchSummary> {
  job.start();
  let next = 0;
  const lane = async () => {
    while (next < job.items.length && !options.signal?.aborted) {
      const index = next++;
      const item = job.items[index];
      job.markRunning(index);
      const request: ImageRequest = {
        source: item.source ?? { kind: 'file', path: item.input },
        pipeline: job.pipeline,
        sink: item.sink ?? (item.output ? { kind: 'file', path: item.output } : { kind: 'none' }),
        priority: options.priority ?? 'batch',
        tiling: options.tiling,
        limits: options.limits,
        onTile: (event) => job.emit('tile', index, event),
      };
      if (options.assets) request.assets = options.assets;
      const outcome = await runner.run(request);
      job.settle(index, options.review ? await options.review(index, outcome) : outcome);
    }
  };
  const slots = await runner.slots('image');
  await Promise.all(Array.from({ length: Math.max(1, Math.min(slots, job.items.length)) }, lane));
  job.finish();
  return job.summary();
}
