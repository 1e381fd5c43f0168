import type { Engine } from '../engine/types.js';
import type { Limits } from '../limits.js';
import type { TilingChoice } from '../tiling/choose.js';
import type { TileRunner } from '../tiling/tile-task.js';
import { runTiledFileTask } from '../tiling/tiled-file-task.js';
import type { BatchJob, BatchSummary } from './batch-job.js';

/**
 * Feeds a batch to an engine, keeping at most `engine.capacity` items in flight so memory stays
 * bounded whatever the batch size. One item's failure never stops the others. With `tiling`,
 * an image large enough runs as tiles on the same engine, its tiles reported as job events.
 */
export async function runBatch(engine: Engine, job: BatchJob, limits?: Partial<Limits>, tiling?: TilingChoice, signal?: AbortSignal): Promise<BatchSummary> {
  job.start();
  let next = 0;
  // Large images take turns: the tiles of one already fill the engine.
  let turns: Promise<unknown> = Promise.resolve();
  const turn = <T>(run: () => Promise<T>): Promise<T> => {
    const result = turns.then(run);
    turns = result.catch(() => {});
    return result;
  };
  const lane = async () => {
    // An aborted batch takes no new items; the ones in flight finish.
    while (next < job.items.length && !signal?.aborted) {
      const index = next++;
      const item = job.items[index];
      job.markRunning(index);
      const task = { inputPath: item.input, outputPath: item.output, spec: job.pipeline, limits };
      const tiled = tiling && engine.runTile ? await runTiledFileTask(task, tileRunner(engine), tiling, {
        onTile: (event) => job.emit('tile', index, event), turn,
      }) : undefined;
      job.settle(index, tiled ?? await engine.run(task));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(engine.capacity, job.items.length)) }, lane));
  job.finish();
  return job.summary();
}

/** An engine as the runner of a tiled image's tiles. */
export function tileRunner(engine: Engine): TileRunner {
  const tileCapacity = engine.tileCapacity?.bind(engine);
  return { name: engine.name, capacity: engine.capacity, tileCapacity, runTile: (task) => engine.runTile!(task) };
}
