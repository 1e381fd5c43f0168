import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { failed, type Outcome } from '../task/task.js';
import type { DiskQuota } from './disk-quota.js';
import { basename, join } from 'node:path';
import { ImgfleetError } from '../errors.js';
import { planOutputs } from '../io/collect-inputs.js';
import { BatchJob, type ItemState } from '../jobs/batch-job.js';
import { runBatch } from '../jobs/run-batch.js';
import { formatCompact } from '../pipeline/compact.js';
import type { ImageRequest } from '../runner/request.js';
import type { Runner } from '../runner/runner.js';
import { fixedFormat } from '../pipeline/negotiate.js';
import type { ValidPipeline } from '../pipeline/spec.js';
import type { TilingChoice } from '../tiling/choose.js';
import type { SavedUpload } from './uploads.js';

export interface ServerJob {
  id: string;
  dir: string;
  batch: BatchJob;
  /** Upload names, in the order of `batch.items`. */
  names: string[];
  createdAt: Date;
  finishedAt?: Date;
  expiresAt?: Date;
  /** Tile progress of the images that run as tiles, by item index. */
  tiles: Map<number, { done: number; total: number }>;
  /** Settles when the last image is done; never rejects. */
  finished: Promise<void>;
  abort: AbortController;
  /** Why the job stopped taking images before its end, if it did. */
  stopped?: { code: 'STORAGE_FULL' | 'CANCELLED'; message: string };
}

export interface JobFile {
  name: string;
  status: ItemState['status'];
  output?: { name: string; url: string; width: number; height: number; bytes: number; format: string };
  data?: unknown;
  error?: ItemState['error'];
  worker?: string;
  attempts?: number;
  ms?: number;
  /** For an image run as tiles: how many are done, of how many. */
  tiles?: { done: number; total: number };
}

export interface JobStatus {
  id: string;
  state: 'running' | 'done';
  pipeline: string;
  createdAt: string;
  finishedAt?: string;
  expiresAt?: string;
  counts: { total: number; queued: number; running: number; done: number; failed: number };
  elapsedMs: number;
  files: JobFile[];
}

export interface JobStoreOptions {
  runner: Runner;
  dataDir: string;
  resultTtlMs: number;
  /** The bytes jobs keep on disk: their results count too, and a job gives its bytes back when it goes. */
  disk: DiskQuota;
  onFinished?: (job: ServerJob) => void;
}

/** Batch jobs of the HTTP API: uploads and results on disk, removed a while after they finish. */
export class JobStore {
  private readonly jobs = new Map<string, ServerJob>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: JobStoreOptions) {}

  /** A fresh folder for a job's uploads, before the job exists. */
  newJobDir(): { id: string; dir: string } {
    const id = randomUUID();
    return { id, dir: join(this.options.dataDir, id) };
  }

  /** Starts a job over saved uploads; `assets` are logos sent with it, kept with the job until it ends. */
  start(id: string, dir: string, files: SavedUpload[], pipeline: ValidPipeline, tiling: TilingChoice = {}, assets?: ImageRequest['assets']): ServerJob {
    const inputs = files.map((f) => ({ path: f.path, relative: f.name }));
    const outputs = pipeline.yieldsData ? [] : planOutputs(inputs, join(dir, 'out'), fixedFormat(pipeline.output));
    const { runner } = this.options;
    const batch = new BatchJob(inputs.map((input, i) => ({ input: input.path, relative: input.relative, output: outputs[i] })), pipeline, runner.engine.mode);
    const job: ServerJob = { id, dir, batch, names: files.map((f) => f.name), createdAt: new Date(), abort: new AbortController(), finished: Promise.resolve(), tiles: new Map() };
    batch.on('tile', (index, event) => job.tiles.set(index, { done: event.done, total: event.total }));
    const review = (_index: number, outcome: Outcome) => this.counted(job, outcome);
    job.finished = runBatch(runner, batch, { priority: 'batch', tiling, signal: job.abort.signal, assets, review })
      .then(() => undefined, () => undefined)
      .finally(() => {
        // Items the job never started (it was deleted, or its disk ran out) say so.
        const why = job.stopped ?? { code: 'CANCELLED' as const, message: 'the job was cancelled before this image started' };
        batch.items.forEach((item, index) => { if (item.status === 'queued') batch.settle(index, failed(why, runner.engine.mode)); });
        job.finishedAt = new Date();
        job.expiresAt = new Date(Date.now() + this.options.resultTtlMs);
        this.options.onFinished?.(job);
        this.later(this.options.resultTtlMs, () => void this.remove(id));
      });
    this.jobs.set(id, job);
    return job;
  }

  get(id: string): ServerJob {
    const job = this.jobs.get(id);
    if (!job) throw new ImgfleetError('NOT_FOUND', `no job ${id} (it may have expired)`);
    return job;
  }

  /** Forgets a job at once; its files go as soon as its images in flight are done. */
  async remove(id: string): Promise<boolean> {
    const job = this.jobs.get(id);
    if (!job) return false;
    this.jobs.delete(id);
    job.abort.abort();
    await job.finished;
    await rm(job.dir, { recursive: true, force: true });
    this.options.disk.release(id);
    return true;
  }

  /** Jobs kept now, running or finished. */
  get size(): number {
    return this.jobs.size;
  }

  /**
   * A result counts against the disk quota once written; one that does not fit is deleted and
   * fails, and the job takes no more images.
   */
  private async counted(job: ServerJob, outcome: Outcome): Promise<Outcome> {
    if (!outcome.ok || !outcome.output?.path) return outcome;
    try {
      this.options.disk.add(job.id, outcome.output.bytes);
      return outcome;
    } catch (error) {
      await rm(outcome.output.path, { force: true });
      const info = { code: 'STORAGE_FULL' as const, message: (error as Error).message };
      job.stopped = info;
      job.abort.abort();
      return failed(info, outcome.worker);
    }
  }

  /** Path of one output of a finished image, by its output file name. */
  outputPath(job: ServerJob, name: string): string {
    const item = job.batch.items.find((i) => i.status === 'done' && i.output && basename(i.output) === name);
    if (!item?.output) throw new ImgfleetError('NOT_FOUND', `job ${job.id} has no output named ${name}`);
    return item.output;
  }

  status(job: ServerJob): JobStatus {
    const counts = { total: job.batch.items.length, queued: 0, running: 0, done: 0, failed: 0 };
    for (const item of job.batch.items) counts[item.status]++;
    return {
      id: job.id,
      state: job.finishedAt ? 'done' : 'running',
      pipeline: formatCompact(job.batch.pipeline.spec, { omitDefaults: true }),
      createdAt: job.createdAt.toISOString(),
      finishedAt: job.finishedAt?.toISOString(),
      expiresAt: job.expiresAt?.toISOString(),
      counts,
      elapsedMs: Math.round(job.batch.summary().elapsedMs),
      files: job.batch.items.map((item, i) => this.file(job, item, i)),
    };
  }

  file(job: ServerJob, item: ItemState, index: number): JobFile {
    const file: JobFile = { name: job.names[index], status: item.status, worker: item.worker, attempts: item.attempts, error: item.error };
    if (item.result && item.output) {
      const name = basename(item.output);
      const { width, height, bytes, format } = item.result;
      file.output = { name, url: `/v1/jobs/${job.id}/files/${encodeURIComponent(name)}`, width, height, bytes, format };
    }
    if (item.data !== undefined) file.data = item.data;
    if (item.stats) file.ms = Math.round(item.stats.totalMs * 10) / 10;
    const tiles = job.tiles.get(index);
    if (tiles) file.tiles = tiles;
    return file;
  }

  /** Images accepted and not yet finished, over all jobs. */
  unfinishedImages(): number {
    let n = 0;
    for (const job of this.jobs.values()) for (const item of job.batch.items) if (item.status === 'queued' || item.status === 'running') n++;
    return n;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    await Promise.all([...this.jobs.keys()].map((id) => this.remove(id)));
    await rm(this.options.dataDir, { recursive: true, force: true });
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => { this.timers.delete(timer); fn(); }, ms);
    timer.unref();
    this.timers.add(timer);
  }
}
