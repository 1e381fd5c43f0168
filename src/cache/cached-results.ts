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
 * Results held while they are stored, past which a result is stored before it is answered: a
 * slow store then slows its requests instead of filling memory.
 */
const MAX_STORING_BYTES = 64 * 1024 * 1024;

/**
 * Results through the cache: looked up by content address, else computed once however many
 * identical requests arrive meanwhile (they wait for the first), then stored. A result is
 * answered while it is stored (the store's writes took 1.5-2 ms of each request), and a request
 * for it meanwhile gets it as a hit. Failures are never stored. A store that is away only costs
 * its hits.
 */
export class CachedResults {
  private readonly flights = new SingleFlight<Served>();
  /** Results answered and still being stored, by the address they are stored under. */
  private readonly storing = new Map<string, CacheEntry>();
  private storingBytes = 0;
  private readonly stores = new Set<Promise<void>>();

  constructor(readonly cache: ResultCache, private readonly events: CacheEvents = {}) {}

  async serve(key: string, compute: () => Promise<Computed>): Promise<Served> {
    const beingStored = this.storing.get(key);
    if (beingStored) {
      this.events.hit?.();
      return { cache: 'hit', entry: beingStored };
    }
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
    const storing = this.store(storeAs ?? key, entry);
    if (this.storingBytes > MAX_STORING_BYTES) await storing;
    return { cache: 'miss', outcome, entry: storeAs && storeAs !== key ? undefined : entry };
  }

  /** Stores an entry; until it is stored, requests for it get it from memory. */
  private store(key: string, entry: CacheEntry): Promise<void> {
    const size = entry.body.length;
    this.storing.set(key, entry);
    this.storingBytes += size;
    const stored = this.cache.put(key, entry).then(
      (evicted) => { if (evicted > 0) this.events.evicted?.(evicted); },
      (error: unknown) => this.events.failed?.(error),
    ).finally(() => {
      if (this.storing.get(key) === entry) this.storing.delete(key);
      this.storingBytes -= size;
      this.stores.delete(stored);
    });
    this.stores.add(stored);
    return stored;
  }

  /** Resolves once every result answered so far is stored (before the store closes). */
  async settled(): Promise<void> {
    while (this.stores.size > 0) await Promise.all(this.stores);
  }
}
