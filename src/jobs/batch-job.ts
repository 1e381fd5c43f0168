import { EventEmitter } from 'node:events';
import type { CacheSource } from '../cache/cached-results.js';
import type { ErrorInfo } from '../errors.js';
import type { ProcessStats } from '../pipeline/process.js';
import { isNotAnImage, type SkippedFile } from '../io/collect-inputs.js';
import type { ValidPipeline } from '../pipeline/spec.js';
import type { ObjectSink, ObjectSource, OutputInfo, Outcome } from '../task/task.js';
import type { TileEvent } from '../tiling/run-tiled.js';

export type ItemStatus = 'queued' | 'running' | 'done' | 'failed';

export interface BatchItem {
  /** Path of the input file, or the s3:// URL of an input object. */
  input: string;
  /** The input's path relative to the folder or glob (or the key relative to the prefix) it was found under. */
  relative?: string;
  /** Where the output goes (a path, or an s3:// URL); none when the pipeline yields data. */
  output?: string;
  /** The input object, when the input is in a store (with the ETag and size its listing gave). */
  source?: ObjectSource;
  /** The output object, when the output goes to a store. */
  sink?: ObjectSink;
}

export interface ItemState extends BatchItem {
  status: ItemStatus;
  error?: ErrorInfo;
  result?: OutputInfo;
  data?: unknown;
  worker?: string;
  /** How many times a queue ran it (cluster mode). */
  attempts?: number;
  /** Probe, per-step and encode timings. */
  stats?: ProcessStats;
  /** With a result cache: whether the result came from it. */
  cache?: CacheSource;
}

export interface BatchSummary {
  total: number;
  done: number;
  failed: number;
  /** Entries of the input folders or prefixes left out: files that are not of an image type imgfleet reads, folders that cannot be read, unusable keys. */
  skipped: number;
  /** Of those, the files that are not of an image type imgfleet reads. */
  skippedNotImages: number;
  elapsedMs: number;
  imagesPerSecond: number;
  /** With a result cache: items served from it without being computed. */
  cacheHits?: number;
}

export interface BatchReport {
  engine: string;
  pipeline: ValidPipeline['spec'];
  startedAt: string;
  summary: BatchSummary;
  /** Peak resident memory of this process (and its worker threads) so far. */
  peakRssMiB: number;
  items: ItemState[];
  skipped: SkippedFile[];
}

export interface BatchEvents {
  item: [index: number, item: ItemState];
  /** Progress of an image that runs as tiles. */
  tile: [index: number, event: TileEvent];
}

/**
 * A batch of items, each with a status, and the events an interface shows progress from.
 * Engines do not know about it; the batch runner moves items through it.
 */
export class BatchJob extends EventEmitter<BatchEvents> {
  readonly items: ItemState[];
  private started = 0;
  private finished = 0;
  private startedAt = new Date();

  constructor(items: BatchItem[], readonly pipeline: ValidPipeline, readonly engine: string, readonly skipped: SkippedFile[] = []) {
    super();
    // Every field an item will take, there from the start: settling thousands of items then
    // writes fields in place rather than giving each object a new shape field by field.
    this.items = items.map((item) => ({
      ...item, status: 'queued', error: undefined, result: undefined, data: undefined, worker: undefined, attempts: undefined, stats: undefined, cache: undefined,
    }));
  }

  start(): void {
    this.startedAt = new Date();
    this.started = performance.now();
  }

  markRunning(index: number): void {
    this.items[index].status = 'running';
    this.emit('item', index, this.items[index]);
  }

  settle(index: number, outcome: Outcome): void {
    const item = this.items[index];
    if (outcome.ok) {
      item.status = 'done';
      item.result = outcome.output;
      item.data = outcome.data;
      item.stats = outcome.stats;
      item.cache = outcome.cache;
    } else {
      item.status = 'failed';
      item.error = outcome.error;
    }
    item.worker = outcome.worker;
    item.attempts = outcome.attempts;
    this.emit('item', index, item);
  }

  finish(): void {
    this.finished = performance.now();
  }

  summary(): BatchSummary {
    const done = this.items.filter((i) => i.status === 'done').length;
    const failed = this.items.filter((i) => i.status === 'failed').length;
    const elapsedMs = (this.finished || performance.now()) - this.started;
    const cached = this.items.some((i) => i.cache !== undefined);
    return {
      total: this.items.length, done, failed, skipped: this.skipped.length, skippedNotImages: this.skipped.filter(isNotAnImage).length, elapsedMs,
      imagesPerSecond: elapsedMs > 0 ? (done + failed) / (elapsedMs / 1000) : 0,
      ...(cached ? { cacheHits: this.items.filter((i) => i.cache === 'hit').length } : {}),
    };
  }

  report(): BatchReport {
    return {
      engine: this.engine, pipeline: this.pipeline.spec, startedAt: this.startedAt.toISOString(), summary: this.summary(),
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), items: this.items, skipped: this.skipped,
    };
  }
}
