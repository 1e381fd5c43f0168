/*
 * What the pool's threads load. Piscina loads a worker with require(), and Node 20's require()
 * of an ES module can abort the whole process when two kinds of task reach a fresh thread at
 * once (a V8 fatal error, "IsGraphAsync must be used on an instantiated module"). This CommonJS
 * entry instead imports the worker module once, with import(), and hands each task on.
 */
import type { BytesOutcome, BytesTask, FileTask, TaskOutcome, TileOutcome } from '../types.js';
import type { TileTask } from '../../tiling/tile-task.js';

interface WorkerModule {
  default(task: FileTask): Promise<TaskOutcome>;
  processBytes(task: BytesTask): Promise<BytesOutcome>;
  processTile(task: TileTask): Promise<TileOutcome>;
}

const loading = import('./worker.js') as Promise<WorkerModule>;

async function run(task: FileTask): Promise<TaskOutcome> {
  return (await loading).default(task);
}

export = Object.assign(run, {
  processBytes: async (task: BytesTask): Promise<BytesOutcome> => (await loading).processBytes(task),
  processTile: async (task: TileTask): Promise<TileOutcome> => (await loading).processTile(task),
});
