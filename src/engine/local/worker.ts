import { hostname } from 'node:os';
import { threadId, workerData } from 'node:worker_threads';
import { ImgfleetError } from '../../errors.js';
import { AssetLoader, type AssetPolicy } from '../../io/assets.js';
import type { Limits } from '../../limits.js';
import { executeTask, type Place } from '../../task/execute.js';
import { withObjects } from '../../task/object-io.js';
import { localIo } from '../../task/task-io.js';
import type { S3Settings } from '../../sources/s3/s3-settings.js';
import type { Outcome, Task } from '../../task/task.js';
import { warmUpLanes } from '../../pipeline/warm-up.js';
import { mapAtMost } from '../map-at-most.js';
import { tuneSharpForParallelImages } from '../tuning.js';

/** What every thread of one pool is told when it starts. */
export interface PoolThreadSettings {
  assets: AssetPolicy;
  limits?: Partial<Limits>;
  /** Shared with the engine: a task's flag, once set, stops it at its next step. */
  cancelFlags: Int32Array;
  /** Shared with the engine: when each task started here (ms since the epoch), by its flag's index; 0 until then. */
  startedAt: Float64Array;
  /** The object store tasks may read and write, when a batch uses one. */
  s3?: S3Settings;
  /** Warm up the lanes before taking work (LocalEngineOptions.warm). */
  warmUp?: boolean;
}

/** One task as the engine hands it to a thread: its time, counted from its start here, and which flag cancels it. */
export interface PoolMessage {
  task: Task;
  timeoutMs: number;
  cancelFlag: number;
}

/** Tasks of a batch handed to a thread together (see LocalEngine), run two at a time (GROUP_LANES). */
export interface PoolGroupMessage {
  group: PoolMessage[];
}

/** Answered once the thread has warmed up (LocalEngine.warmedUp). */
export interface PoolWarmMessage {
  warm: true;
}

/** How often a running task looks at its flag. */
const WATCH_MS = 20;

tuneSharpForParallelImages();
const settings = workerData as PoolThreadSettings;
const place: Place = {
  worker: `${hostname()}/thread-${threadId}`,
  io: withObjects(localIo(), { s3: settings.s3 }),
  limits: settings.limits,
  assets: new AssetLoader(settings.assets),
};

/** Settles once this thread is ready for work: the pool gives it none before. */
export const ready: Promise<void> = settings.warmUp ? warmUpLanes() : Promise.resolve();

/** One task on this pool thread. */
export default async function run({ task, timeoutMs, cancelFlag }: PoolMessage): Promise<Outcome> {
  const started = Date.now();
  settings.startedAt[cancelFlag] = started;
  const deadline = started + timeoutMs;
  const stop = new AbortController();
  // The deadline stops the work between steps too: libvips' kill flag only ends a long one.
  const watch = setInterval(() => {
    if (Atomics.load(settings.cancelFlags, cancelFlag) !== 0) stop.abort(new ImgfleetError('CANCELLED', 'cancelled: nobody waits for this image any more'));
    else if (Date.now() >= deadline) stop.abort(new ImgfleetError('TIMEOUT', 'the time for this image ran out, and its work was stopped'));
  }, WATCH_MS);
  try {
    return await executeTask(task, place, { signal: stop.signal, deadline });
  } finally {
    clearInterval(watch);
  }
}

export interface PoolGroupResult {
  outcomes: Outcome[];
  /** The time the group took on its thread. */
  ms: number;
}

/**
 * A group's tasks run two at a time on a thread: while one waits for libvips (an encoder, a
 * resize that sharp runs on libuv's threads), the other's JavaScript and WebAssembly use the
 * thread. One at a time, a thread idled through every wait. 1,000 small JPEGs to WebP, three
 * interleaved rounds: 6.45-7.39 s against 7.62-8.36 s (1.72-1.75 against 1.49-1.54 cores busy);
 * 1,000 sharp-written PNGs to 256 px WebP thumbnails, two rounds: 5.03-5.17 s against 5.59-5.87 s;
 * JPEG and grey JPEG thumbnails and Pillow-written PNGs to covers, whose work is all on this
 * thread, within the noise. Each task keeps its own deadline, from its own start.
 */
const GROUP_LANES = 2;

/** The tasks of a group, two at a time on this thread. */
export async function runGroup({ group }: PoolGroupMessage): Promise<PoolGroupResult> {
  const started = performance.now();
  const outcomes = await mapAtMost(group, GROUP_LANES, run);
  return { outcomes, ms: performance.now() - started };
}
