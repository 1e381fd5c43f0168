import type { Runner } from '../runner/runner.js';
import type { Admission } from './admission.js';
import type { ByteBudget } from './byte-budget.js';
import type { DiskQuota } from './disk-quota.js';
import type { JobStore } from './job-store.js';
import type { ServerMetrics } from './metrics.js';
import type { ResolvedServerOptions } from './options.js';

/** Image routes, each with slots of its own: a flood of one kind never locks out the others. */
export type ImageRoute = 'process' | 'histogram' | 'info' | 'imageUrl' | 'previews';

/** What the routes share: the runner (cache → tiles → engine), the jobs, the metrics and the limits. */
export interface ServerContext {
  options: ResolvedServerOptions;
  runner: Runner;
  jobs: JobStore;
  metrics: ServerMetrics;
  /** Single-image requests in progress, by route. */
  pending: Record<ImageRoute, Admission>;
  /** Bytes of request bodies in flight. */
  bodies: ByteBudget;
  /** Bytes the jobs keep on disk. */
  disk: DiskQuota;
  /** Where large single images wait while they are worked on. */
  spillDir: string;
}
