/**
 * Identical work asked for while it is already running joins the running one instead of
 * starting again. Per process: servers each compute a result at most once at a time.
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): { result: Promise<T>; shared: boolean } {
    const running = this.flights.get(key);
    if (running) return { result: running, shared: true };
    const result = work().finally(() => this.flights.delete(key));
    this.flights.set(key, result);
    return { result, shared: false };
  }

  get size(): number {
    return this.flights.size;
  }
}
