import { Piscina } from 'piscina';
import { ImgfleetError, toErrorInfo } from '../../errors.js';
import type { AssetPolicy } from '../../io/assets.js';
import type { Limits } from '../../limits.js';
import { failed, type Outcome, type Priority, type Task } from '../../task/task.js';
import { hostname } from 'node:os';
import { AssetLoader } from '../../io/assets.js';
import { executeTask, type Place } from '../../task/execute.js';
import { localIo } from '../../task/task-io.js';
import { defaultThreads, tuneSharpForParallelImages } from '../tuning.js';
import type { Engine, EngineStatus } from '../types.js';
import type { PoolThreadSettings } from './worker.js';

export interface LocalEngineOptions {
  /** Worker threads. @defaultValue the machine's cores */
  threads?: number;
  /** A task running longer than this fails with TIMEOUT and its thread is replaced. @defaultValue 120 000 */
  timeoutMs?: number;
  /** Tasks allowed to wait for a thread; more fail at once with QUEUE_FULL. @defaultValue no limit */
  maxQueue?: number;
  /** Where watermark logos may come from. @defaultValue any path (the caller's own files) */
  assets?: AssetPolicy;
  /** Limits every task runs under; a task may tighten them. */
  limits?: Partial<Limits>;
}

interface Waiting {
  task: Task;
  resolve: (outcome: Outcome) => void;
}

/**
 * The embedded default: a pool of worker threads in this process, no server needed. Tasks
 * wait here, interactive ones first, and go on when a thread is about to be free: each thread
 * has one task running and one ready, so it never idles between images. A task whose work all
 * happens in libvips's own threads (Task.work) is started from this thread instead, as plain
 * sharp runs: it needs no JavaScript thread of its own, and the pool's threads start only when
 * a task that does comes.
 */
export class LocalEngine implements Engine {
  readonly mode = 'local';
  private readonly threads: number;
  private readonly pool: Piscina;
  private readonly timeoutMs: number;
  private readonly maxQueue: number;
  private readonly waiting: Record<Priority, Waiting[]> = { interactive: [], batch: [] };
  private inPool = 0;
  /** Tasks given to pool threads so far, and now. */
  private poolTasksSeen = 0;
  private poolTasksWaiting = 0;
  private onPoolNow = 0;
  private readonly here: Place;

  constructor(options: LocalEngineOptions = {}) {
    this.threads = options.threads ?? defaultThreads();
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.maxQueue = options.maxQueue ?? Number.POSITIVE_INFINITY;
    const workerData: PoolThreadSettings = { assets: options.assets ?? { kind: 'paths' }, limits: options.limits };
    this.pool = new Piscina({
      filename: new URL('./worker-entry.cjs', import.meta.url).href,
      // Threads start with the first task that needs one.
      minThreads: 0,
      maxThreads: this.threads,
      idleTimeout: 30_000,
      workerData,
    });
    tuneSharpForParallelImages();
    this.here = { worker: `${hostname()}/main`, io: localIo(), limits: options.limits, assets: new AssetLoader(workerData.assets) };
  }

  run(task: Task): Promise<Outcome> {
    if (this.waitingCount() >= this.maxQueue) {
      return Promise.resolve(failed({ code: 'QUEUE_FULL', message: `the pool is busy (${this.waitingCount()} images waiting, limit ${this.maxQueue}); retry shortly` }, 'local'));
    }
    return new Promise((resolve) => {
      this.waiting[task.priority === 'interactive' ? 'interactive' : 'batch'].push({ task, resolve });
      if (task.work !== 'libvips') this.poolTasksWaiting++;
      this.feed();
    });
  }

  async slots(kind: 'image' | 'tile'): Promise<number> {
    // Tiles hold their pixels in memory while they wait: one a thread and one more is enough.
    return kind === 'tile' ? this.threads + 1 : this.threads * 2;
  }

  async status(): Promise<EngineStatus> {
    return { mode: 'local', ready: true, threads: this.threads, workers: [], queueDepth: this.waitingCount() + this.inPool };
  }

  async close(): Promise<void> {
    for (const entry of [...this.waiting.interactive, ...this.waiting.batch]) {
      entry.resolve(failed({ code: 'INTERNAL', message: 'the pool was closed before this image started' }, 'local'));
    }
    this.waiting.interactive = [];
    this.waiting.batch = [];
    this.poolTasksWaiting = 0;
    await this.pool.destroy();
  }

  private waitingCount(): number {
    return this.waiting.interactive.length + this.waiting.batch.length;
  }

  private feed(): void {
    while (this.inPool < this.threads * 2) {
      const queue = this.waiting.interactive.length > 0 ? this.waiting.interactive : this.waiting.batch;
      const next = queue[0];
      if (!next) return;
      const onPool = next.task.work !== 'libvips';
      if (onPool && !this.poolMayTake()) return;
      queue.shift();
      this.inPool++;
      if (onPool) {
        this.poolTasksSeen++;
        this.poolTasksWaiting--;
        this.onPoolNow++;
      }
      void this.onThread(next.task).then((outcome) => {
        this.inPool--;
        if (onPool) this.onPoolNow--;
        next.resolve(outcome);
        this.feed();
      });
    }
  }

  /**
   * Starting a pool thread costs a fifth of a second of CPU: a few tasks that need one among
   * many that do not (a small JPEG in a folder of photos) share one thread; once they keep
   * coming, or wait together, they get every thread.
   */
  private poolMayTake(): boolean {
    const busy = this.poolTasksSeen >= this.threads * 2 || this.poolTasksWaiting > 1;
    return this.onPoolNow < (busy ? this.threads * 2 : 1);
  }

  /** Runs a task: from this thread when libvips does all its work, else on a pool thread. */
  private onThread(task: Task): Promise<Outcome> {
    return task.work === 'libvips' ? this.fromHere(task) : this.onPoolThread(task);
  }

  /** Started from this thread; libvips works in its own threads meanwhile. Past the time limit the outcome is TIMEOUT. */
  private async fromHere(task: Task): Promise<Outcome> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => resolve(failed({ code: 'TIMEOUT', message: `timed out after ${(this.timeoutMs / 1000).toFixed(1)} s` }, 'local')), this.timeoutMs);
    });
    try {
      return await Promise.race([executeTask(task, this.here), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs a task on a pool thread; bytes that own their whole memory are moved there, not copied. */
  private async onPoolThread(task: Task): Promise<Outcome> {
    try {
      const transferList = task.source.kind === 'bytes' ? movable(task.source.bytes) : undefined;
      const outcome: Outcome = await this.pool.run(task, { signal: AbortSignal.timeout(this.timeoutMs), transferList });
      if (outcome.ok && outcome.body) outcome.body = asBuffer(outcome.body);
      return outcome;
    } catch (error) {
      const aborted = error instanceof Error && (error.name === 'AbortError' || /abort/i.test(error.message));
      const info = aborted
        ? { code: 'TIMEOUT' as const, message: `timed out after ${(this.timeoutMs / 1000).toFixed(1)} s` }
        : toErrorInfo(error instanceof ImgfleetError ? error : new ImgfleetError('INTERNAL', error instanceof Error ? error.message : String(error)));
      return failed(info, 'local');
    }
  }
}

/** The memory of bytes that own all of it, to move to a thread rather than copy; none for a view into shared memory. */
function movable(bytes: Uint8Array): ArrayBuffer[] | undefined {
  const { buffer, byteOffset, byteLength } = bytes;
  return buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength ? [buffer] : undefined;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
