import type { ErrorInfo } from '../errors.js';
import type { BytesOutcome } from '../engine/types.js';
import type { ProcessStats } from '../pipeline/process.js';
import { entryOf, type CacheEntry } from './entry.js';
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

export type Served =
  | { ok: true; entry: CacheEntry; cache: CacheSource; worker?: string; stats?: ProcessStats }
  | { ok: false; error: ErrorInfo; worker: string };

/**
 * Results through the cache: looked up by content address, else computed once however many
 * identical requests arrive meanwhile (they wait for the first), then stored. Failures are
 * never stored. A store that is away only costs its hits.
 */
export class CachedResults {
  private readonly flights = new SingleFlight<Served>();

  constructor(readonly cache: ResultCache, private readonly events: CacheEvents = {}) {}

  async serve(key: string, compute: () => Promise<BytesOutcome>): Promise<Served> {
    const { result, shared } = this.flights.run(key, () => this.lookUpOrCompute(key, compute));
    const served = await result;
    if (!shared) return served;
    this.events.shared?.();
    return served.ok && served.cache === 'miss' ? { ...served, cache: 'shared' } : served;
  }

  private async lookUpOrCompute(key: string, compute: () => Promise<BytesOutcome>): Promise<Served> {
    const stored = await this.cache.get(key).catch((error: unknown) => {
      this.events.failed?.(error);
      return undefined;
    });
    if (stored) {
      this.events.hit?.();
      return { ok: true, entry: stored, cache: 'hit' };
    }
    this.events.miss?.();
    const outcome = await compute();
    if (!outcome.ok) return outcome;
    const entry = entryOf(outcome.result);
    // Stored before answering, so the next identical request finds it.
    const evicted = await this.cache.put(key, entry).catch((error: unknown) => {
      this.events.failed?.(error);
      return 0;
    });
    if (evicted > 0) this.events.evicted?.(evicted);
    return { ok: true, entry, cache: 'miss', worker: outcome.worker, stats: outcome.result.stats };
  }
}
