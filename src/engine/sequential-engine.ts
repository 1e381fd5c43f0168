import { hostname } from 'node:os';
import { toErrorInfo } from '../errors.js';
import { processImage } from '../pipeline/process.js';
import { validatePipeline } from '../pipeline/validate.js';
import { runFileTask } from './file-task.js';
import { runTile, type TileResult, type TileTask } from '../tiling/tile-task.js';
import type { BytesOutcome, BytesTask, Engine, FileTask, TaskOutcome } from './types.js';

/** One image at a time on the calling thread, no pool: the baseline the pool is measured against. */
export class SequentialEngine implements Engine {
  readonly name = 'sequential';
  readonly capacity = 1;
  private readonly worker = `${hostname()}/main`;

  run(task: FileTask): Promise<TaskOutcome> {
    return runFileTask(task, this.worker);
  }

  async runBytes(task: BytesTask): Promise<BytesOutcome> {
    try {
      const pipeline = validatePipeline(task.spec, { maxSteps: Number.MAX_SAFE_INTEGER });
      return { ok: true, result: await processImage(Buffer.from(task.input), pipeline, { limits: task.limits }), worker: this.worker };
    } catch (error) {
      return { ok: false, error: toErrorInfo(error), worker: this.worker };
    }
  }

  async runTile(task: TileTask): Promise<TileResult> {
    return { ...(await runTile(task)), worker: this.worker };
  }

  async close(): Promise<void> {}
}
