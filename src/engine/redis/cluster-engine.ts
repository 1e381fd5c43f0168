import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { setTimeout as sleep } from 'node:timers/promises';
import { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { ImgfleetError, toErrorInfo, type ErrorInfo } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { DEFAULT_LIMITS } from '../../limits.js';
import { readFileLimited } from '../../io/read-file.js';
import { failed, type Outcome, type Task } from '../../task/task.js';
import type { Engine, EngineStatus, RunOptions } from '../types.js';
import type { ObjectPrefix, ObjectRef } from '../../sources/s3/object-url.js';
import type { S3Client } from '../../sources/s3/s3-client.js';
import { BlobStore } from './blob-store.js';
import { QUEUE_NAME, type ClusterSettings } from './cluster-settings.js';
import { BLOB_JOB_ITEMS, decodeFailure, itemsTakenByRefuser, JOB_NAME, JOBS_PER_WORKER, LEGACY_JOB_ITEMS, type ClusterItem, type ClusterItemResult, type ClusterJobData, type ClusterJobResult } from './job-data.js';
import { queueCounts } from './queue-counts.js';
import { checkRedis, RedisLink, redisReason, type LinkLog } from './redis-link.js';
import { listWorkers } from './worker-registry.js';

export interface ClusterEngineOptions {
  settings: ClusterSettings;
  /** Pass paths instead of bytes: every worker sees the same filesystem (and was started with --shared-fs-root). */
  sharedFs?: boolean;
  /** Images in flight: uploaded ahead of the workers, or named in queued jobs (four full jobs). @defaultValue 256 */
  window?: number;
  /**
   * Bytes of inputs uploaded to Redis and not yet settled: past them, the next image waits
   * before its file is read. Bounds Redis' memory whatever the images' size (a window of large
   * photos would otherwise be gigabytes). @defaultValue 64 MiB
   */
  windowBytes?: number;
  /** Runs of a job that failed for a transient reason, with exponential backoff. @defaultValue 3 */
  attempts?: number;
  /** Where changes of the link to Redis are reported, one line each. */
  log?: LinkLog;
  /**
   * A prefix in the object store where the pixels of tiles travel instead of Redis (the
   * workers' --s3-root must cover it); objects there live only while their tile runs.
   */
  scratch?: { store: S3Client; where: ObjectPrefix };
  /**
   * Fail at once, in one line, when Redis cannot be reached (commands that run and end);
   * otherwise start anyway and keep retrying (servers). @defaultValue true
   */
  failFast?: boolean;
  /**
   * The number of images of the one batch this engine is made for (a command's). Its jobs hold
   * few enough images that every worker live at the start gets a share: a batch of 32 in two
   * full jobs could go to one worker, which takes two jobs at a time.
   */
  batchImages?: number;
}

/**
 * Images share a job in groups as large as a worker takes: a job's cost is most of theirs. BullMQ's
 * scripts cost Redis about 0.6 ms a job, and the submitter 2–3 ms of CPU for adding it and
 * following its events, against 0.05–0.08 ms for an image's own part when jobs carry keys. With
 * bytes through Redis, jobs of 64 took the submitter from 0.64 to 0.40 ms an image against jobs
 * of 16 (medians of three rounds side by side); jobs of references hold up to what the live
 * workers take (job-data.ts). A worker runs a job's images a few at a time (its threads and one
 * for blobs, REFERENCES_AT_ONCE for references), so the size of a job does not change what a
 * worker holds.
 */
/** A group of blobs closes at this many bytes of inputs, so that large images spread over several jobs. */
const GROUP_BYTES = 8 * 1024 * 1024;
const GROUP_WAIT_MS = 2;
/** How often a waiting submitter looks at its job's state, in case an event was missed. */
const STATE_CHECK_MS = 2000;
const PRIORITY = { interactive: 1, batch: 10 } as const;
/** What a task by reference has to upload and to delete after: nothing (shared by them all). */
const NOTHING_TO_UPLOAD: Promise<unknown> = Promise.resolve();
const NONE: readonly never[] = Object.freeze([]);
/** The group key's stand-in for a task without limits of its own. */
const NO_LIMITS = {};

/**
 * A batch's submitter lets V8's heap grow to four times what a full collection leaves (V8's own
 * choice here is 1.1–1.2 times, plus 8 MB). The bytes of blobs are memory outside the heap, and V8
 * counts what was allocated there since its last full collection against the heap's limit: images
 * read and replies received (about 130 KB an image) set off a full collection every 120 or so
 * images, 12–16 in a batch of 3,000, each 10–60 ms of marking. With this, 5–6 (mostly while the
 * command's modules load), and about 0.05 ms less CPU an image; the heap holds some 15 MB more
 * at its peak. V8 reads this setting at each collection, so it can be set once running.
 */
function letHeapGrow(): void {
  setFlagsFromString('--heap-growing-percent=300');
}

/** One task on its way: its item as the job carries it, and what to do with the result here. */
interface Pending {
  task: Task;
  item: ClusterItem;
  /** Tasks with the same pipeline, limits and priority may share a job. */
  groupKey: string;
  /** Blob keys to delete once the task is settled. */
  keys: readonly string[];
  /** Scratch objects to delete once the task is settled. */
  objects: readonly ObjectRef[];
  bytes: number;
  /** The input's bytes (and logos') on their way to Redis or the scratch store; the job is added once they are there. */
  uploaded: Promise<unknown>;
  resolve: (outcome: Outcome) => void;
}

/**
 * Moves tasks to the cluster: BullMQ jobs on Redis, run by `imgfleet worker` anywhere. Bytes
 * travel as blobs beside the jobs (or as paths with --shared-fs); jobs carry references only.
 */
export class ClusterEngine implements Engine {
  readonly mode = 'cluster';
  private readonly blobs: BlobStore;
  private readonly window: number;
  /** The most images a job holds (see ClusterEngineOptions.batchImages). */
  private groupImages = Number.POSITIVE_INFINITY;
  /** The most references (keys or shared paths) a job holds: what every live worker takes. */
  private referenceImages = LEGACY_JOB_ITEMS;
  /** Whether a task of the group being made has bytes through Redis (BLOB_JOB_ITEMS). */
  private pendingBlobs = false;
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private readonly windowBytes: number;
  /** Bytes of inputs in Redis for images not yet settled (see ClusterEngineOptions.windowBytes). */
  private bytesInFlight = 0;
  /** Images waiting for bytesInFlight to fall under the limit before reading their files. */
  private waitingForRoom: (() => void)[] = [];
  private timer?: NodeJS.Timeout;
  /** Group keys by pipeline object, then by limits object and priority: one string per kind of task, not one per image. */
  private readonly groupKeys = new WeakMap<Task['pipeline'], WeakMap<object, Map<Task['priority'], string>>>();
  /** When QueueEvents last brought news: while it does, no job's state needs looking at. */
  private lastEventAt = performance.now();
  /** Jobs made in this turn of the event loop, added together in one round trip (BullMQ addBulk). */
  private adding: { data: ClusterJobData; priority: number; added: (job: Job<ClusterJobData, ClusterJobResult> | Error) => void }[] = [];

  private constructor(
    private readonly options: ClusterEngineOptions,
    private readonly link: RedisLink,
    private readonly redis: Redis,
    /** Fails fast while Redis is away, so status answers at once. */
    private readonly probe: Redis,
    /**
     * Blobs in and out, on a connection of their own. Not auto-pipelined: a pipeline copies its
     * commands' bytes into one more buffer before writing, and that garbage set off a full GC
     * every 150 or so images (20 in a batch of 3,000, against 3 without it).
     */
    private readonly blobLink: Redis,
    readonly queue: Queue<ClusterJobData, ClusterJobResult>,
    private readonly events: QueueEvents,
  ) {
    this.window = options.window ?? 256;
    this.windowBytes = options.windowBytes ?? 64 * 1024 * 1024;
    this.blobs = new BlobStore(blobLink, options.settings.prefix);
  }

  static async open(options: ClusterEngineOptions): Promise<ClusterEngine> {
    const { settings } = options;
    const failFast = options.failFast ?? true;
    if (failFast) await checkRedis(settings.redisUrl);
    const link = new RedisLink(settings.redisUrl, options.log);
    const redis = link.connection();
    const probe = link.failFastConnection();
    const queue = new Queue<ClusterJobData, ClusterJobResult>(QUEUE_NAME, { connection: redis, prefix: settings.prefix });
    const events = new QueueEvents(QUEUE_NAME, { connection: link.connection(), prefix: settings.prefix });
    link.watch(queue);
    link.watch(events);
    // Every job in flight waits on the queue; the default limit of 10 listeners is for leaks, not for this.
    queue.setMaxListeners(0);
    // The probe too: it fails at once while it connects, and a status asked for right away (the
    // workers command) would find no workers.
    if (failFast) await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), untilReady(probe)]);
    const engine = new ClusterEngine(options, link, redis, probe, link.connection(), queue, events);
    if (options.batchImages) {
      letHeapGrow();
      // On the queue's connection, ready by now: the probe may still be connecting, and it fails
      // at once when not ready, which would count no workers and make the jobs for one.
      const workers = await listWorkers(redis, settings.prefix).catch(() => []);
      engine.groupImages = Math.ceil(options.batchImages / (Math.max(1, workers.length) * JOBS_PER_WORKER));
      if (workers.length > 0) engine.referenceImages = Math.min(...workers.map((w) => w.jobItems));
    }
    const heard = () => { engine.lastEventAt = performance.now(); };
    for (const name of ['completed', 'failed', 'active', 'waiting'] as const) events.on(name, heard);
    return engine;
  }

  async run(task: Task, options: RunOptions = {}): Promise<Outcome> {
    while (this.bytesInFlight >= this.windowBytes) await new Promise<void>((resolveRoom) => this.waitingForRoom.push(resolveRoom));
    // Nobody waits for it any more: it never reaches the queue. (A job already queued runs; its worker's own deadline bounds it.)
    if (options.signal?.aborted) return failed({ code: 'CANCELLED', message: 'cancelled: nobody waits for this image any more' }, 'cluster');
    let entry: Pending;
    try {
      entry = this.prepare(task);
    } catch (error) {
      return failed(toErrorInfo(error), 'cluster');
    }
    this.bytesInFlight += entry.bytes;
    // The task joins a group at once, while its bytes upload: groups that waited for their uploads
    // left with the one or two images whose round trips had ended (180 jobs for 300 images).
    return new Promise((resolveOutcome) => {
      entry.resolve = resolveOutcome;
      // A group shares one pipeline: work for another pipeline starts a group of its own.
      if (this.pending.length > 0 && this.pending[0].groupKey !== entry.groupKey) this.flush();
      this.pending.push(entry);
      this.pendingBytes += entry.bytes;
      if (entry.keys.length > 0) this.pendingBlobs = true;
      const most = Math.min(this.groupImages, this.pendingBlobs ? BLOB_JOB_ITEMS : this.referenceImages);
      if (this.pending.length >= most || this.pendingBytes >= GROUP_BYTES || task.tile) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), GROUP_WAIT_MS);
    });
  }

  async slots(kind: 'image' | 'tile'): Promise<number> {
    if (kind === 'image') return this.window;
    // One tile per live worker thread and one more waiting, so no thread idles between tiles.
    const threads = (await listWorkers(this.probe, this.options.settings.prefix).catch(() => [])).reduce((sum, w) => sum + w.concurrency, 0);
    return Math.max(1, Math.min(threads + 1, this.window));
  }

  async status(): Promise<EngineStatus> {
    const { prefix } = this.options.settings;
    try {
      const [workers, counts] = await Promise.all([listWorkers(this.probe, prefix), queueCounts(this.probe, prefix)]);
      const threads = workers.reduce((sum, w) => sum + w.concurrency, 0);
      return {
        mode: 'cluster', ready: workers.length > 0, reason: workers.length > 0 ? undefined : 'no live workers',
        threads, workers, queueDepth: counts.waiting + counts.delayed + counts.active,
      };
    } catch (error) {
      const reason = this.link.reason || redisReason(error);
      return { mode: 'cluster', ready: false, reason: `Redis unavailable: ${reason}`, threads: 0, workers: [], queueDepth: 0 };
    }
  }

  /** Reads the input (unless paths are shared), starts its upload, and names where the result goes. */
  private prepare(task: Task): Pending {
    // Keys in a store, as a batch from bucket to bucket sends thousands of: nothing to name or upload.
    if (task.source.kind === 'object' && (task.sink.kind === 'object' || task.sink.kind === 'none') && !task.tile && !task.assets) {
      return { task, item: { source: task.source, sink: task.sink }, groupKey: this.groupKeyOf(task), keys: NONE, objects: NONE, bytes: 0, uploaded: NOTHING_TO_UPLOAD, resolve: () => {} };
    }
    let named: string | undefined;
    /** Names this task's blobs and scratch objects (references need none). */
    const id = () => (named ??= randomUUID());
    const keys: string[] = [];
    const objects: ObjectRef[] = [];
    const maxFileBytes = task.limits?.maxFileBytes ?? DEFAULT_LIMITS.maxFileBytes;
    let bytes = 0;
    const uploads: Promise<unknown>[] = [];
    const { scratch } = this.options;
    // A tile's pixels go through the object store when there is one.
    const scratchObject = (role: string): Extract<ClusterItem['sink'], { kind: 'object' }> | undefined => {
      if (!scratch || !task.tile) return undefined;
      const ref = { bucket: scratch.where.bucket, key: `${scratch.where.prefix}${id()}/${role}` };
      objects.push(ref);
      return { kind: 'object', ...ref };
    };
    /** A path every worker sees (--shared-fs), or the bytes uploaded as a blob (or a scratch object). */
    const reference = (from: Task['source'], role: string): ClusterItem['source'] => {
      if (from.kind === 'blob' || from.kind === 'object') return from;
      if (from.kind === 'file' && this.options.sharedFs) return { kind: 'file', path: resolve(from.path) };
      const object = scratchObject(role);
      if (object) {
        uploads.push(scratch!.store.put(object, from.kind === 'file' ? readFileLimited(from.path, maxFileBytes) : from.bytes));
        return object;
      }
      const key = this.blobs.key(id(), role);
      const upload = from.kind === 'file' ? this.blobs.putFile(key, from.path, maxFileBytes) : { bytes: from.bytes.byteLength, sent: this.blobs.put(key, from.bytes) };
      keys.push(key);
      uploads.push(upload.sent);
      bytes += upload.bytes;
      return { kind: 'blob', key };
    };
    let source: ClusterItem['source'];
    let assets: ClusterItem['assets'];
    try {
      source = reference(task.source, 'in');
      assets = task.assets && Object.fromEntries(Object.entries(task.assets).map(
        ([name, asset], i) => [name, reference(asset, `asset-${i}`)] as const,
      ));
    } catch (error) {
      // A logo that cannot be read after the image was sent: take back what was sent.
      void Promise.allSettled(uploads).then(() => this.blobs.delete(...keys).catch(() => {}));
      throw error;
    }
    let sink: ClusterItem['sink'];
    if (task.sink.kind === 'none' || task.sink.kind === 'blob' || task.sink.kind === 'object') sink = task.sink;
    else if (task.sink.kind === 'file' && this.options.sharedFs) sink = { kind: 'file', path: resolve(task.sink.path) };
    else if (task.sink.kind === 'bytes' && scratch && task.tile) sink = scratchObject('out')!;
    else {
      const key = this.blobs.key(id(), 'out');
      // A worker that died between writing a result and moving it into place leaves it staged.
      keys.push(key, this.blobs.stagedKey(key));
      sink = { kind: 'blob', key };
    }
    const item: ClusterItem = { source, sink, ...(task.tile ? { tile: task.tile } : {}), ...(assets ? { assets } : {}) };
    // Each tile is a job of its own, so the tiles of one image spread over every worker.
    const groupKey = task.tile ? id() : this.groupKeyOf(task);
    const uploaded = Promise.all(uploads);
    // Its failure is read when the group is sent (dispatch); until then it must not count as unhandled.
    uploaded.catch(() => {});
    return { task, item, groupKey, keys, objects, bytes, uploaded, resolve: () => {} };
  }

  /**
   * The images of a batch share their pipeline object and their limits object (the runner's), so
   * their JSON is written once; the key is the same string for each image (compared by reference,
   * never rebuilt and flattened per image). Equal limits in other objects give an equal key.
   */
  private groupKeyOf(task: Task): string {
    let byLimits = this.groupKeys.get(task.pipeline);
    if (!byLimits) this.groupKeys.set(task.pipeline, (byLimits = new WeakMap()));
    const limits = task.limits ?? NO_LIMITS;
    let byPriority = byLimits.get(limits);
    if (!byPriority) byLimits.set(limits, (byPriority = new Map()));
    let key = byPriority.get(task.priority);
    if (key === undefined) byPriority.set(task.priority, (key = `${JSON.stringify(task.pipeline)} ${JSON.stringify(task.limits ?? null)} ${task.priority}`));
    return key;
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const group = this.pending.splice(0);
    this.pendingBytes = 0;
    this.pendingBlobs = false;
    if (group.length > 0) void this.dispatch(group);
  }

  private async dispatch(group: Pending[]): Promise<void> {
    const outcomes = group.every((p) => p.uploaded === NOTHING_TO_UPLOAD) ? await this.runGroup(group) : await this.runUploaded(group);
    // Blobs go before the outcomes are handed back: a settled image frees a window slot, and the
    // next image's upload must never coexist with this one's bytes.
    await this.blobs.delete(...group.flatMap((p) => p.keys)).catch(() => {});
    const { scratch } = this.options;
    if (scratch) await Promise.all(group.flatMap((p) => p.objects).map((ref) => scratch.store.delete(ref).catch(() => {})));
    this.bytesInFlight -= group.reduce((sum, p) => sum + p.bytes, 0);
    for (const makeRoom of this.waitingForRoom.splice(0)) makeRoom();
    group.forEach((p, i) => p.resolve(outcomes[i]));
  }

  /** The group's images whose uploads arrived, and a failure for each of the others. */
  private async runUploaded(group: Pending[]): Promise<Outcome[]> {
    const uploads = await Promise.allSettled(group.map((p) => p.uploaded));
    const ready = group.filter((_, i) => uploads[i].status === 'fulfilled');
    const ran = ready.length > 0 ? await this.runGroup(ready) : [];
    return uploads.map((upload) => (upload.status === 'rejected' ? failed(toErrorInfo(upload.reason), 'cluster') : ran.shift()!));
  }

  private async runGroup(group: Pending[]): Promise<Outcome[]> {
    const { task } = group[0];
    try {
      const data: ClusterJobData = { items: group.map((p) => p.item), pipeline: task.pipeline, limits: task.limits };
      const job = await this.add(data, PRIORITY[task.priority] ?? PRIORITY.batch);
      const ended = await this.untilFinished(job);
      if (!ended.ok) {
        const most = itemsTakenByRefuser(ended.error);
        if (most !== undefined && most < group.length) return await this.runInSmallerJobs(group, most);
        return group.map(() => failed(ended.error, 'cluster', ended.attempts));
      }
      const { result } = ended;
      const bodies = await this.resultBlobs(group, result);
      return await Promise.all(group.map((p, i) => this.settle(p, result.items[i], result, bodies[i])));
    } catch (error) {
      return group.map(() => failed(toErrorInfo(error), 'cluster'));
    }
  }

  /**
   * A group that a worker of an earlier version refused as larger than it takes, sent again as
   * jobs it takes; the batch's later groups are made that small too. (Upgrading a fleet's workers
   * one by one, an earlier one may take a job while the submitter counts only the newer ones.)
   */
  private async runInSmallerJobs(group: Pending[], most: number): Promise<Outcome[]> {
    this.referenceImages = Math.min(this.referenceImages, most);
    const parts = Array.from({ length: Math.ceil(group.length / most) }, (_, i) => group.slice(i * most, (i + 1) * most));
    return (await Promise.all(parts.map((part) => this.runGroup(part)))).flat();
  }

  /**
   * The result blobs of a group, in one MGET: one command and one reply for the group, not one
   * per image. A read, not GETDEL: a command whose answer a Redis restart cut off is sent again
   * on reconnection, and a second GETDEL would find nothing. dispatch() deletes the blobs after.
   */
  private async resultBlobs(group: Pending[], result: ClusterJobResult): Promise<(Buffer | null | undefined)[]> {
    const wanted = group.map((p, i) => {
      const { sink } = p.task;
      const item = result.items[i];
      const fromBlob = item?.ok && item.output && p.item.sink.kind === 'blob' && (sink.kind === 'file' || sink.kind === 'bytes');
      return fromBlob && p.item.sink.kind === 'blob' ? p.item.sink.key : undefined;
    });
    const keys = wanted.filter((key): key is string => key !== undefined);
    if (keys.length === 0) return wanted.map(() => undefined);
    const read = await this.blobs.getMany(keys);
    let next = 0;
    return wanted.map((key) => (key === undefined ? undefined : read[next++]));
  }

  /** Brings one result home: the output file written atomically from its blob (read with the group's), or its bytes. */
  private async settle(p: Pending, item: ClusterItemResult | undefined, job: ClusterJobResult, blob: Buffer | null | undefined): Promise<Outcome> {
    const { worker, attempts } = job;
    if (!item) return failed({ code: 'INTERNAL', message: 'the worker returned no result for this image' }, worker, attempts);
    if (!item.ok) return failed(item.error, worker, attempts);
    try {
      const { sink } = p.task;
      let body: Buffer | undefined;
      if (item.output && p.item.sink.kind === 'object' && sink.kind === 'bytes' && this.options.scratch) {
        body = (await this.options.scratch.store.get(p.item.sink, DEFAULT_LIMITS.maxFileBytes * 4)).body;
      }
      if (item.output && p.item.sink.kind === 'blob' && (sink.kind === 'file' || sink.kind === 'bytes')) {
        body = blob ?? undefined;
        if (!body) throw new ImgfleetError('INTERNAL', 'the result expired from Redis before it was read');
        if (sink.kind === 'file') writeFileAtomic(sink.path, body);
      }
      const output = item.output && (sink.kind === 'file' ? { ...item.output, path: sink.path } : item.output);
      return { ok: true, output, body: sink.kind === 'bytes' ? body : undefined, data: item.data, stats: item.stats, worker, attempts };
    } catch (error) {
      return failed(toErrorInfo(error), worker, attempts);
    }
  }

  /** Queues a job with the others made in the same turn of the event loop: one round trip for them all. */
  private add(data: ClusterJobData, priority: number): Promise<Job<ClusterJobData, ClusterJobResult>> {
    return new Promise((resolveJob, reject) => {
      if (this.adding.length === 0) setImmediate(() => void this.addAll());
      this.adding.push({ data, priority, added: (job) => (job instanceof Error ? reject(job) : resolveJob(job)) });
    });
  }

  private async addAll(): Promise<void> {
    const batch = this.adding.splice(0);
    try {
      const jobs = await this.queue.addBulk(batch.map(({ data, priority }) => ({ name: JOB_NAME, data, opts: this.jobOptions(priority) })));
      batch.forEach((entry, i) => entry.added(jobs[i]));
    } catch (error) {
      for (const entry of batch) entry.added(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** How every job is queued: retries with backoff for transient faults, and kept a while after. */
  private jobOptions(priority: number) {
    return {
      priority,
      attempts: this.options.attempts ?? 3,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: { age: 600 },
      removeOnFail: { age: 3600 },
    };
  }

  /**
   * Waits for a job to end: its result, or its failure as the worker reported it. The news
   * normally comes through QueueEvents; a look at the job's state covers an event missed while
   * Redis was restarting, whenever the events have been quiet for a few seconds.
   */
  private async untilFinished<D, R>(job: Job<D, R>): Promise<{ ok: true; result: R } | { ok: false; error: ErrorInfo; attempts?: number }> {
    let over = false;
    const lookEvery = async (): Promise<R> => {
      while (!over) {
        await sleep(STATE_CHECK_MS, undefined, { ref: false });
        if (over) break;
        if (performance.now() - this.lastEventAt < STATE_CHECK_MS) continue;
        const state = await job.getState().catch(() => undefined);
        if (state === 'completed') return (await Job.fromId<D, R>(this.queue, job.id!))!.returnvalue;
        if (state === 'failed') throw new Error('failed');
      }
      return new Promise<R>(() => {});
    };
    try {
      return { ok: true, result: await Promise.race([job.waitUntilFinished(this.events), lookEvery()]) };
    } catch (error) {
      const failedJob = await Job.fromId<D, R>(this.queue, job.id!).catch(() => undefined);
      return { ok: false, error: decodeFailure(failedJob?.failedReason ?? (error as Error).message), attempts: failedJob?.attemptsMade };
    } finally {
      over = true;
    }
  }

  async close(): Promise<void> {
    const within = (work: Promise<unknown>) => Promise.race([work.catch(() => {}), sleep(2000, undefined, { ref: false })]);
    await within(this.events.close());
    await within(this.queue.close());
    // BullMQ leaves connections it was given open; with Redis away, quitting would wait for ever.
    await within(Promise.all([this.redis.quit(), this.probe.quit(), this.blobLink.quit()]));
    this.link.disconnect();
  }
}

/** Resolves once the connection is ready (ioredis connects on its own, retrying), or after a few seconds: its commands then fail fast. */
function untilReady(connection: Redis): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  return new Promise((resolveReady) => {
    const done = () => {
      clearTimeout(timer);
      connection.off('ready', done);
      resolveReady();
    };
    const timer = setTimeout(done, 5000);
    connection.once('ready', done);
  });
}
