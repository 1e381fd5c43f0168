/**
 * W6: image URLs under load. 1,000 requests over 100 distinct signed URLs (10 photos × 10
 * widths, `output:auto` negotiated to WebP) from 50 concurrent clients, on `imgfleet serve`
 * with an empty result cache (cold), then the same requests again (warm).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signedPath } from '../src/server/signing.js';
import { closedLoop, latencyAt } from './closed-loop.js';
import { cpuOf, startBenchCluster } from './cluster.js';
import { startServe } from './serve-process.js';

export interface UrlLoadMeasurement {
  workload: 'W6';
  variant: string;
  phase: 'cold' | 'warm';
  clients: number;
  requests: number;
  distinctUrls: number;
  errors: number;
  wallS: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** Requests answered without computing: from the cache, or by waiting for an identical request in flight. */
  hitRatio: number;
  /** Requests that computed their image. */
  misses: number;
  /** CPU of the server, its workers and Redis, and the clients, per request. */
  cpuMsPerRequest: number;
}

// The server refuses signing keys shorter than 32 bytes.
const KEY = 'bench-key-0123456789abcdef0123456789';
const WIDTHS = [160, 200, 240, 280, 320, 360, 400, 440, 480, 520];

export async function urlLoad(root: string, photos: string, clients: number, requests: number): Promise<UrlLoadMeasurement[]> {
  const bin = join(root, 'bin', 'imgfleet.js');
  const work = mkdtempSync(join(tmpdir(), 'imgfleet-w6-'));
  const sources = join(work, 'sources');
  mkdirSync(sources);
  const names = readdirSync(photos).filter((f) => f.endsWith('.jpg')).sort().slice(0, 10);
  for (const name of names) copyFileSync(join(photos, name), join(sources, name));
  const urls = names.flatMap((name) => WIDTHS.map((w) => signedPath(`/resize:${w},output:auto/${name}`, [KEY])));
  // Every URL equally often, in an order fixed by a seed, so cold and warm runs send the same sequence.
  const order = shuffled(Array.from({ length: requests }, (_, i) => urls[i % urls.length]), 6);

  const results: UrlLoadMeasurement[] = [];
  const serve = async (variant: string, extra: string[], others: () => number = () => 0) => {
    const server = await startServe(bin, ['--source-dir', sources, ...extra], { IMGFLEET_KEY: KEY });
    try {
      const base = server.url;
      for (const phase of ['cold', 'warm'] as const) {
        const cpuBefore = cpuOf(server.pid) + others() + process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6;
        const run = await load(base, order, clients);
        const cpu = cpuOf(server.pid) + others() + process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 - cpuBefore;
        results.push({
          workload: 'W6', variant, phase, clients, requests: order.length, distinctUrls: urls.length, errors: run.errors, wallS: run.wallS,
          requestsPerSecond: order.length / run.wallS, latencyMs: run.latencyMs, hitRatio: run.served / order.length,
          misses: run.misses, cpuMsPerRequest: (cpu * 1000) / order.length,
        });
      }
    } finally {
      await server.stop();
    }
  };

  try {
    await serve('imgfleet serve (local pool, disk cache)', ['--cache-dir', join(work, 'cache')]);
    const cluster = await startBenchCluster(bin, 2, 1);
    try {
      await serve('imgfleet serve --redis (2 workers × 1 thread, Redis cache)', ['--redis', cluster.url], () => cluster.cpuSeconds());
    } finally {
      await cluster.stop();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return results;
}

/** The requests of `order` from `clients` clients, counting what the cache answered. */
async function load(base: string, order: string[], clients: number) {
  let errors = 0;
  let served = 0;
  let misses = 0;
  const { wallS, latenciesMs } = await closedLoop(order.length, clients, async (i) => {
    try {
      const response = await fetch(base + order[i], { headers: { accept: 'image/webp,image/*,*/*;q=0.8' } });
      await response.arrayBuffer();
      if (response.status !== 200) errors++;
      const cache = response.headers.get('x-imgfleet-cache');
      if (cache === 'miss') misses++;
      else if (cache === 'hit' || cache === 'shared') served++;
    } catch {
      errors++;
    }
  });
  const at = (q: number) => latencyAt(latenciesMs, q);
  return { wallS, errors, served, misses, latencyMs: { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) } };
}

function shuffled<T>(items: T[], seed: number): T[] {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x80000000;
  };
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
