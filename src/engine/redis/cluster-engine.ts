import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolve } from 'node:path';
import { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { ImgfleetError, toErrorInfo, type ErrorInfo } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { DEFAULT_LIMITS } from '../../limits.js';
import { readInput } from '../file-task.js';
import type { Limits } from '../../limits.js';
import type { OutputFormat, PipelineSpec } from '../../pipeline/spec.js';
import { validatePipeline } from '../../pipeline/validate.js';
import type { TileResult, TileTask } from '../../tiling/tile-task.js';
import type { BytesOutcome, BytesTask, Engine, FileTask, TaskOutcome } from '../types.js';
import { BlobStore } from './blob-store.js';
import { connect, QUEUE_NAME, type ClusterSettings } from './cluster-settings.js';
import {
  decodeFailure, TILE_JOB, type BytesRef, type ClusterItem, type ClusterItemResult, type ClusterJobData, type ClusterJobResult, type TileJobData, type TileJobResult,
} from './job-data.js';
import { listWorkers } from './worker-registry.js';

export interface ClusterEngineOptions {
  settings: ClusterSettings;
  /** Pass paths instead of bytes: every worker sees the same filesystem. */
  sharedFs?: boolean;
  /** Images uploaded ahead of the workers; bounds Redis memory whatever the batch size. @defaultValue 32 */
  window?: number;
  /** BullMQ priority: lower runs first. Interactive work uses 1, batches 10. @defaultValue 10 */
  priority?: number;
  /** Runs of a job that failed for a transient reason, with exponential backoff. @defaultValue 3 */
  attempts?: number;
}

const GROUP_IMAGES = 8;
const GROUP_BYTES = 8 * 1024 * 1024;
const GROUP_WAIT_MS = 2;
/** How often a waiting submitter looks at its job's state, in case an event was missed. */
const STATE_CHECK_MS = 2000;

/** One image in a group: a file task, or bytes whose result comes back as bytes. */
interface Pending {
  spec: PipelineSpec;
  limits?: Partial<Limits>;
  /** Images with the same pipeline and limits may share a job. */
  groupKey: string;
  /** Where the image result is written; without it, its bytes are brought back. */
  outputPath?: string;
  item: ClusterItem;
  /** Blob keys to delete once the image is settled. */
  keys: string[];
  bytes: number;
  resolve: (outcome: Settled) => void;
}

type Settled = TaskOutcome & { bytes?: Buffer; channels?: number };

/** Sends work to the cluster: BullMQ jobs on Redis, run by `imgfleet worker` anywhere. */
export class ClusterEngine implements Engine {
  readonly name = 'cluster';
  readonly capacity: number;
  private readonly blobs: BlobStore;
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private timer?: NodeJS.Timeout;

  private constructor(
    private readonly options: ClusterEngineOptions,
    private readonly redis: Redis,
    private readonly queue: Queue<ClusterJobData, ClusterJobResult>,
    private readonly events: QueueEvents,
    private readonly eventsRedis: Redis,
  ) {
    this.capacity = options.window ?? 32;
    this.blobs = new BlobStore(redis, options.settings.prefix);
  }

  static async open(options: ClusterEngineOptions): Promise<ClusterEngine> {
    const { settings } = options;
    const redis = connect(settings);
    const queue = new Queue<ClusterJobData, ClusterJobResult>(QUEUE_NAME, { connection: redis, prefix: settings.prefix });
    const eventsRedis = connect(settings);
    const events = new QueueEvents(QUEUE_NAME, { connection: eventsRedis, prefix: settings.prefix });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    // Every job in flight waits on the queue; the default limit of 10 listeners is for leaks, not for this.
    queue.setMaxListeners(0);
    // Connection errors while Redis restarts: ioredis reconnects and the jobs carry on.
    queue.on('error', () => {});
    events.on('error', () => {});
    return new ClusterEngine(options, redis, queue, events, eventsRedis);
  }

  /** Live workers, to warn before queueing work that nobody will take. */
  workers() {
    return listWorkers(this.redis, this.options.settings.prefix);
  }

  /**
   * Queues one image. Images arriving together are grouped into one job of up to
   * GROUP_IMAGES images (or GROUP_BYTES of input), so small images share the cost of a job.
   */
  async run(task: FileTask): Promise<TaskOutcome> {
    const { bytes: _bytes, channels: _channels, ...outcome } = await this.enqueue(() => this.prepare(task));
    return outcome;
  }

  /** One image from memory; its result comes back as bytes. */
  async runBytes(task: BytesTask): Promise<BytesOutcome> {
    let yieldsData: boolean;
    try {
      yieldsData = validatePipeline(task.spec, { maxSteps: Number.MAX_SAFE_INTEGER }).yieldsData;
    } catch (error) {
      return { ok: false, error: toErrorInfo(error), worker: 'cluster' };
    }
    const input = Buffer.from(task.input.buffer, task.input.byteOffset, task.input.byteLength);
    const settled = await this.enqueue(() => this.prepareBytes(task, input, yieldsData));
    if (!settled.ok) return settled;
    const { stats, worker, attempts } = settled;
    if (yieldsData) return { ok: true, result: { kind: 'data', data: settled.data, stats }, worker, attempts };
    const out = settled.output!;
    return {
      ok: true, worker, attempts,
      result: { kind: 'image', data: settled.bytes!, format: out.format as OutputFormat, width: out.width, height: out.height, channels: settled.channels ?? 0, stats },
    };
  }

  /**
   * Queues one image. Images arriving together are grouped into one job of up to
   * GROUP_IMAGES images (or GROUP_BYTES of input), so small images share the cost of a job.
   */
  private async enqueue(prepare: () => Promise<Pending>): Promise<Settled> {
    let entry: Pending;
    try {
      entry = await prepare();
    } catch (error) {
      return { ok: false, error: toErrorInfo(error), worker: 'cluster' };
    }
    const done = new Promise<Settled>((resolve) => { entry.resolve = resolve; });
    // A group shares one pipeline: work for another pipeline starts a group of its own.
    if (this.pending.length > 0 && this.pending[0].groupKey !== entry.groupKey) this.flush();
    this.pending.push(entry);
    this.pendingBytes += entry.bytes;
    if (this.pending.length >= GROUP_IMAGES || this.pendingBytes >= GROUP_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), GROUP_WAIT_MS);
    return done;
  }

  /** Uploads the input (unless paths are shared) and names the keys of one image. */
  private async prepare(task: FileTask): Promise<Pending> {
    // An output path means an image result is wanted; data pipelines (histogram) come without one.
    const yieldsData = !task.outputPath;
    const id = randomUUID();
    const entry = this.entry(task, { path: resolve(task.inputPath) });
    entry.outputPath = task.outputPath;
    if (!this.options.sharedFs) {
      const bytes = readInput(task.inputPath, task.limits?.maxFileBytes ?? DEFAULT_LIMITS.maxFileBytes);
      entry.item.input = await this.upload(entry, id, bytes);
    }
    if (!yieldsData) {
      if (this.options.sharedFs) {
        entry.item.output = { path: resolve(task.outputPath!) };
      } else {
        const key = this.blobs.key(id, 'out');
        entry.keys.push(key);
        entry.item.output = { blob: key };
      }
    }
    return entry;
  }

  private async prepareBytes(task: BytesTask, input: Buffer, yieldsData: boolean): Promise<Pending> {
    const id = randomUUID();
    const entry = this.entry(task, { blob: '' });
    entry.item.input = await this.upload(entry, id, input);
    if (!yieldsData) {
      const key = this.blobs.key(id, 'out');
      entry.keys.push(key);
      entry.item.output = { blob: key };
    }
    return entry;
  }

  private entry(task: { spec: PipelineSpec; limits?: Partial<Limits> }, input: BytesRef): Pending {
    return { spec: task.spec, limits: task.limits, groupKey: JSON.stringify([task.spec, task.limits]), keys: [], bytes: 0, resolve: () => {}, item: { input } };
  }

  private async upload(entry: Pending, id: string, bytes: Buffer): Promise<BytesRef> {
    const key = this.blobs.key(id, 'in');
    entry.keys.push(key);
    entry.bytes = bytes.length;
    await this.blobs.put(key, bytes);
    return { blob: key };
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const group = this.pending.splice(0);
    this.pendingBytes = 0;
    if (group.length > 0) void this.dispatch(group);
  }

  private async dispatch(group: Pending[]): Promise<void> {
    const outcomes = await this.runGroup(group);
    // Blobs go before the outcomes are handed back: a settled image frees a window slot, and the
    // next image's upload must never coexist with this one's bytes.
    await this.blobs.delete(...group.flatMap((p) => p.keys)).catch(() => {});
    group.forEach((p, i) => p.resolve(outcomes[i]));
  }

  private async runGroup(group: Pending[]): Promise<Settled[]> {
    const { spec, limits } = group[0];
    try {
      const job = await this.queue.add('images', { items: group.map((p) => p.item), spec, limits }, this.jobOptions());
      const ended = await this.untilFinished(job);
      if (!ended.ok) return group.map(() => ({ ok: false, error: ended.error, worker: 'cluster', attempts: ended.attempts }));
      const { result } = ended;
      return await Promise.all(group.map((p, i) => this.settle(p, result.items[i], result)));
    } catch (error) {
      return group.map(() => ({ ok: false, error: toErrorInfo(error), worker: 'cluster' }));
    }
  }

  /** Brings one image's result home: the output file written atomically from its blob, or its bytes. */
  private async settle(p: Pending, item: ClusterItemResult, job: ClusterJobResult): Promise<Settled> {
    const { worker, attempts } = job;
    if (!item.ok) return { ok: false, error: item.error, worker, attempts };
    try {
      let bytes: Buffer | undefined;
      if (item.output && p.item.output && 'blob' in p.item.output) {
        bytes = (await this.blobs.get(p.item.output.blob)) ?? undefined;
        if (!bytes) throw new ImgfleetError('INTERNAL', 'the result expired from Redis before it was read');
        if (p.outputPath) writeFileAtomic(p.outputPath, bytes);
      }
      const output = item.output && { bytes: item.output.bytes, width: item.output.width, height: item.output.height, format: item.output.format, path: p.outputPath ?? '' };
      return { ok: true, data: item.data, stats: item.stats, worker, attempts, output, bytes: p.outputPath ? undefined : bytes, channels: item.output?.channels };
    } catch (error) {
      return { ok: false, error: toErrorInfo(error), worker, attempts };
    }
  }

  /**
   * One tile of a large image as its own job: the pixels go up as a blob, the kept part comes
   * back as one. A worker that dies mid-tile loses its lock and the stalled check gives the
   * tile to another worker; its input blob stays until the tile is settled.
   */
  async runTile(task: TileTask): Promise<TileResult> {
    const id = randomUUID();
    const input = this.blobs.key(id, 'in');
    const output = this.blobs.key(id, 'out');
    const { pixels, ...tile } = task;
    try {
      await this.blobs.put(input, pixels);
      const data: TileJobData = { tile, input: { blob: input }, output: { blob: output } };
      const job = await this.tiles.add(TILE_JOB, data, this.jobOptions());
      const ended = await this.untilFinished(job);
      if (!ended.ok) throw new ImgfleetError(ended.error.code, ended.error.message);
      const { result } = ended;
      const kept = await this.blobs.get(output);
      if (!kept) throw new ImgfleetError('INTERNAL', 'a tile result expired from Redis before it was read');
      return { pixels: kept, width: result.width, height: result.height, channels: result.channels, worker: result.worker, attempts: result.attempts };
    } finally {
      await this.blobs.delete(input, output).catch(() => {});
    }
  }

  /** One tile per live worker thread, and one more waiting, so no thread idles between tiles. */
  async tileCapacity(): Promise<number> {
    const threads = (await this.workers()).reduce((sum, w) => sum + w.concurrency, 0);
    return Math.max(1, Math.min(threads + 1, this.capacity));
  }

  /** How every job is queued: retries with backoff for transient faults, and kept a while after. */
  private jobOptions() {
    return {
      priority: this.options.priority ?? 10,
      attempts: this.options.attempts ?? 3,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: { age: 600 },
      removeOnFail: { age: 3600 },
    };
  }

  /**
   * Waits for a job to end: its result, or its failure as the worker reported it. The news
   * normally comes through QueueEvents; a look at the job's state every few seconds covers an
   * event missed while Redis was restarting.
   */
  private async untilFinished<D, R>(job: Job<D, R>): Promise<{ ok: true; result: R } | { ok: false; error: ErrorInfo; attempts?: number }> {
    let over = false;
    const lookEvery = async (): Promise<R> => {
      while (!over) {
        await sleep(STATE_CHECK_MS, undefined, { ref: false });
        if (over) break;
        const state = await job.getState().catch(() => undefined);
        if (state === 'completed') return (await Job.fromId<D, R>(this.queue, job.id!))!.returnvalue;
        if (state === 'failed') throw new Error('failed');
      }
      return new Promise<R>(() => {});
    };
    try {
      return { ok: true, result: await Promise.race([job.waitUntilFinished(this.events), lookEvery()]) };
    } catch (error) {
      const failed = await Job.fromId<D, R>(this.queue, job.id!).catch(() => undefined);
      return { ok: false, error: decodeFailure(failed?.failedReason ?? (error as Error).message), attempts: failed?.attemptsMade };
    } finally {
      over = true;
    }
  }

  /** The same queue, typed for tile jobs. */
  private get tiles(): Queue<TileJobData, TileJobResult> {
    return this.queue as unknown as Queue<TileJobData, TileJobResult>;
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
    await Promise.all([this.redis.quit(), this.eventsRedis.quit()].map((p) => p.catch(() => {})));
  }
}
