import { hostname } from 'node:os';
import type { Piscina } from 'piscina';
import { ImgfleetError, toErrorInfo } from '../../errors.js';
import { AssetLoader, type AssetPolicy } from '../../io/assets.js';
import type { Limits } from '../../limits.js';
import { executeTask, type Place } from '../../task/execute.js';
import { localIo } from '../../task/task-io.js';
import { failed, type Outcome, type Priority, type Task } from '../../task/task.js';
import { defaultThreads, tuneSharpForParallelImages } from '../tuning.js';
import { LARGE_IMAGE_PIXELS } from '../../image/vips-threads.js';
import type { Engine, EngineStatus, RunOptions } from '../types.js';
import type { S3Settings } from '../../sources/s3/s3-settings.js';
import { withObjects } from '../../task/object-io.js';
import type { PoolGroupMessage, PoolGroupResult, PoolMessage, PoolThreadSettings, PoolWarmMessage } from './worker.js';

export interface LocalEngineOptions {
  /** Worker threads. @defaultValue the machine's cores */
  threads?: number;
  /**
   * A task running longer than this fails with TIMEOUT: libvips' kill flag stops its work (see
   * src/image/deadline.ts); a thread still busy a while later is ended and replaced. @defaultValue 120 000
   */
  timeoutMs?: number;
  /** Tasks allowed to wait for a thread; more fail at once with QUEUE_FULL. @defaultValue no limit */
  maxQueue?: number;
  /** Where watermark logos may come from. @defaultValue any path (the caller's own files) */
  assets?: AssetPolicy;
  /** Limits every task runs under; a task may tighten them. */
  limits?: Partial<Limits>;
  /** The object store that tasks' object sources and sinks live in. */
  s3?: S3Settings;
  /**
   * The number of images of the one batch this engine is made for (a command's). Its images that
   * need a thread start on this one, one at a time, and the pool's threads start only once the
   * rest of the batch would keep this thread busy for longer than `poolAfterMs`: a batch of a few
   * small images never waits for threads to start. None: the pool takes them from the first.
   */
  batchImages?: number;
  /** @defaultValue POOL_PAYS_AFTER_MS / (threads - 1) */
  poolAfterMs?: number;
  /** About how many ms of work a group of a batch's images holds (GROUP_WORK_MS). */
  groupWorkMs?: number;
  /** How long past its deadline a task's thread may take to stop before it is ended and replaced. @defaultValue 10 000 */
  stopGraceMs?: number;
  /**
   * A server's pool: every thread starts with the engine and warms up the lanes
   * (src/pipeline/warm-up.ts) before it takes work, and stays; warmedUp() waits for them.
   */
  warm?: boolean;
}

interface Waiting {
  task: Task;
  signal?: AbortSignal;
  resolve: (outcome: Outcome) => void;
}

/**
 * The most pool tasks of a batch handed to a thread in one message. A thread then runs them
 * back to back instead of sleeping between images until the next one is handed over, and this
 * thread hands over a group at a time: on 2 cores, 1,000 small grey JPEGs to 256 px thumbnails
 * took a median 1.81 s against 2.37 s handed over one by one, 1,000 small photos to 400 px
 * covers 3.15 s against 3.75 s (bench/README.md).
 */
const GROUP_TASKS = 8;

/**
 * About how much work a group holds: images that take longer go in smaller groups, down to one,
 * so that at the end of a batch no thread is left with several while another has none.
 */
const GROUP_WORK_MS = 40;

interface Gathered {
  message: PoolMessage;
  /** Undefined when the group failed as a whole: the task then runs again on its own. */
  settle: (outcome: Outcome | undefined) => void;
}

/** How long past its deadline a thread may take to stop (libvips checks its kill flag as it goes) before it is ended. */
const STOP_GRACE_MS = 10_000;

/**
 * Work left in a batch, on one thread, past which starting a pool of two threads pays; with more
 * threads it pays sooner (this divided by threads - 1). Measured on 2 cores (bench/README.md): the
 * threads take about 0.25 s to start, and then run small photos only 1.25-1.5 times as fast as
 * one thread. Cover thumbnails of 300 small photos (0.7 s of work on one thread) took 0.98-1.02 s
 * on the main thread alone and 1.10-1.13 s with the pool; of 500 photos, the same (1.50-1.55 s);
 * of 1,000, 2.47-2.55 s alone and 2.18-2.28 s with the pool.
 */
const POOL_PAYS_AFTER_MS = 1000;

/**
 * More than the first images of a batch on this thread spend on one-off loads and warming up
 * (codecs, WebAssembly, the JIT): so their time less this is a floor for the next ones.
 */
const ONE_OFF_LOADS_MS = 150;

/**
 * Images on this thread before one shows the time the rest take. Small photos on 2 cores, one
 * thread: the first 20-35 ms, the second 12-20 ms, from the third on 2-10 ms; judged by the
 * second, a batch of 100 went to the pool, where it ran slower than here.
 */
const WARM_IMAGES = 3;

/** libuv's thread pool, as sized at its first use (src/engine/threadpool-size.cts). */
function libuvThreads(): number {
  return Number(process.env.UV_THREADPOOL_SIZE) || 4;
}

/**
 * The embedded default: a pool of worker threads in this process, no server needed. Tasks
 * wait here, interactive ones first, and go on when a thread is about to be free: each thread
 * has one task running and one ready, so it never idles between images. A task whose work all
 * happens in libvips's own threads (Task.work) is started from this thread instead, as plain
 * sharp runs: it needs no JavaScript thread of its own, and the pool's threads start only when
 * a task that does comes. In a command's batch, tasks that need a thread run on this one while
 * the rest of the batch is short (LocalEngineOptions.batchImages), and quick ones then go to the
 * threads in groups (GROUP_TASKS).
 */
export class LocalEngine implements Engine {
  readonly mode = 'local';
  private readonly threads: number;
  /** Loaded and made with the first task that needs a thread: work that is all in libvips never needs one. */
  private pool?: Promise<Piscina>;
  private readonly workerData: PoolThreadSettings;
  private readonly timeoutMs: number;
  private readonly maxQueue: number;
  private readonly waiting: Record<Priority, Waiting[]> = { interactive: [], batch: [] };
  private inFlight = 0;
  /** Tasks given to pool threads so far, waiting for one now, and on one now. */
  private poolTasksSeen = 0;
  private poolTasksWaiting = 0;
  private onPoolNow = 0;
  /** One flag per task in the pool, shared with the threads: set, the task stops at its next step. */
  private readonly cancelFlags: Int32Array;
  /** When the task with each flag started on its thread (written there), 0 until it has. */
  private readonly startedAt: Float64Array;
  private readonly freeFlags: number[];
  private readonly here: Place;
  /** Images of the batch not yet given to run() (see LocalEngineOptions.batchImages). */
  private batchLeft?: number;
  private readonly poolAfterMs: number;
  /** Set once the pool pays for its start: from then on, every task that needs a thread gets one of the pool's. */
  private poolChosen = false;
  /** Tasks that needed a thread run on this one so far, and the quickest of them in ms (the first ones pay one-off loads). */
  private ranHere = 0;
  private quickestHere = Number.POSITIVE_INFINITY;
  private onMainNow = 0;
  /** Whether a batch's pool tasks go to threads in groups (an engine made for one batch: LocalEngineOptions.batchImages). */
  private readonly grouping: boolean;
  /** Pool tasks handed over in this turn of the event loop, sent as groups at its end. */
  private gathered: Gathered[] = [];
  /** Tasks a group holds now: from the time one image took, on this thread at first, then in the last group. */
  private groupSize = 1;
  private readonly groupWorkMs: number;
  private readonly stopGraceMs: number;
  private readonly warm: boolean;

  constructor(options: LocalEngineOptions = {}) {
    this.threads = options.threads ?? defaultThreads();
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.maxQueue = options.maxQueue ?? Number.POSITIVE_INFINITY;
    this.batchLeft = options.batchImages;
    this.poolAfterMs = options.poolAfterMs ?? POOL_PAYS_AFTER_MS / Math.max(1, this.threads - 1);
    this.grouping = options.batchImages !== undefined;
    this.groupWorkMs = options.groupWorkMs ?? GROUP_WORK_MS;
    this.stopGraceMs = options.stopGraceMs ?? STOP_GRACE_MS;
    const flags = this.threads * 2 * (this.grouping ? GROUP_TASKS : 1);
    this.cancelFlags = new Int32Array(new SharedArrayBuffer(4 * flags));
    this.startedAt = new Float64Array(new SharedArrayBuffer(8 * flags));
    this.freeFlags = Array.from({ length: flags }, (_, i) => i);
    this.warm = options.warm ?? false;
    this.workerData = { assets: options.assets ?? { kind: 'paths' }, limits: options.limits, cancelFlags: this.cancelFlags, startedAt: this.startedAt, s3: options.s3, warmUp: this.warm };
    tuneSharpForParallelImages();
    const io = withObjects(localIo(), { s3: options.s3 });
    this.here = { worker: `${hostname()}/main`, io, limits: options.limits, assets: new AssetLoader(this.workerData.assets) };
  }

  run(task: Task, options: RunOptions = {}): Promise<Outcome> {
    const { signal } = options;
    if (signal?.aborted) return Promise.resolve(cancelled(signal));
    if (this.waitingCount() >= this.maxQueue) {
      return Promise.resolve(failed({ code: 'QUEUE_FULL', message: `the pool is busy (${this.waitingCount()} images waiting, limit ${this.maxQueue}); retry shortly` }, 'local'));
    }
    if (this.batchLeft !== undefined && !task.tile) this.batchLeft = Math.max(0, this.batchLeft - 1);
    return new Promise((resolve) => {
      const queue = this.waiting[task.priority === 'interactive' ? 'interactive' : 'batch'];
      const onPool = task.work !== 'libvips';
      const entry: Waiting = { task, signal, resolve };
      // Nobody waits for it any more: it leaves the queue without ever reaching a thread.
      const leave = () => {
        const at = queue.indexOf(entry);
        if (at < 0) return;
        queue.splice(at, 1);
        if (onPool) this.poolTasksWaiting--;
        resolve(cancelled(signal!));
      };
      signal?.addEventListener('abort', leave, { once: true });
      entry.resolve = (outcome) => {
        signal?.removeEventListener('abort', leave);
        resolve(outcome);
      };
      queue.push(entry);
      if (onPool) this.poolTasksWaiting++;
      this.feed();
    });
  }

  async slots(kind: 'image' | 'tile'): Promise<number> {
    // Tiles hold their pixels in memory while they wait: one a thread and one more is enough. A
    // batch's images wait here as paths, enough of them to fill the largest groups.
    return kind === 'tile' ? this.threads + 1 : this.threads * 2 * (this.grouping ? GROUP_TASKS : 1);
  }

  /** Tasks under way at once: two a thread (one running, one ready), or two groups a thread. */
  private maxInFlight(): number {
    return this.threads * 2 * this.groupSize;
  }

  /**
   * Whether `task` may start now. Small images whose work is all in libvips may have more under
   * way: each runs on one libvips worker thread that hands strips to the thread sharp started it
   * on, and the two wait for each other at every strip, so with two such images a core the cores
   * idle part of the time. They may fill libuv's pool, where sharp starts them, less two
   * threads for file I/O (four a core from the command line: src/engine/threadpool-size.cts).
   * 1,000 small WebPs to 256 px thumbnails, seven interleaved rounds: 3.52-4.46 s with four a
   * core against 3.90-4.72 s with two, faster in six (1.72-1.79 against 1.59-1.64 cores busy).
   * Large images stay at two a thread: each may take several libvips threads, and holds more.
   */
  private roomFor(task: Task): boolean {
    const small = task.work === 'libvips' && task.pixels !== undefined && task.pixels < LARGE_IMAGE_PIXELS;
    return this.inFlight < (small ? Math.max(this.maxInFlight(), libuvThreads() - 2) : this.maxInFlight());
  }

  /** Sizes groups for images that take `ms` each. */
  private learnTaskTime(ms: number): void {
    if (this.grouping) this.groupSize = Math.max(1, Math.min(GROUP_TASKS, Math.floor(this.groupWorkMs / Math.max(ms, 0.1))));
  }

  async status(): Promise<EngineStatus> {
    return { mode: 'local', ready: true, threads: this.threads, workers: [], queueDepth: this.waitingCount() + this.inFlight };
  }

  async close(): Promise<void> {
    for (const entry of [...this.waiting.interactive, ...this.waiting.batch]) {
      entry.resolve(failed({ code: 'INTERNAL', message: 'the pool was closed before this image started' }, 'local'));
    }
    this.waiting.interactive = [];
    this.waiting.batch = [];
    this.poolTasksWaiting = 0;
    if (this.pool) await (await this.pool).destroy();
  }

  private poolThreads(): Promise<Piscina> {
    this.pool ??= import('piscina').then(({ Piscina }) => new Piscina({
      filename: new URL('./worker-entry.cjs', import.meta.url).href,
      // Threads start with the first task that needs one (this pool is made then). One stays: piscina
      // replaces a thread ended for a stuck task only up to minThreads, and with none left the
      // tasks queued behind that one would wait for ever.
      minThreads: this.warm ? this.threads : 1,
      maxThreads: this.threads,
      idleTimeout: 30_000,
      workerData: this.workerData,
    }));
    return this.pool;
  }

  /** With `warm`: starts every thread and resolves once each has warmed up (a thread takes work only after). */
  async warmedUp(): Promise<void> {
    if (!this.warm) return;
    const pool = await this.poolThreads();
    // A new thread takes its first message once it has warmed up; piscina gives each idle thread one.
    await Promise.all(Array.from({ length: this.threads }, () => pool.run({ warm: true } satisfies PoolWarmMessage)));
  }

  private waitingCount(): number {
    return this.waiting.interactive.length + this.waiting.batch.length;
  }

  private feed(): void {
    for (;;) {
      const queue = this.waiting.interactive.length > 0 ? this.waiting.interactive : this.waiting.batch;
      const next = queue[0];
      if (!next || !this.roomFor(next.task)) return;
      const needsThread = next.task.work !== 'libvips';
      const here = needsThread && this.staysHere(next.task);
      if (here ? this.onMainNow > 0 : needsThread && !this.poolMayTake()) return;
      queue.shift();
      this.inFlight++;
      const onPool = needsThread && !here;
      if (needsThread) this.poolTasksWaiting--;
      if (onPool) {
        this.poolTasksSeen++;
        this.onPoolNow++;
      }
      if (here) this.onMainNow++;
      const running = onPool ? this.onPoolThread(next.task, next.signal) : here ? this.timedHere(next.task, next.signal) : this.fromHere(next.task, next.signal);
      void running.then((outcome) => {
        this.inFlight--;
        if (onPool) this.onPoolNow--;
        if (here) this.onMainNow--;
        next.resolve(outcome);
        this.feed();
      });
    }
  }

  /** Whether a task that needs a thread runs on this one instead (see LocalEngineOptions.batchImages). */
  private staysHere(task: Task): boolean {
    if (this.batchLeft === undefined || this.poolChosen || task.tile) return false;
    // The work after this task: the batch's images not yet given to run(), and those that wait here for a thread.
    const after = this.batchLeft + this.poolTasksWaiting - 1;
    // Warm images tell the time one takes; before them, an image so slow that even without its
    // one-off loads the rest would pay for the pool decides at once.
    const perImage = this.ranHere >= WARM_IMAGES ? this.quickestHere : this.ranHere > 0 ? this.quickestHere - ONE_OFF_LOADS_MS : 0;
    if (perImage * after > this.poolAfterMs) this.poolChosen = true;
    return !this.poolChosen;
  }

  private async timedHere(task: Task, signal: AbortSignal | undefined): Promise<Outcome> {
    const started = performance.now();
    const outcome = await this.fromHere(task, signal);
    if (outcome.ok) {
      this.ranHere++;
      this.quickestHere = Math.min(this.quickestHere, performance.now() - started);
      if (this.ranHere >= WARM_IMAGES) this.learnTaskTime(this.quickestHere);
    }
    return outcome;
  }

  /**
   * Starting a pool thread costs a fifth of a second of CPU: a few tasks that need one among
   * many that do not (a small JPEG in a folder of photos) share one thread; once they keep
   * coming, or wait together, they get every thread; a warm pool's threads have all started.
   */
  private poolMayTake(): boolean {
    const busy = this.warm || this.poolTasksSeen >= this.threads * 2 || this.poolTasksWaiting > 1;
    return this.onPoolNow < (busy ? this.maxInFlight() : 1);
  }

  /**
   * Started from this thread while libvips works in its own. The deadline stops libvips' work
   * as on a pool thread, and an abort stops the task at its next step.
   */
  private async fromHere(task: Task, signal: AbortSignal | undefined): Promise<Outcome> {
    const deadline = Date.now() + this.timeoutMs;
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(new ImgfleetError('TIMEOUT', `timed out after ${(this.timeoutMs / 1000).toFixed(1)} s`)), this.timeoutMs);
    const forward = () => stop.abort(signal!.reason instanceof ImgfleetError ? signal!.reason : new ImgfleetError('CANCELLED', 'cancelled: nobody waits for this image any more'));
    signal?.addEventListener('abort', forward, { once: true });
    try {
      const outcome = await executeTask(task, this.here, { signal: stop.signal, deadline });
      if (!outcome.ok && outcome.error.code === 'TIMEOUT') return failed({ code: 'TIMEOUT', message: `timed out after ${(this.timeoutMs / 1000).toFixed(1)} s` }, outcome.worker);
      return outcome;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', forward);
    }
  }

  /** The task's outcome from a group; undefined when the group failed as a whole. */
  private inGroup(message: PoolMessage): Promise<Outcome | undefined> {
    return new Promise((settle) => {
      if (this.gathered.length === 0) setImmediate(() => this.sendGathered());
      this.gathered.push({ message, settle });
    });
  }

  /** Sends what was gathered as groups of about equal size. */
  private sendGathered(): void {
    const gathered = this.gathered.splice(0);
    const groups = Math.ceil(gathered.length / this.groupSize);
    for (let i = 0; i < groups; i++) void this.sendGroup(gathered.slice(Math.floor((i * gathered.length) / groups), Math.floor(((i + 1) * gathered.length) / groups)));
  }

  private async sendGroup(group: Gathered[]): Promise<void> {
    const message: PoolGroupMessage = { group: group.map((g) => g.message) };
    // The thread is ended only for a task past its own deadline that does not stop. Then each
    // task of the group runs again alone, so that only that one fails.
    const overdue = this.whenOverdue(message.group.map((m) => m.cancelFlag));
    try {
      const { outcomes, ms } = await (await this.poolThreads()).run(message, { signal: overdue.signal }) as PoolGroupResult;
      this.learnTaskTime(ms / group.length);
      group.forEach((g, i) => g.settle(outcomes[i]));
    } catch {
      for (const g of group) g.settle(undefined);
    } finally {
      overdue.clear();
    }
  }

  /**
   * Aborts a run on a pool thread once the task running there has had its time and the grace to
   * stop, counted from that task's own start (its thread writes it into startedAt): tasks waiting
   * in the pool's queue behind a stuck one keep all of their time.
   */
  private whenOverdue(flags: number[]): { signal: AbortSignal; clear: () => void } {
    const stop = new AbortController();
    const allowedMs = this.timeoutMs + this.stopGraceMs;
    // Queued, a run waits at most for every run ahead of it to take all its time: past that, the
    // pool is not starting it at all, and it fails rather than wait for ever.
    const startBy = Date.now() + allowedMs * this.maxInFlight();
    let timer: NodeJS.Timeout;
    const look = () => {
      // The task of the run that started last is running now, or the one before it (a group runs
      // two at a time): a stuck one is found once the rest of its group has started, at the latest.
      let started = 0;
      for (const flag of flags) started = Math.max(started, this.startedAt[flag]);
      const due = started > 0 ? started + allowedMs : Math.min(Date.now() + allowedMs, startBy);
      if (Date.now() >= due) stop.abort(new ImgfleetError('TIMEOUT', started > 0 ? 'a task did not stop at its deadline: its thread was ended' : 'the pool never started this task'));
      else timer = setTimeout(look, due - Date.now());
    };
    timer = setTimeout(look, allowedMs);
    return { signal: stop.signal, clear: () => clearTimeout(timer) };
  }

  /** One task on a pool thread, by itself. */
  private async alone(message: PoolMessage): Promise<Outcome> {
    const { source } = message.task;
    this.startedAt[message.cancelFlag] = 0;
    const overdue = this.whenOverdue([message.cancelFlag]);
    try {
      return await (await this.poolThreads()).run(message, { signal: overdue.signal, transferList: source.kind === 'bytes' ? movable(source.bytes) : undefined });
    } finally {
      overdue.clear();
    }
  }

  /**
   * Runs a task on a pool thread; bytes that own their whole memory are moved there, not copied.
   * The thread is told the task's time, which counts from the task's start there (libvips stops
   * the work when it passes), and watches a flag that an abort sets; only a thread that does not
   * stop in time is ended and replaced (whenOverdue).
   */
  private async onPoolThread(task: Task, signal: AbortSignal | undefined): Promise<Outcome> {
    const flag = this.freeFlags.pop()!;
    Atomics.store(this.cancelFlags, flag, 0);
    this.startedAt[flag] = 0;
    const raise = () => Atomics.store(this.cancelFlags, flag, 1);
    signal?.addEventListener('abort', raise, { once: true });
    if (signal?.aborted) raise();
    try {
      const message: PoolMessage = { task, timeoutMs: this.timeoutMs, cancelFlag: flag };
      const inGroup = this.groupSize > 1 && task.priority !== 'interactive' && !task.tile && task.source.kind !== 'bytes';
      const outcome: Outcome = (inGroup ? await this.inGroup(message) : undefined) ?? await this.alone(message);
      if (outcome.ok && outcome.body) outcome.body = asBuffer(outcome.body);
      if (!outcome.ok && outcome.error.code === 'TIMEOUT') return failed({ code: 'TIMEOUT', message: `timed out after ${(this.timeoutMs / 1000).toFixed(1)} s` }, outcome.worker);
      return outcome;
    } catch (error) {
      const aborted = error instanceof Error && (error.name === 'AbortError' || /abort/i.test(error.message));
      const info = aborted
        ? { code: 'TIMEOUT' as const, message: `timed out after ${(this.timeoutMs / 1000).toFixed(1)} s` }
        : toErrorInfo(error instanceof ImgfleetError ? error : new ImgfleetError('INTERNAL', error instanceof Error ? error.message : String(error)));
      return failed(info, 'local');
    } finally {
      signal?.removeEventListener('abort', raise);
      this.freeFlags.push(flag);
    }
  }
}

/** The outcome of a task nobody waits for any more. */
export function cancelled(signal: AbortSignal): Outcome {
  return failed(toErrorInfo(signal.reason instanceof ImgfleetError ? signal.reason : new ImgfleetError('CANCELLED', 'cancelled: nobody waits for this image any more')), 'local');
}

/** The memory of bytes that own all of it, to move to a thread rather than copy; none for a view into shared memory. */
function movable(bytes: Uint8Array): ArrayBuffer[] | undefined {
  const { buffer, byteOffset, byteLength } = bytes;
  return buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength ? [buffer] : undefined;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
