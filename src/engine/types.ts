import type { Outcome, Task } from '../task/task.js';

export type EngineMode = 'local' | 'sequential' | 'cluster';

/** A cluster worker as it last reported itself. */
export interface WorkerInfo {
  name: string;
  host: string;
  pid: number;
  concurrency: number;
  done: number;
  failed: number;
  rejected: number;
  active: number;
  startedAt: number;
  lastSeen: number;
  /** The most images the worker takes in one job. */
  jobItems: number;
}

export interface EngineStatus {
  mode: EngineMode;
  /** Whether work given now would start: a cluster needs its Redis and a live worker. */
  ready: boolean;
  /** Why it is not ready. */
  reason?: string;
  /** Threads that run images: the pool's, or the live cluster workers' together. */
  threads: number;
  /** The live cluster workers (none in local modes). */
  workers: WorkerInfo[];
  /** Tasks given and not yet finished (cluster: jobs waiting in the queue too). */
  queueDepth: number;
}

/**
 * What moves tasks to where they run: the worker-thread pool here, the calling thread, or a
 * cluster. Engines only move tasks; the runner in front of them (src/runner/) decides the
 * cache and tiling, and the executor (src/task/execute.ts) does the work wherever it lands.
 */
/** What the one who asked for a task can do while it runs. */
export interface RunOptions {
  /**
   * Aborted when nobody waits for the outcome any more (the client went away): a task still
   * waiting never starts, a running one stops at its next step; the outcome is CANCELLED.
   */
  signal?: AbortSignal;
}

export interface Engine {
  readonly mode: EngineMode;
  /** Runs one task; never throws: failures come back as the outcome. */
  run(task: Task, options?: RunOptions): Promise<Outcome>;
  /** How many tasks of a kind are worth having in flight to keep it busy (tiles: one a thread and one waiting). */
  slots(kind: 'image' | 'tile'): Promise<number>;
  status(): Promise<EngineStatus>;
  /** Resolves once work given now starts without one-off loads (a server's local pool: its threads warmed up). */
  warmedUp?(): Promise<void>;
  close(): Promise<void>;
}
