/*
 * What the pool's threads load: the worker module and all it imports, bundled into one CommonJS
 * file by scripts/bundle.mjs as part of `npm run build` (a fresh thread loads it in a
 * quarter of the time the ES modules take). Being CommonJS, it also keeps clear of Node 20's
 * require() of an ES module, which can abort the whole process when two kinds of task reach a
 * fresh thread at once (a V8 fatal error, "IsGraphAsync must be used on an instantiated module").
 */
import type { Outcome } from '../../task/task.js';
import type { PoolGroupMessage, PoolGroupResult, PoolMessage, PoolWarmMessage } from './worker.js';

interface WorkerModule {
  default(message: PoolMessage): Promise<Outcome>;
  runGroup(message: PoolGroupMessage): Promise<PoolGroupResult>;
  ready: Promise<void>;
}

const worker = require('./worker.bundle.cjs') as WorkerModule;

function run(message: PoolMessage | PoolGroupMessage | PoolWarmMessage): Promise<Outcome | PoolGroupResult | undefined> {
  if ('warm' in message) return Promise.resolve(undefined);
  return 'group' in message ? worker.runGroup(message) : worker.default(message);
}

// piscina awaits an exported promise for the handler: the thread takes no task before it is ready.
export = worker.ready.then(() => run);
