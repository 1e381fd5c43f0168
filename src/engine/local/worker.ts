import { threadId } from 'node:worker_threads';
import { hostname } from 'node:os';
import { toErrorInfo } from '../../errors.js';
import { processImage } from '../../pipeline/process.js';
import { validatePipeline } from '../../pipeline/validate.js';
import { runFileTask } from '../file-task.js';
import { runTile, type TileTask } from '../../tiling/tile-task.js';
import { tuneSharpForParallelImages } from '../tuning.js';
import type { BytesOutcome, BytesTask, FileTask, TaskOutcome, TileOutcome } from '../types.js';

tuneSharpForParallelImages();
const name = `${hostname()}/thread-${threadId}`;

export default function run(task: FileTask): Promise<TaskOutcome> {
  return runFileTask(task, name);
}

/** The processor on bytes, for callers that bring the image themselves (the cluster worker, the server). */
export async function processBytes(task: BytesTask): Promise<BytesOutcome> {
  try {
    const pipeline = validatePipeline(task.spec, { maxSteps: Number.MAX_SAFE_INTEGER });
    const input = Buffer.from(task.input.buffer, task.input.byteOffset, task.input.byteLength);
    return { ok: true, result: await processImage(input, pipeline, { limits: task.limits }), worker: name };
  } catch (error) {
    return { ok: false, error: toErrorInfo(error), worker: name };
  }
}

/** One tile of a large image: the tiled steps on the tile and its halo, the halo cut off. */
export async function processTile(task: TileTask): Promise<TileOutcome> {
  try {
    return { ok: true, result: { ...(await runTile(task)), worker: name } };
  } catch (error) {
    return { ok: false, error: toErrorInfo(error) };
  }
}
