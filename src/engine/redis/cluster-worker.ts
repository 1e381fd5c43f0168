import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { isPermanent, toErrorInfo, type ErrorInfo } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { LocalEngine } from '../local/local-engine.js';
import { readInput } from '../file-task.js';
import { defaultThreads } from '../tuning.js';
import { BlobStore } from './blob-store.js';
import { connect, lockTiming, QUEUE_NAME, type ClusterSettings } from './cluster-settings.js';
import {
  encodeFailure, TILE_JOB, type ClusterItem, type ClusterItemResult, type ClusterJobData, type ClusterJobResult, type TileJobData, type TileJobResult,
} from './job-data.js';
import { WorkerRegistry } from './worker-registry.js';

export interface ClusterWorkerOptions {
  settings: ClusterSettings;
  /** Pool threads, so images in parallel. @defaultValue the machine's cores */
  concurrency?: number;
  /** @defaultValue host-pid */
  name?: string;
  /** A job running longer than this fails (and is retried). @defaultValue 120 000 */
  timeoutMs?: number;
  /** Fault injection: refuse a job with this probability; it goes back for another worker. */
  rejectRate?: number;
  /** Fault injection: stall a job for delayMs with this probability. */
  delayRate?: number;
  delayMs?: number;
}

export interface RunningWorker {
  name: string;
  registry: WorkerRegistry;
  /** Stops taking jobs, lets the running ones finish, then leaves the cluster. */
  close(): Promise<void>;
}

/**
 * `imgfleet worker`: takes jobs from the queue when it has room (BullMQ hands a job to a
 * worker only when it asks), runs them on its own thread pool, and returns results through
 * Redis (or the shared filesystem). Bad input fails at once and is never retried; anything
 * else is retried with backoff; a job whose worker dies is taken back by the stalled check.
 */
export async function startClusterWorker(options: ClusterWorkerOptions): Promise<RunningWorker> {
  const { settings } = options;
  const threads = options.concurrency ?? defaultThreads();
  const name = options.name ?? `${hostname()}-${process.pid}`;
  const pool = new LocalEngine({ threads, timeoutMs: options.timeoutMs });
  const redis = connect(settings);
  const blobs = new BlobStore(redis, settings.prefix);
  const registry = new WorkerRegistry(redis, settings.prefix, name, threads);

  /** One image of a job: its result, or a permanent error; a transient fault is thrown to rerun the job. */
  const processItem = async (item: ClusterItem, spec: ClusterJobData['spec'], limits: ClusterJobData['limits']): Promise<ClusterItemResult> => {
    const bytes = 'blob' in item.input ? await blobs.get(item.input.blob) : readInputOr(item.input.path, limits?.maxFileBytes);
    if (!bytes) return { ok: false, error: { code: 'BAD_USAGE', message: 'the input is no longer in Redis (its time to live ran out)' } };
    if (!Buffer.isBuffer(bytes)) return { ok: false, error: bytes };
    const outcome = await pool.runBytes({ input: bytes, spec, limits });
    if (!outcome.ok) {
      if (!isPermanent(outcome.error.code)) throw new Error(encodeFailure(outcome.error));
      return { ok: false, error: outcome.error };
    }
    const { result } = outcome;
    if (result.kind === 'data') return { ok: true, data: result.data, stats: result.stats };
    if (!item.output) return { ok: false, error: { code: 'BAD_USAGE', message: 'no output path for an image result' } };
    if ('blob' in item.output) await blobs.put(item.output.blob, result.data);
    else writeFileAtomic(item.output.path, result.data);
    return { ok: true, stats: result.stats, output: { bytes: result.data.length, width: result.width, height: result.height, format: result.format, channels: result.channels } };
  };

  /** One tile of a large image: pixels from a blob, the kept part back into one. */
  const processTileJob = async (job: Job<TileJobData, TileJobResult>): Promise<TileJobResult> => {
    registry.info.active++;
    try {
      if (options.delayRate && Math.random() < options.delayRate) await sleep(options.delayMs ?? 1000);
      const pixels = await blobs.get(job.data.input.blob);
      if (!pixels) throw new UnrecoverableError(encodeFailure({ code: 'BAD_USAGE', message: 'the tile is no longer in Redis (its time to live ran out)' }));
      let result;
      try {
        result = await pool.runTile({ ...job.data.tile, pixels });
      } catch (error) {
        const info = toErrorInfo(error);
        throw isPermanent(info.code) ? new UnrecoverableError(encodeFailure(info)) : new Error(encodeFailure(info));
      }
      await blobs.put(job.data.output.blob, result.pixels);
      registry.info.done++;
      // A run taken back from a dead worker counts as an attempt too, though BullMQ counts it apart.
      return { width: result.width, height: result.height, channels: result.channels, worker: name, attempts: job.attemptsMade + job.stalledCounter + 1 };
    } catch (error) {
      registry.info.failed++;
      throw error;
    } finally {
      registry.info.active--;
    }
  };

  const processJob = async (job: Job<ClusterJobData | TileJobData, ClusterJobResult | TileJobResult>, token?: string): Promise<ClusterJobResult | TileJobResult> => {
    const images = job.name === TILE_JOB ? 1 : (job.data as ClusterJobData).items.length;
    if (options.rejectRate && Math.random() < options.rejectRate) {
      registry.info.rejected += images;
      await job.moveToWait(token);
      throw new WaitingError();
    }
    if (job.name === TILE_JOB) return processTileJob(job as Job<TileJobData, TileJobResult>);
    const { items, spec, limits } = job.data as ClusterJobData;
    registry.info.active += items.length;
    try {
      if (options.delayRate && Math.random() < options.delayRate) await sleep(options.delayMs ?? 1000);
      const results = await Promise.all(items.map((item) => processItem(item, spec, limits)));
      for (const result of results) registry.info[result.ok ? 'done' : 'failed']++;
      // A job of one bad image fails as a job, at once and for good; in a group, each image has its own result.
      const [only] = results;
      if (results.length === 1 && !only.ok) throw new UnrecoverableError(encodeFailure(only.error));
      return { items: results, worker: name, attempts: job.attemptsMade + 1 };
    } catch (error) {
      if (!(error instanceof UnrecoverableError)) registry.info.failed += items.length;
      throw error;
    } finally {
      registry.info.active -= items.length;
    }
  };

  const worker = new Worker<ClusterJobData | TileJobData, ClusterJobResult | TileJobResult>(QUEUE_NAME, processJob, {
    connection: redis,
    prefix: settings.prefix,
    // A job is a few images; two at a time keep the pool busy without hoarding work.
    concurrency: 2,
    maxStalledCount: 3,
    ...lockTiming(),
  });
  worker.on('error', () => {});
  await worker.waitUntilReady();
  await registry.start();

  return {
    name,
    registry,
    async close() {
      // Running jobs finish first; if Redis is gone they cannot report back, so stop waiting after a while.
      const drained = await Promise.race([worker.close().then(() => true), sleep(DRAIN_LIMIT_MS, false, { ref: false })]);
      if (!drained) await worker.close(true).catch(() => {});
      await Promise.race([registry.stop(), sleep(1000, undefined, { ref: false })]);
      await pool.close();
      redis.disconnect();
    },
  };
}

const DRAIN_LIMIT_MS = Number(process.env.IMGFLEET_DRAIN_MS ?? 60_000);

function readInputOr(path: string, maxBytes?: number): Buffer | ErrorInfo {
  try {
    return readInput(path, maxBytes);
  } catch (error) {
    return toErrorInfo(error);
  }
}
