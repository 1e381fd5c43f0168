/**
 * The load the HTTP workloads put on a server: `clients` loops, each sending the next of `count`
 * requests as soon as its last one is answered. A failed request is the caller's to count.
 */
export async function closedLoop(count: number, clients: number, send: (index: number) => Promise<void>): Promise<{ wallS: number; latenciesMs: number[] }> {
  const latenciesMs: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < count) {
      const index = next++;
      const t0 = performance.now();
      await send(index);
      latenciesMs.push(performance.now() - t0);
    }
  }));
  latenciesMs.sort((a, b) => a - b);
  return { wallS: (performance.now() - started) / 1000, latenciesMs };
}

/** The latency below which a share `q` of the requests were answered, in ms to a tenth. */
export function latencyAt(sortedMs: number[], q: number): number {
  if (sortedMs.length === 0) return 0;
  return Math.round(sortedMs[Math.min(sortedMs.length - 1, Math.floor(q * sortedMs.length))] * 10) / 10;
}
