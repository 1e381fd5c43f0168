import { DEFAULT_ENVIRONMENT, type Environment } from '../config.js';
import type { AssetPolicy } from '../io/assets.js';
import type { Limits } from '../limits.js';
import type { S3Settings } from '../sources/s3/s3-settings.js';
import type { LinkLog } from './redis/redis-link.js';
import type { ClusterEngineOptions } from './redis/cluster-engine.js';
import type { Engine } from './types.js';

export interface EngineChoice {
  /** One image at a time on the calling thread. */
  sequential?: boolean;
  /** With `sequential`: the tiles of a large image on a pool started when needed. */
  tilesOnPool?: boolean;
  /** Worker threads for the local pool. */
  threads?: number;
  timeoutMs?: number;
  /** Send the work to the cluster on this Redis instead. */
  redis?: string;
  /** Cluster mode: pass paths, not bytes, because every worker sees the same files. */
  sharedFs?: boolean;
  /** The environment's prefix and cluster timings. @defaultValue the defaults */
  environment?: Environment;
  /** Where logos come from, in local modes. @defaultValue any path */
  assets?: AssetPolicy;
  /** Limits every image runs under, in local modes (cluster workers keep their own). */
  limits?: Partial<Limits>;
  /** Local pool: tasks that may wait for a thread; more are refused. */
  maxQueue?: number;
  /** Cluster mode: where changes of the link to Redis are reported. */
  log?: LinkLog;
  /** Cluster mode: fail at once when Redis cannot be reached (commands), or keep retrying (servers). @defaultValue true */
  failFast?: boolean;
  /** Local modes: the object store that tasks' object sources and sinks live in (cluster workers have their own). */
  s3?: S3Settings;
  /** Cluster mode: images in flight; jobs that carry only references hold nothing here, so a fleet can be fed far more. @defaultValue 32 */
  window?: number;
  /** The number of images of the one batch the engine is made for (see LocalEngineOptions.batchImages, ClusterEngineOptions.batchImages). */
  batchImages?: number;
  /** Cluster mode: where the pixels of tiles travel instead of Redis (see ClusterEngineOptions.scratch). */
  scratch?: ClusterEngineOptions['scratch'];
  /** Local pool: a server's, whose threads start and warm up with it (see LocalEngineOptions.warm). */
  warm?: boolean;
}

/** The one place that picks an engine; each is loaded only when chosen, so a command starts quickly. */
export async function createEngine(choice: EngineChoice): Promise<Engine> {
  if (choice.redis) {
    const [{ ClusterEngine }, { clusterSettings }, { redactUrl }] = await Promise.all([
      import('./redis/cluster-engine.js'), import('./redis/cluster-settings.js'), import('./redis/redis-link.js'),
    ]);
    const settings = clusterSettings(choice.redis, choice.environment ?? DEFAULT_ENVIRONMENT);
    const engine = await ClusterEngine.open({ settings, sharedFs: choice.sharedFs, log: choice.log, failFast: choice.failFast, window: choice.window, scratch: choice.scratch, batchImages: choice.batchImages });
    if (choice.failFast !== false && (await engine.status()).workers.length === 0) {
      choice.log?.(`no live workers on ${redactUrl(choice.redis)} yet; the work waits until one starts (imgfleet worker --redis ${redactUrl(choice.redis)})`);
    }
    return engine;
  }
  if (choice.sequential) {
    const { SequentialEngine } = await import('./sequential-engine.js');
    return new SequentialEngine({ assets: choice.assets, limits: choice.limits, tilesOnPool: choice.tilesOnPool, s3: choice.s3 });
  }
  const { LocalEngine } = await import('./local/local-engine.js');
  return new LocalEngine({ threads: choice.threads, timeoutMs: choice.timeoutMs, assets: choice.assets, limits: choice.limits, maxQueue: choice.maxQueue, s3: choice.s3, batchImages: choice.batchImages, warm: choice.warm });
}
