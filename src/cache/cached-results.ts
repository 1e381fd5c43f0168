import type { Outcome } from '../task/task.js';
import type { CacheEntry } from './entry.js';
import type { ResultCache } from './result-cache.js';
import { SingleFlight } from './single-flight.js';

/** Where a result came from: the cache, a computation, or a computation another request started. */
export type CacheSource = 'hit' | 'miss' | 'shared';

export interface CacheEvents {
  hit?(): void;
  miss?(): void;
  /** A request joined an identical one in flight. */
  shared?(): void;
  evicted?(count: number): void;
  /** The store failed; the result is computed (or not kept) as if it were absent. */
  failed?(error: unknown): void;
}

/** What a computation made: its outcome, and the entry to keep (none when it failed or is too large to keep). */
export interface Computed {
  outcome: Outcome;
  entry?: CacheEntry;
  /** The address to keep it under, when the computation learnt it differs from the one looked up (another lane ran). */
  storeAs?: string;
}

export type Served =
  | { cache: 'hit'; entry: CacheEntry }
  | { cache: 'miss' | 'shared'; outcome: Outcome; entry?: CacheEntry };

/**
 * Results through the cache: looked up by content address, else computed once however many
 * identical requests arrive meanwhile (they wait for the first), then stored. Failures are
 * never stored. A store that is away only costs its hits.
 */
export class CachedResults {
  private readonly flights = new SingleFlight<Served>();

  constructor(readonly cache: ResultCache, private readonly events: CacheEvents = {}) {}

  async serve(key: string, compute: () => Promise<Computed>): Promise<Served> {
    const { result, shared } = this.flights.run(key, () => this.lookUpOrCompute(key, compute));
    const served = await result;
    if (!shared) return served;
    this.events.shared?.();
    return served.cache === 'miss' ? { ...served, cache: 'shared' } : served;
  }

  private async lookUpOrCompute(key: string, compute: () => Promise<Computed>): Promise<Served> {
    const stored = await this.cache.get(key).catch((error: unknown) => {
      this.events.failed?.(error);
      return undefined;
    });
    if (stored) {
      this.events.hit?.();
      return { cache: 'hit', entry: stored };
    }
    this.events.miss?.();
    const { outcome, entry, storeAs } = await compute();
    if (!outcome.ok || !entry) return { cache: 'miss', outcome };
    // Stored before answering, so the next identical request finds it.
    const evicted = await this.cache.put(storeAs ?? key, entry).catch((error: unknown) => {
      this.events.failed?.(error);
      return 0;
    });
    if (evicted > 0) this.events.evicted?.(evicted);
    return { cache: 'miss', outcome, entry: storeAs && storeAs !== key ? undefined : entry };
  }
}
