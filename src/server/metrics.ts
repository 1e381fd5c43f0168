import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ProcessStats } from '../pipeline/process.js';

/** What `/metrics` exposes, on a registry of its own so several servers can share a process. */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly images = new Counter({
    name: 'imgfleet_images_total', help: 'Images processed, by outcome (done, or the error code)',
    labelNames: ['outcome'] as const, registers: [this.registry],
  });
  readonly jobs = new Counter({
    name: 'imgfleet_jobs_total', help: 'Batch jobs finished, by outcome (done, partial, failed)',
    labelNames: ['outcome'] as const, registers: [this.registry],
  });
  readonly operationSeconds = new Histogram({
    name: 'imgfleet_operation_duration_seconds', help: 'Time spent in each pipeline step, and in probe and encode',
    labelNames: ['op'] as const, registers: [this.registry],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  readonly imageSeconds = new Histogram({
    name: 'imgfleet_image_duration_seconds', help: 'Time to process one image, end to end on the worker',
    registers: [this.registry], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  });

  constructor(sources: { queueDepth: () => Promise<number> | number; liveWorkers: () => Promise<number> | number }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'imgfleet_' });
    new Gauge({
      name: 'imgfleet_queue_depth', help: 'Images accepted and not yet finished (in cluster mode: waiting BullMQ jobs too)',
      registers: [this.registry], async collect() { this.set(await sources.queueDepth()); },
    });
    new Gauge({
      name: 'imgfleet_workers_live', help: 'Workers processing images (pool threads, or cluster workers with a fresh heartbeat)',
      registers: [this.registry], async collect() { this.set(await sources.liveWorkers()); },
    });
  }

  recordImage(outcome: { ok: true; stats: ProcessStats } | { ok: false; error: { code: string } }): void {
    if (!outcome.ok) {
      this.images.inc({ outcome: outcome.error.code });
      return;
    }
    this.images.inc({ outcome: 'done' });
    const { stats } = outcome;
    this.imageSeconds.observe(stats.totalMs / 1000);
    this.operationSeconds.observe({ op: 'probe' }, stats.probeMs / 1000);
    for (const step of stats.steps) this.operationSeconds.observe({ op: step.op }, step.ms / 1000);
    this.operationSeconds.observe({ op: 'encode' }, stats.encodeMs / 1000);
  }
}
