import { ImgfleetError } from '../errors.js';

/**
 * Backpressure: admits work up to a fixed amount, and each client (by address) up to a share of
 * it, and refuses the rest with 429 and a Retry-After, so a flood costs the server a bounded
 * amount and one client cannot take every slot.
 */
export class Admission {
  private used = 0;
  private readonly byClient = new Map<string, number>();

  constructor(readonly limit: number, private readonly what: string, readonly perClient = limit) {}

  get inUse(): number {
    return this.used;
  }

  /** Takes one slot for `client`; returns what gives it back (once, however often it is called). */
  take(client = ''): () => void {
    if (this.used >= this.limit) {
      throw new ImgfleetError('QUEUE_FULL', `the server is busy (${this.used} ${this.what} in progress, limit ${this.limit}); retry shortly`);
    }
    const mine = this.byClient.get(client) ?? 0;
    if (mine >= this.perClient) {
      throw new ImgfleetError('QUEUE_FULL', `too many ${this.what} from one client at once (limit ${this.perClient}); retry when some have finished`);
    }
    this.used++;
    this.byClient.set(client, mine + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.used--;
      const left = (this.byClient.get(client) ?? 1) - 1;
      if (left <= 0) this.byClient.delete(client);
      else this.byClient.set(client, left);
    };
  }
}
