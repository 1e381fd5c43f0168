import { ImgfleetError } from '../errors.js';
import { formatBytes } from '../limits.js';

/**
 * Bytes of request bodies in flight, in memory or waiting on disk, against one budget: what
 * bounds the server's memory is bytes, not the number of requests.
 */
export class ByteBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Takes `bytes`, or refuses with QUEUE_FULL (429) when they do not fit now. */
  take(bytes: number): void {
    if (this.used + bytes > this.limit) {
      throw new ImgfleetError('QUEUE_FULL', `the server is receiving as much as it holds at once (${formatBytes(this.used)} of ${formatBytes(this.limit)} in flight, this request needs ${formatBytes(bytes)} more); retry shortly`);
    }
    this.used += bytes;
  }

  /** Counts `bytes` that are already here (a result on its way out), over the budget if need be: new bodies wait until they are sent. */
  hold(bytes: number): void {
    this.used += bytes;
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}
