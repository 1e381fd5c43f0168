import { Piscina } from 'piscina';
import { ImgfleetError, toErrorInfo } from '../../errors.js';
import type { AssetPolicy } from '../../io/assets.js';
import type { Limits } from '../../limits.js';
import { failed, type Outcome, type Priority, type Task } from '../../task/task.js';
import { defaultThreads } from '../tuning.js';
import type { Engine, EngineStatus } from '../types.js';
import type { S3Settings } from '../../sources/s3/s3-settings.js';
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
  /** The object store that tasks' object sources and sinks live in. */
  s3?: S3Settings;
}

interface Waiting {
  task: Task;
  resolve: (outcome: Outcome) => void;
}

/**
 * The embedded default: a pool of worker threads in this process, no server needed. Tasks
 * wait here, interactive ones first, and go to the pool when a thread is about to be free:
 * each thread has one task running and one ready, so it never idles between images.
 */
export class LocalEngine implements Engine {
  readonly mode = 'local';
  private readonly threads: number;
  private readonly pool: Piscina;
  private readonly timeoutMs: number;
  private readonly maxQueue: number;
  private readonly waiting: Record<Priority, Waiting[]> = { interactive: [], batch: [] };
  private inPool = 0;

  constructor(options: LocalEngineOptions = {}) {
    this.threads = options.threads ?? defaultThreads();
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.maxQueue = options.maxQueue ?? Number.POSITIVE_INFINITY;
    const workerData: PoolThreadSettings = { assets: options.assets ?? { kind: 'paths' }, limits: options.limits, s3: options.s3 };
    this.pool = new Piscina({
      filename: new URL('./worker-entry.cjs', import.meta.url).href,
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: 30_000,
      workerData,
    });
  }

  run(task: Task): Promise<Outcome> {
    if (this.waitingCount() >= this.maxQueue) {
      return Promise.resolve(failed({ code: 'QUEUE_FULL', message: `the pool is busy (${this.waitingCount()} images waiting, limit ${this.maxQueue}); retry shortly` }, 'local'));
    }
    return new Promise((resolve) => {
      this.waiting[task.priority === 'interactive' ? 'interactive' : 'batch'].push({ task, resolve });
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
    await this.pool.destroy();
  }

  private waitingCount(): number {
    return this.waiting.interactive.length + this.waiting.batch.length;
  }

  private feed(): void {
    while (this.inPool < this.threads * 2) {
      const next = this.waiting.interactive.shift() ?? this.waiting.batch.shift();
      if (!next) return;
      this.inPool++;
      void this.onThread(next.task).then((outcome) => {
        this.inPool--;
        next.resolve(outcome);
        this.feed();
      });
    }
  }

  /** Runs a task on a pool thread; bytes that own their whole memory are moved there, not copied. */
  private async onThread(task: Task): Promise<Outcome> {
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
