import { hostname } from 'node:os';
import { runFileTask } from './file-task.js';
import { runTile, type TileResult, type TileTask } from '../tiling/tile-task.js';
import type { Engine, FileTask, TaskOutcome } from './types.js';

/** One image at a time on the calling thread, no pool: the baseline the pool is measured against. */
export class SequentialEngine implements Engine {
  readonly name = 'sequential';
  readonly capacity = 1;
  private readonly worker = `${hostname()}/main`;

  run(task: FileTask): Promise<TaskOutcome> {
    return runFileTask(task, this.worker);
  }

  async runTile(task: TileTask): Promise<TileResult> {
    return { ...(await runTile(task)), worker: this.worker };
  }

  async close(): Promise<void> {}
}
