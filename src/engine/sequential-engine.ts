import { hostname } from 'node:os';
import { AssetLoader, type AssetPolicy } from '../io/assets.js';
import type { Limits } from '../limits.js';
import { executeTask, type Place } from '../task/execute.js';
import type { S3Settings } from '../sources/s3/s3-settings.js';
import { withObjects } from '../task/object-io.js';
import { localIo } from '../task/task-io.js';
import type { Outcome, Task } from '../task/task.js';
import { defaultThreads } from './tuning.js';
import type { Engine, EngineStatus, RunOptions } from './types.js';

export interface SequentialEngineOptions {
  assets?: AssetPolicy;
  limits?: Partial<Limits>;
  /** Run the tiles of a large image on a worker-thread pool, started only when the first tile comes. */
  tilesOnPool?: boolean;
  /** The object store that tasks' object sources and sinks live in. */
  s3?: S3Settings;
}

/**
 * One image at a time on the calling thread, no pool: the quickest start for one image, and the
 * baseline the pool is measured against.
 */
export class SequentialEngine implements Engine {
  readonly mode = 'sequential';
  private readonly place: Place;
  private running = 0;
  private pool?: Promise<Engine>;

  constructor(private readonly options: SequentialEngineOptions = {}) {
    const io = withObjects(localIo(), { s3: options.s3 });
    this.place = { worker: `${hostname()}/main`, io, limits: options.limits, assets: new AssetLoader(options.assets ?? { kind: 'paths' }) };
  }

  async run(task: Task, options: RunOptions = {}): Promise<Outcome> {
    if (task.tile && this.options.tilesOnPool) return (await this.tilePool()).run(task, options);
    this.running++;
    try {
      return await executeTask(task, this.place, { signal: options.signal });
    } finally {
      this.running--;
    }
  }

  async slots(kind: 'image' | 'tile'): Promise<number> {
    return kind === 'tile' && this.options.tilesOnPool ? defaultThreads() + 1 : 1;
  }

  async status(): Promise<EngineStatus> {
    return { mode: 'sequential', ready: true, threads: 1, workers: [], queueDepth: this.running };
  }

  async close(): Promise<void> {
    await (await this.pool)?.close();
  }

  private tilePool(): Promise<Engine> {
    this.pool ??= import('./local/local-engine.js').then(({ LocalEngine }) => new LocalEngine({ assets: this.options.assets, limits: this.options.limits, s3: this.options.s3 }));
    return this.pool;
  }
}
