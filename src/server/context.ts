import type { Runner } from '../runner/runner.js';
import type { Admission } from './admission.js';
import type { JobStore } from './job-store.js';
import type { ServerMetrics } from './metrics.js';
import type { ResolvedServerOptions } from './options.js';

/** What the routes share: the runner (cache → tiles → engine), the jobs, the metrics and the limits. */
export interface ServerContext {
  options: ResolvedServerOptions;
  runner: Runner;
  jobs: JobStore;
  metrics: ServerMetrics;
  /** Single-image requests in memory. */
  pending: Admission;
}
