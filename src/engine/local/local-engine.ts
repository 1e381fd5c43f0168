import { Piscina } from 'piscina';
import { fromErrorInfo, toErrorInfo, type ErrorInfo } from '../../errors.js';
import type { TileResult, TileTask } from '../../tiling/tile-task.js';
import { defaultThreads } from '../tuning.js';
import type { BytesOutcome, BytesTask, Engine, FileTask, TaskOutcome, TileOutcome } from '../types.js';

export interface LocalEngineOptions {
  /** Worker threads. @defaultValue the machine's cores */
  threads?: number;
  /** A task running longer than this fails with TIMEOUT and its thread is replaced. @defaultValue 120 000 */
  timeoutMs?: number;
  /** Tasks allowed to wait for a thread; more are refused. @defaultValue 4 × threads */
  maxQueue?: number;
}

/** The embedded default: a pool of worker threads in this process, no server needed. */
export class LocalEngine implements Engine {
  readonly name = 'local';
  readonly capacity: number;
  private readonly threads: number;
  private readonly pool: Piscina;
  private readonly timeoutMs: number;

  constructor(options: LocalEngineOptions = {}) {
    const threads = options.threads ?? defaultThreads();
    this.threads = threads;
    this.capacity = threads * 2;
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.pool = new Piscina({
      filename: new URL('./worker-entry.cjs', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      maxQueue: options.maxQueue ?? threads * 4,
      idleTimeout: 30_000,
    });
  }

  async run(task: FileTask): Promise<TaskOutcome> {
    const outcome = await this.onThread<TaskOutcome>(task, 'default');
    return 'worker' in outcome ? outcome : { ...outcome, worker: 'local' };
  }

  /**
   * Runs the processor on bytes on a pool thread; the output bytes come back as a Buffer.
   * Input that owns its whole memory is moved to the thread, not copied: do not read it afterwards.
   */
  async runBytes(task: BytesTask): Promise<BytesOutcome> {
    const outcome = await this.onThread<BytesOutcome>(task, 'processBytes', movable(task.input));
    if (!('worker' in outcome)) return { ...outcome, worker: 'local' };
    if (outcome.ok && outcome.result.kind === 'image') {
      const { data } = outcome.result;
      outcome.result.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    }
    return outcome;
  }

  /** One tile per thread and one more waiting: more would only hold pixels in memory. */
  async tileCapacity(): Promise<number> {
    return this.threads + 1;
  }

  /** Runs one tile on a pool thread; pixels that own their memory are moved there, not copied. */
  async runTile(task: TileTask): Promise<TileResult> {
    const outcome = await this.onThread<TileOutcome>(task, 'processTile', movable(task.pixels));
    if (!outcome.ok) throw fromErrorInfo(outcome.error);
    return outcome.result;
  }

  private async onThread<T>(task: FileTask | BytesTask | TileTask, name: string, transferList?: ArrayBuffer[]): Promise<T | { ok: false; error: ErrorInfo }> {
    try {
      return await this.pool.run(task, { name, signal: AbortSignal.timeout(this.timeoutMs), transferList });
    } catch (error) {
      const aborted = error instanceof Error && (error.name === 'AbortError' || /abort/i.test(error.message));
      return {
        ok: false,
        error: aborted
          ? { code: 'TIMEOUT', message: `timed out after ${(this.timeoutMs / 1000).toFixed(1)} s` }
          : toErrorInfo(error),
      };
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

/** The memory of bytes that own all of it, to move to a thread rather than copy; none for a view into shared memory. */
function movable(bytes: Uint8Array): ArrayBuffer[] | undefined {
  const { buffer, byteOffset, byteLength } = bytes;
  return buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength ? [buffer] : undefined;
}
