/*
 * What the pool's threads load. Piscina loads a worker with require(), and Node 20's require()
 * of an ES module can abort the whole process when two kinds of task reach a fresh thread at
 * once (a V8 fatal error, "IsGraphAsync must be used on an instantiated module"). This CommonJS
 * entry instead imports the worker module once, with import(), and hands each task on.
 */
import type { Outcome, Task } from '../../task/task.js';

interface WorkerModule {
  default(task: Task): Promise<Outcome>;
}

const loading = import('./worker.js') as Promise<WorkerModule>;

export = async function run(task: Task): Promise<Outcome> {
  return (await loading).default(task);
};
