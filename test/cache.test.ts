import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { CachedResults } from '../src/cache/cached-results.js';
import { DiskCache } from '../src/cache/disk-cache.js';
import type { CacheEntry } from '../src/cache/entry.js';
import { RedisCache } from '../src/cache/redis-cache.js';
import type { ResultCache } from '../src/cache/result-cache.js';
import { resultKeyOf } from '../src/cache/result-key.js';
import { sha256 } from '../src/sources/source-store.js';
import type { Computed } from '../src/cache/cached-results.js';
import { negotiateFormat, resolveAutoFormat } from '../src/pipeline/negotiate.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { parseCompact } from '../src/pipeline/compact.js';
import { droppingProxy, REDIS_URL, submit, testPrefix } from './cluster-helpers.js';
import { cli, synthetic, tempDir, toPng } from './helpers.js';
import { startCluster } from './server-helpers.js';

const STATS = { input: { format: 'png', width: 4, height: 4, bytes: 10 }, path: 'libvips' as const, probeMs: 0, steps: [], encodeMs: 0, totalMs: 0 };

/** An entry whose stored size is about `size` bytes. */
function entry(fill: number, size = 1000): CacheEntry {
  return { meta: { kind: 'image', format: 'png', width: 4, height: 4, input: STATS.input }, body: Buffer.alloc(size, fill) };
}

/** `count` small PNGs, each different. */
async function distinctPngs(dir: string, count: number): Promise<string> {
  const input = join(dir, 'in');
  mkdirSync(input);
  for (let i = 0; i < count; i++) {
    writeFileSync(join(input, `${i}.png`), await toPng(synthetic(64, 48, 3, (x, y, c) => (x * 3 + y * 2 + c * 40 + i * 25) % 256)));
  }
  return input;
}

const key = (n: number) => n.toString(16).padStart(64, '0');

/** The same behaviour from every store: round trip, and eviction of the least recently used beyond the budget. */
async function conformance(open: (budget: number) => Promise<ResultCache>): Promise<void> {
  const cache = await open(4000);
  try {
    assert.equal(await cache.get(key(1)), undefined);
    assert.equal(await cache.put(key(1), entry(1)), 0);
    const back = await cache.get(key(1));
    assert.deepEqual(back?.meta, entry(1).meta);
    assert.ok(back?.body.equals(entry(1).body));

    assert.equal(await cache.put(key(2), entry(2)), 0);
    assert.equal(await cache.put(key(3), entry(3)), 0);
    // 1 is used again, so 2 is now the least recently used; a fourth entry is over the budget.
    await new Promise((r) => setTimeout(r, 5));
    assert.ok(await cache.get(key(1)));
    assert.equal(await cache.put(key(4), entry(4)), 1);
    assert.equal(await cache.get(key(2)), undefined, 'the least recently used entry went');
    for (const n of [1, 3, 4]) assert.ok(await cache.get(key(n)), `entry ${n} kept`);
    const stored = await cache.storedBytes();
    assert.ok(stored <= 4000 && stored >= 3000, `stored ${stored} bytes within the budget`);
    // An entry larger than the whole budget is not kept, and evicts nothing.
    assert.equal(await cache.put(key(5), entry(5, 5000)), 0);
    assert.equal(await cache.get(key(5)), undefined);
  } finally {
    await cache.close();
  }
}

describe('result cache', () => {
  it('disk: round trip, LRU eviction under a small budget, and the order survives a reopen', async (t) => {
    const dir = join(tempDir(t), 'cache');
    await conformance((budget) => DiskCache.open(dir, budget));
    // Used in the order 1, 3, 4 by one process; another that opens the folder later evicts 1 first.
    const pause = () => new Promise((r) => setTimeout(r, 10));
    const first = await DiskCache.open(dir, 4000);
    for (const n of [1, 3, 4]) {
      await pause();
      assert.ok(await first.get(key(n)));
    }
    const again = await DiskCache.open(dir, 4000);
    assert.ok(await again.storedBytes() >= 3000);
    assert.equal(await again.put(key(6), entry(6)), 1);
    assert.equal(await again.get(key(1)), undefined);
    assert.ok(await again.get(key(6)));
    const files = readdirSync(dir, { recursive: true }).map(String).filter((f) => /[0-9a-f]{64}$/.test(f));
    assert.equal(files.length, 3, 'one file per entry, no temporary files');
  });

  it('Redis: round trip and LRU eviction under its own budget, under its own prefix', async (t) => {
    const prefix = testPrefix(t);
    await conformance((budget) => RedisCache.open(REDIS_URL, prefix, budget));
    const redis = new Redis(REDIS_URL);
    t.after(() => redis.disconnect());
    const keys = await redis.keys(`${prefix}:*`);
    assert.ok(keys.every((k) => k.startsWith(`${prefix}:cache:`)), 'every key under <prefix>:cache:');

    // An entry Redis evicted by itself (maxmemory) is a miss, and leaves the budget's count.
    const cache = await RedisCache.open(REDIS_URL, prefix, 4000);
    t.after(() => cache.close());
    const before = await cache.storedBytes();
    await redis.del(`${prefix}:cache:e:${key(4)}`);
    assert.equal(await cache.get(key(4)), undefined);
    assert.ok(await cache.storedBytes() < before);
  });

  it('Redis: a cache lost mid-question behind a load balancer fails the question within seconds, never holding a request', async (t) => {
    const proxy = await droppingProxy(t, 'eval(sha)?');
    const cache = await RedisCache.open(proxy.url, testPrefix(t), 4000);
    t.after(() => cache.close());
    const started = Date.now();
    await assert.rejects(cache.get(key(1)));
    assert.ok(proxy.dropped(), 'the proxy saw the cache asked');
    assert.ok(Date.now() - started < 10_000, `failed after ${Date.now() - started} ms`);
  });

  it('identical work in flight is computed once; failures are not kept', async (t) => {
    const cache = await DiskCache.open(join(tempDir(t), 'c'), 1 << 20);
    const results = new CachedResults(cache);
    let computed = 0;
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => { finish = resolve; });
    const compute = async (): Promise<Computed> => {
      computed++;
      await gate;
      return { outcome: { ok: true, worker: 'w', stats: STATS }, entry: entry(7, 10) };
    };
    const first = results.serve(key(1), compute);
    const second = results.serve(key(1), compute);
    finish();
    const served = await Promise.all([first, second]);
    assert.equal(computed, 1);
    assert.deepEqual(served.map((s) => s.cache), ['miss', 'shared']);
    const third = await results.serve(key(1), compute);
    assert.equal(third.cache, 'hit');
    assert.equal(computed, 1);

    let failures = 0;
    const failing = async (): Promise<Computed> => {
      failures++;
      return { outcome: { ok: false, error: { code: 'CORRUPT_IMAGE', message: 'bad' }, worker: 'w' } };
    };
    await results.serve(key(2), failing);
    await results.serve(key(2), failing);
    assert.equal(failures, 2, 'a failure is computed again, never served from the cache');
  });

  it('answers a result while it is stored: a request meanwhile gets it from memory, and settled() waits for the store', async (t) => {
    const disk = await DiskCache.open(join(tempDir(t), 'c'), 256 << 20);
    let release!: () => void;
    const storeMayFinish = new Promise<void>((resolve) => { release = resolve; });
    const puts: string[] = [];
    const slowStore: ResultCache = {
      kind: 'disk', budgetBytes: disk.budgetBytes, get: (k) => disk.get(k), storedBytes: () => disk.storedBytes(), close: () => disk.close(),
      put: async (k, e) => { puts.push(k); await storeMayFinish; return disk.put(k, e); },
    };
    const results = new CachedResults(slowStore);
    const compute = async (): Promise<Computed> => ({ outcome: { ok: true, worker: 'w', stats: STATS }, entry: entry(7, 10) });
    const first = await results.serve(key(1), compute);
    assert.equal(first.cache, 'miss', 'answered while its store has not finished');
    assert.deepEqual(puts, [key(1)]);
    const meanwhile = await results.serve(key(1), async () => assert.fail('computed again while it was being stored'));
    assert.equal(meanwhile.cache, 'hit');
    assert.deepEqual(meanwhile.cache === 'hit' && [...meanwhile.entry.body], [...entry(7, 10).body]);
    let settled = false;
    const waiting = results.settled().then(() => { settled = true; });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(settled, false, 'settled() waits for the store');
    release();
    await waiting;
    assert.equal((await disk.get(key(1)))?.body.length, 10, 'stored once settled');

    // Past 64 MiB waiting to be stored, a result is stored before it is answered: a slow store
    // slows its requests instead of filling memory.
    let releaseLarge!: () => void;
    const largeMayFinish = new Promise<void>((resolve) => { releaseLarge = resolve; });
    const held = new CachedResults({ ...slowStore, put: async (k, e) => { await largeMayFinish; return disk.put(k, e); } });
    const large = (fill: number) => async (): Promise<Computed> => ({ outcome: { ok: true, worker: 'w', stats: STATS }, entry: entry(fill, 40 << 20) });
    assert.equal((await held.serve(key(2), large(2))).cache, 'miss', 'the first 40 MiB is answered before it is stored');
    let answered = false;
    const second = held.serve(key(3), large(3)).then((served) => { answered = true; return served; });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(answered, false, 'the next waits for its store');
    releaseLarge();
    assert.equal((await second).cache, 'miss');
    await held.settled();
  });

  it('the content address: source bytes, normalised pipeline, negotiated format and the lane that makes it', () => {
    const spec = (text: string) => validatePipeline(parseCompact(text)).spec;
    const resultKey = (bytes: Buffer, pipeline: ReturnType<typeof spec>, lane = 'libvips') => resultKeyOf(sha256(bytes), pipeline, lane);
    const a = Buffer.from('source a');
    const base = resultKey(a, spec('resize:100,output:webp'));
    assert.match(base, /^[0-9a-f]{64}$/);
    assert.equal(resultKey(a, spec('resize:width=100:fit=inside,output:format=webp')), base, 'equal after normalisation');
    assert.notEqual(resultKey(Buffer.from('source b'), spec('resize:100,output:webp')), base);
    assert.notEqual(resultKey(a, spec('resize:101,output:webp')), base);
    assert.notEqual(resultKey(a, spec('resize:100,output:avif')), base);
    assert.notEqual(resultKey(a, spec('resize:100,output:webp'), 'jpeg-turbo'), base, 'lanes are kept apart');
    assert.throws(() => resultKey(a, spec('resize:100,output:auto')), /negotiated/);
  });

  it('format negotiation: AVIF, then WebP, then the source’s format; wildcards and q=0 do not count', () => {
    assert.equal(negotiateFormat('image/avif,image/webp,image/apng,image/*,*/*;q=0.8'), 'avif');
    assert.equal(negotiateFormat('image/webp,*/*'), 'webp');
    assert.equal(negotiateFormat('image/avif;q=0, image/webp'), 'webp');
    assert.equal(negotiateFormat('image/*,*/*;q=0.8'), undefined);
    assert.equal(negotiateFormat(undefined), undefined);
    const auto = validatePipeline(parseCompact('blur:2,output:auto:70'));
    assert.deepEqual(resolveAutoFormat(auto, 'image/avif').spec.output, { quality: 70, format: 'avif' });
    assert.deepEqual(resolveAutoFormat(auto, 'text/html').spec.output, { quality: 70 });
  });

  it('imgfleet run --cache-dir: a second run over the same inputs comes from the cache, byte for byte; --no-cache skips it', async (t) => {
    const dir = tempDir(t);
    const input = await distinctPngs(dir, 6);
    const cacheDir = join(dir, 'cache');
    const run = async (out: string, extra: string[]) => {
      const result = await cli(['run', input, '-o', join(dir, out), '-p', 'resize:48,blur:1,output:png', '--json', ...extra]);
      assert.equal(result.status, 0, result.stderr);
      return JSON.parse(result.stdout) as { summary: { done: number; cacheHits?: number }; items: { cache?: string; worker?: string }[] };
    };
    const first = await run('out1', ['--cache-dir', cacheDir]);
    assert.deepEqual([first.summary.done, first.summary.cacheHits], [6, 0]);
    assert.ok(first.items.every((i) => i.cache === 'miss'));
    const second = await run('out2', ['--cache-dir', cacheDir]);
    assert.deepEqual([second.summary.done, second.summary.cacheHits], [6, 6]);
    assert.ok(second.items.every((i) => i.cache === 'hit' && i.worker === 'cache'));
    for (const file of readdirSync(join(dir, 'out1'))) {
      assert.ok(readFileSync(join(dir, 'out1', file)).equals(readFileSync(join(dir, 'out2', file))), file);
    }
    const skipped = await run('out3', ['--cache-dir', cacheDir, '--no-cache']);
    assert.equal(skipped.summary.cacheHits, undefined);
    assert.ok(skipped.items.every((i) => i.cache === undefined));
    const auto = await cli(['run', input, '-o', join(dir, 'out4'), '-p', 'output:auto']);
    assert.equal(auto.status, 2);
    assert.match(auto.stderr, /auto is chosen from an HTTP request/);
  });

  it('imgfleet run --redis --cache-redis: a second batch on the cluster comes from the Redis cache', async (t) => {
    const dir = tempDir(t);
    const input = await distinctPngs(dir, 5);
    const cluster = await startCluster();
    t.after(() => cluster.stop());
    const run = async (out: string) => {
      const result = await submit(cluster.prefix, input, join(dir, out), 'resize:32,output:png', REDIS_URL, ['--cache-redis', REDIS_URL]);
      assert.equal(result.status, 0, result.stderr);
      return result.report as unknown as { summary: { done: number; cacheHits?: number }; items: { cache?: string; worker?: string }[] };
    };
    const first = await run('out1');
    assert.deepEqual([first.summary.done, first.summary.cacheHits], [5, 0]);
    assert.ok(first.items.every((i) => i.worker === cluster.worker.name));
    const second = await run('out2');
    assert.deepEqual([second.summary.done, second.summary.cacheHits], [5, 5]);
    for (const file of readdirSync(join(dir, 'out1'))) {
      assert.ok(readFileSync(join(dir, 'out1', file)).equals(readFileSync(join(dir, 'out2', file))), file);
    }
    const redis = new Redis(REDIS_URL);
    t.after(() => redis.disconnect());
    assert.equal((await redis.keys(`${cluster.prefix}:cache:e:*`)).length, 5, 'the entries live under the cluster prefix');
  });
});
