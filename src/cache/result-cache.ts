import type { CacheEntry } from './entry.js';

/**
 * Results by content address (see result-key.ts), shared by every server and batch that uses
 * the same store: a folder on local disk, or Redis for a cluster. Each keeps its own byte
 * budget and evicts the least recently used entries beyond it.
 */
export interface ResultCache {
  /** `disk`, `redis` or `none`. */
  readonly kind: string;
  /** The largest entry it keeps: its byte budget (none keeps nothing). */
  readonly budgetBytes: number;
  /** The entry, marked as just used; undefined when absent. */
  get(key: string): Promise<CacheEntry | undefined>;
  /** Stores an entry, then evicts the least recently used ones over the budget; returns how many went. */
  put(key: string, entry: CacheEntry): Promise<number>;
  /** Bytes held now (entries with their metadata). */
  storedBytes(): Promise<number>;
  close(): Promise<void>;
}

/** For servers and batches run with --no-cache: nothing is kept. */
export class NoCache implements ResultCache {
  readonly kind = 'none';
  readonly budgetBytes = 0;
  async get(): Promise<undefined> {
    return undefined;
  }
  async put(): Promise<number> {
    return 0;
  }
  async storedBytes(): Promise<number> {
    return 0;
  }
  async close(): Promise<void> {}
}

export const KEY_PATTERN = /^[0-9a-f]{64}$/;
