import { ImgfleetError } from '../errors.js';

/**
 * Backpressure: admits work up to a fixed amount and refuses the rest with 429 and a
 * Retry-After, so a flood of requests costs the server a bounded amount of memory.
 */
export class Admission {
  private used = 0;

  constructor(readonly limit: number, private readonly what: string) {}

  get inUse(): number {
    return this.used;
  }

  take(amount = 1): void {
    if (this.used + amount > this.limit) {
      throw new ImgfleetError('QUEUE_FULL', `the server is busy (${this.used} ${this.what} in progress, limit ${this.limit}); retry shortly`);
    }
    this.used += amount;
  }

  release(amount = 1): void {
    this.used = Math.max(0, this.used - amount);
  }
}
