import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { ImgfleetError, isPermanent, toErrorInfo } from '../../errors.js';
import { AssetLoader, NO_ASSETS, type AssetPolicy } from '../../io/assets.js';
import { checkFileSize, DEFAULT_LIMITS, type Limits } from '../../limits.js';
import { executeTask, type Place } from '../../task/execute.js';
import type { Outcome, Task } from '../../task/task.js';
import { S3Client } from '../../sources/s3/s3-client.js';
import type { ObjectPrefix } from '../../sources/s3/object-url.js';
import type { S3Settings } from '../../sources/s3/s3-settings.js';
import { withObjects } from '../../task/object-io.js';
import { localIo, type TaskIo } from '../../task/task-io.js';
import { LocalEngine } from '../local/local-engine.js';
import { mapAtMost } from '../map-at-most.js';
import { defaultThreads } from '../tuning.js';
import { BlobStore, type JobHold } from './blob-store.js';
import { ReadAhead } from './read-ahead.js';
import { QUEUE_NAME, type ClusterSettings } from './cluster-settings.js';
import { encodeFailure, JOBS_PER_WORKER, readJobData, REFERENCES_AT_ONCE, statsToSend, type ClusterItemResult, type ClusterJobData, type ClusterJobResult } from './job-data.js';
import { RedisLink, type LinkLog } from './redis-link.js';
import { WorkerRegistry } from './worker-registry.js';

export interface ClusterWorkerOptions {
  settings: ClusterSettings;
  /** Pool threads, so images in parallel. @defaultValue the machine's cores */
  concurrency?: number;
  /** @defaultValue host-pid */
  name?: string;
  /** A job running longer than this fails (and is retried). @defaultValue 120 000 */
  timeoutMs?: number;
  /** Folders whose files jobs may name (--shared-fs); without them, jobs must bring their images as blobs. */
  roots?: string[];
  /** The object store this worker reads and writes (--s3-endpoint and the AWS variables). */
  s3?: S3Settings;
  /** Buckets and prefixes whose objects jobs may name (--s3-root); without them, none. */
  s3Roots?: ObjectPrefix[];
  /** Where watermark logos come from: a folder of this worker's, by name. @defaultValue none */
  assets?: AssetPolicy;
  /** This worker's limits: a job may ask for tighter ones, never looser. */
  limits?: Partial<Limits>;
  /** How long stopping waits for running jobs. @defaultValue 60 000 */
  drainMs?: number;
  /** Where changes of the link to Redis are reported, one line each. */
  log?: LinkLog;
  /** Fault injection: refuse a job with this probability; it goes back for another worker. */
  rejectRate?: number;
  /** Fault injection: stall a job for delayMs with this probability. */
  delayRate?: number;
  delayMs?: number;
  /**
   * Runs the processor on each image's bytes: by default a pool of `concurrency` threads. A
   * fleet simulation passes its own (a fixed sleep), keeping every transfer and queue operation real.
   */
  processor?: (task: Task) => Promise<Outcome>;
}

export interface RunningWorker {
  name: string;
  registry: WorkerRegistry;
  /**
   * Stops taking jobs, lets the running ones finish for up to the drain limit, then leaves the
   * cluster. Ends within the limit and a few seconds whatever state Redis is in.
   */
  close(): Promise<void>;
}

/**
 * `imgfleet worker`: takes jobs from the queue when it has room (BullMQ hands a job to a
 * worker only when it asks), runs each image through the executor on its own thread pool, and
 * returns results through Redis (or the shared filesystem). Job data is untrusted: its shape
 * is checked, paths must lie in the worker's roots, limits never rise above the worker's own,
 * logos come from the worker's own folder. Bad input fails at once and is never retried;
 * anything else is retried with backoff; a job whose worker dies is taken back by the stalled check.
 */
export async function startClusterWorker(options: ClusterWorkerOptions): Promise<RunningWorker> {
  const { settings } = options;
  const threads = options.concurrency ?? defaultThreads();
  const name = options.name ?? `${hostname()}-${process.pid}`;
  const assets = options.assets ?? NO_ASSETS;
  const pool = options.processor ? undefined : new LocalEngine({ threads, timeoutMs: options.timeoutMs, assets, limits: options.limits });
  const link = new RedisLink(settings.redisUrl, options.log);
  const redis = link.connection();
  // Blobs on a connection of their own that sends the commands of one turn together.
  const blobs = new BlobStore(link.connection({ enableAutoPipelining: true }), settings.prefix);
  const registry = new WorkerRegistry(redis, settings.prefix, name, threads, settings.heartbeatMs);
  const store = options.s3 && options.s3Roots?.length ? new S3Client(options.s3) : undefined;
  const files = localIo({ roots: options.roots ?? [] });
  const objects = { store, roots: options.s3Roots ?? [] };
  /** Where a job's images run; each job brings its own io (see processJob). */
  const place: Omit<Place, 'io'> = {
    worker: name,
    limits: options.limits,
    assets: new AssetLoader(assets),
    processElsewhere: options.processor ?? ((task, control) => pool!.run(task, control)),
  };

  const processJob = async (job: Job<ClusterJobData, ClusterJobResult>, token?: string): Promise<ClusterJobResult> => {
    let data: ClusterJobData;
    try {
      data = readJobData(job.data, blobs.keyPrefix);
    } catch (error) {
      registry.info.failed++;
      throw new UnrecoverableError(encodeFailure(toErrorInfo(error)));
    }
    const { items, pipeline, limits } = data;
    if (options.rejectRate && Math.random() < options.rejectRate) {
      registry.info.rejected += items.length;
      await job.moveToWait(token);
      throw new WaitingError();
    }
    registry.info.active += items.length;
    try {
      if (options.delayRate && Math.random() < options.delayRate) await sleep(options.delayMs ?? 1000);
      const hold = token ? { lockKey: `${worker.toKey(job.id!)}:lock`, token } : undefined;
      const staged: string[] = [];
      // Images whose bytes come through Redis start a few at a time: their inputs arrive in well
      // under a millisecond, and a job's size must not decide what the worker holds. Those read
      // from a store (or a shared folder) start many at once, so that the store's latency hides
      // behind other images' work: two at a time per job took 16 simulated workers of 3 ms images
      // from 290-336 img/s to 229-272 (the fleet benchmark, side by side). An image holds its slot
      // from reading its input to writing its result; one slot more than the threads keeps each
      // thread's next image read and ready.
      const atOnce = items.every((item) => item.source.kind === 'blob') ? threads + 1 : Math.min(items.length, REFERENCES_AT_ONCE);
      // The images of a job read their inputs a few at a time, as many as run at once.
      const ahead = new ReadAhead(blobs, items.flatMap((item) => (item.source.kind === 'blob' ? [item.source.key] : [])), atOnce);
      const io = withObjects(clusterIo(blobs, files, (key) => ahead.read(key)), objects);
      const held: Place = { ...place, io: readingNextOnWrite(hold ? whileHeld(io, blobs, hold, staged) : io, ahead) };
      const outcomes = await mapAtMost(items, atOnce, (item) => executeTask({ ...item, pipeline, limits, priority: 'batch' }, held));
      if (hold && staged.length > 0 && !(await blobs.moveWhileHeld(staged, hold))) throw new Error(encodeFailure(toErrorInfo(lostHold())));
      const transient = outcomes.find((o) => !o.ok && !isPermanent(o.error.code));
      if (transient && !transient.ok) throw new Error(encodeFailure(transient.error));
      const results = outcomes.map((o): ClusterItemResult => (o.ok ? { ok: true, output: o.output, data: o.data, stats: statsToSend(o.stats) } : { ok: false, error: o.error }));
      for (const result of results) registry.info[result.ok ? 'done' : 'failed']++;
      // A job of one bad image fails as a job, at once and for good; in a group, each image has its own result.
      const [only] = results;
      if (results.length === 1 && !only.ok) throw new UnrecoverableError(encodeFailure(only.error));
      return { items: results, worker: name, attempts: job.attemptsMade + job.stalledCounter + 1 };
    } catch (error) {
      if (!(error instanceof UnrecoverableError)) registry.info.failed += items.length;
      throw error;
    } finally {
      registry.info.active -= items.length;
    }
  };

  const worker = new Worker<ClusterJobData, ClusterJobResult>(QUEUE_NAME, processJob, {
    connection: redis,
    prefix: settings.prefix,
    // Recorded on each job it takes (BullMQ's processedBy), so an operator can see who holds a job.
    name,
    concurrency: JOBS_PER_WORKER,
    maxStalledCount: settings.maxStalled,
    lockDuration: settings.lockMs,
    stalledInterval: settings.stalledMs,
  });
  link.watch(worker);
  await worker.waitUntilReady();
  await registry.start();

  const drainMs = options.drainMs ?? 60_000;
  return {
    name,
    registry,
    async close() {
      const deadline = performance.now() + drainMs;
      const within = <T>(ms: number, work: Promise<T>) => Promise.race([work.then(() => true, () => true), sleep(Math.max(0, ms), false, { ref: false })]);
      // No new jobs from now; the running ones finish, up to the limit (less the moment the rest takes).
      const closing = worker.close();
      while (registry.info.active > 0 && performance.now() < deadline - CLOSING_MS) await sleep(50, undefined, { ref: false });
      // If Redis is away, the running jobs cannot report back and closing cannot finish: stop waiting.
      if (!(await within(Math.min(1000, deadline - CLOSING_MS - performance.now()), closing))) await within(500, worker.close(true));
      await within(500, registry.stop());
      if (pool) await within(500, pool.close());
      store?.close();
      // With Redis away, closing leaves BullMQ's own connections reconnecting: cut them.
      await within(500, worker.disconnect());
      link.disconnect();
    },
  };
}

/** What stopping takes after the running jobs: closing the queue, the registry, the pool. */
const CLOSING_MS = 2500;

/**
 * Writes results only while this worker still holds the job. A worker cut off from Redis for
 * longer than the lock time has lost its job to another worker: a result it wrote late would
 * land after the submitter had taken the other worker's, and stay behind in Redis (or overwrite
 * a file already handed on). Blobs are written staged, named in `staged`, and put in place
 * together at the end of the job only if the hold is still there; before a write to any other
 * sink, the hold is checked unless an earlier check showed it lasting well past now (one Redis
 * command per job of images rather than one per image).
 */
function whileHeld(io: TaskIo, blobs: BlobStore, hold: JobHold, staged: string[]): TaskIo {
  /** Until when (performance.now()) the hold is known to last; one question covers a job's writes of that time. */
  let sureUntil = 0;
  let asking: Promise<void> | undefined;
  const stillHeld = async () => {
    if (performance.now() < sureUntil) return;
    asking ??= (async () => {
      const askedAt = performance.now();
      const ms = await blobs.heldFor(hold);
      if (ms === 0) throw lostHold();
      // Half of what is left, so that a write started within it ends well before the lock could run out.
      sureUntil = askedAt + ms / 2;
    })().finally(() => { asking = undefined; });
    await asking;
  };
  return {
    ...io,
    async write(sink, bytes) {
      if (sink.kind === 'blob') {
        await blobs.putStaged(sink.key, bytes);
        staged.push(sink.key);
        return;
      }
      await stillHeld();
      await io.write(sink, bytes);
    },
  };
}

/**
 * Each result's write starts the read of the next inputs when none is read ahead, in the same
 * turn, so that both reach Redis in one write and wake it once instead of twice (3,000 photos
 * through two single-thread workers: 1.16 against 1.59 wake-ups of Redis an image, and about 8%
 * less of its CPU). The image that wrote holds its result, no longer its input, until Redis has
 * it: the next image's input takes its input's place, so a job holds no more than before.
 */
function readingNextOnWrite(io: TaskIo, ahead: ReadAhead): TaskIo {
  return {
    ...io,
    write(sink, bytes) {
      ahead.readNext();
      return io.write(sink, bytes);
    },
  };
}

function lostHold(): ImgfleetError {
  return new ImgfleetError('INTERNAL', 'this worker lost its hold on the job (its lock ran out); another worker runs it');
}

/** Blobs in Redis (read through `readBlob`), and files through `files` (inside the worker's roots). */
function clusterIo(blobs: BlobStore, files: TaskIo, readBlob: (key: string) => Promise<Buffer | null>): TaskIo {
  return {
    async read(source, maxBytes) {
      if (source.kind !== 'blob') return files.read(source, maxBytes);
      const bytes = await readBlob(source.key);
      if (!bytes) throw new ImgfleetError('BAD_USAGE', 'the input is no longer in Redis (its time to live ran out)');
      checkFileSize(bytes.length, { ...DEFAULT_LIMITS, maxFileBytes: maxBytes });
      return bytes;
    },
    async write(sink, bytes) {
      if (sink.kind === 'blob') await blobs.put(sink.key, bytes);
      else await files.write(sink, bytes);
    },
    async checkSink(sink) {
      if (sink.kind !== 'blob') await files.checkSink(sink);
    },
  };
}
