import type { Redis } from 'ioredis';
import type { CachedResults } from '../cache/cached-results.js';
import type { Engine } from '../engine/types.js';
import type { Admission } from './admission.js';
import type { JobStore } from './job-store.js';
import type { LogoStore } from './logo-store.js';
import type { ServerMetrics } from './metrics.js';
import type { ResolvedServerOptions } from './options.js';

/** What the routes share: the engine, the jobs, the metrics and the limits. */
export interface ServerContext {
  options: ResolvedServerOptions;
  engine: Engine;
  jobs: JobStore;
  metrics: ServerMetrics;
  /** Single results through the result cache, each computed once at a time. */
  results: CachedResults;
  /** Single-image requests in memory. */
  pending: Admission;
  /** Logos sent with requests, kept while a request or job uses them. */
  logos: LogoStore;
  /** Cluster mode: a connection for the worker list and queue depth. */
  redis?: Redis;
}
