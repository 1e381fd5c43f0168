import { LocalEngine } from './local/local-engine.js';
import { ClusterEngine } from './redis/cluster-engine.js';
import { clusterSettings } from './redis/cluster-settings.js';
import { SequentialEngine } from './sequential-engine.js';
import type { Engine } from './types.js';

export interface EngineChoice {
  /** One image at a time on the main thread. */
  sequential?: boolean;
  /** Worker threads for the local pool. */
  threads?: number;
  timeoutMs?: number;
  /** Send the work to the cluster on this Redis instead. */
  redis?: string;
  /** Cluster mode: pass paths, not bytes, because every worker sees the same files. */
  sharedFs?: boolean;
  /** Cluster mode: lower runs first (interactive work 1, batches 10). */
  priority?: number;
  /** Cluster mode: key prefix (default IMGFLEET_PREFIX, else imgfleet). */
  prefix?: string;
}

export async function createEngine(choice: EngineChoice): Promise<Engine> {
  if (choice.redis) {
    const engine = await ClusterEngine.open({ settings: clusterSettings(choice.redis, choice.prefix), sharedFs: choice.sharedFs, priority: choice.priority });
    if ((await engine.workers()).length === 0) {
      console.error(`imgfleet: no live workers on ${choice.redis} yet; jobs wait until one starts (imgfleet worker --redis ${choice.redis})`);
    }
    return engine;
  }
  if (choice.sequential) return new SequentialEngine();
  return new LocalEngine({ threads: choice.threads, timeoutMs: choice.timeoutMs });
}
