import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CacheEvents } from '../cache/cached-results.js';
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

  readonly cacheHits = new Counter({ name: 'imgfleet_cache_hits_total', help: 'Results served from the result cache', registers: [this.registry] });
  readonly cacheMisses = new Counter({ name: 'imgfleet_cache_misses_total', help: 'Results computed because the result cache did not have them', registers: [this.registry] });
  readonly cacheCoalesced = new Counter({
    name: 'imgfleet_cache_coalesced_total', help: 'Requests that waited for an identical one in flight instead of computing', registers: [this.registry],
  });
  readonly cacheEvictions = new Counter({ name: 'imgfleet_cache_evictions_total', help: 'Results evicted from the result cache to keep its budget', registers: [this.registry] });
  readonly cacheErrors = new Counter({ name: 'imgfleet_cache_errors_total', help: 'Result cache failures (the request went on as a miss)', registers: [this.registry] });
  readonly signatureFailures = new Counter({
    name: 'imgfleet_signature_failures_total', help: 'Image URLs refused for a missing or bad signature',
    labelNames: ['reason'] as const, registers: [this.registry],
  });

  constructor(sources: { queueDepth: () => Promise<number> | number; liveWorkers: () => Promise<number> | number; cacheBytes?: () => Promise<number> }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'imgfleet_' });
    new Gauge({
      name: 'imgfleet_queue_depth', help: 'Images accepted and not yet finished (in cluster mode: waiting BullMQ jobs too)',
      registers: [this.registry], async collect() { this.set(await sources.queueDepth()); },
    });
    new Gauge({
      name: 'imgfleet_workers_live', help: 'Workers processing images (pool threads, or cluster workers with a fresh heartbeat)',
      registers: [this.registry], async collect() { this.set(await sources.liveWorkers()); },
    });
    new Gauge({
      name: 'imgfleet_cache_bytes', help: 'Bytes held by the result cache (on disk, or in Redis)',
      registers: [this.registry], async collect() { this.set(await sources.cacheBytes?.().catch(() => 0) ?? 0); },
    });
  }

  cacheEvents(): CacheEvents {
    return {
      hit: () => this.cacheHits.inc(),
      miss: () => this.cacheMisses.inc(),
      shared: () => this.cacheCoalesced.inc(),
      evicted: (count) => this.cacheEvictions.inc(count),
      failed: () => this.cacheErrors.inc(),
    };
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
