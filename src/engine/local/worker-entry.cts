/*
 * What the pool's threads load. Piscina loads a worker with require(), and Node 20's require()
 * of an ES module can abort the whole process when two kinds of task reach a fresh thread at
 * once (a V8 fatal error, "IsGraphAsync must be used on an instantiated module"). This CommonJS
 * entry instead imports the worker module once, with import(), and hands each task on.
 */
import type { Outcome } from '../../task/task.js';
import type { PoolMessage } from './worker.js';

interface WorkerModule {
  default(message: PoolMessage): Promise<Outcome>;
}

const loading = import('./worker.js') as Promise<WorkerModule>;

export = async function run(message: PoolMessage): Promise<Outcome> {
  return (await loading).default(message);
};
