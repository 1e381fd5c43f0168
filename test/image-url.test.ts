import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { DiskCache } from '../src/cache/disk-cache.js';
import { RedisCache } from '../src/cache/redis-cache.js';
import type { ResultCache } from '../src/cache/result-cache.js';
import { sign, signedPath } from '../src/server/signing.js';
import { HttpOriginStore } from '../src/sources/http-origin.js';
import { LocalFolderStore } from '../src/sources/local-folder.js';
import { REDIS_URL, waitFor } from './cluster-helpers.js';
import { cli, ROOT, tempDir } from './helpers.js';
import { multipart, startCluster, testServer, type Cluster, type Mode, type TestServer } from './server-helpers.js';
import { startOrigin } from './origin-helpers.js';

// Keys of 32 bytes or more: the server refuses shorter ones.
const KEYS = ['new-key-0123456789abcdef0123456789', 'old-key-0123456789abcdef0123456789'];
const url = (path: string, key = KEYS[0]) => signedPath(path, [key]);

/** The sum of a Prometheus metric's samples (those whose labels include `labels`). */
async function metric(app: FastifyInstance, name: string, labels = ''): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => line.includes(labels)).reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

async function openCache(mode: Mode, cluster: Cluster | undefined, dir: string, budget = 64 << 20): Promise<ResultCache> {
  return mode === 'cluster' ? RedisCache.open(REDIS_URL, `${cluster!.prefix}:b${budget}`, budget) : DiskCache.open(join(dir, `cache-${budget}`), budget);
}

for (const mode of ['local', 'cluster'] as Mode[]) {
  describe(`image URLs, signing and the result cache (${mode} engine)`, () => {
    let cluster: Cluster | undefined;
    let server: TestServer;
    let cache: ResultCache;
    let sourceDir: string;
    const cleanups: (() => Promise<void> | void)[] = [];

    before(async () => {
      if (mode === 'cluster') cluster = await startCluster();
      const dir = tempDir({ after: (fn) => cleanups.push(fn) });
      sourceDir = join(dir, 'sources');
      mkdirSync(join(sourceDir, 'photos'), { recursive: true });
      for (const name of ['rocket.jpg', 'chelsea.png', 'coffee.png']) copyFileSync(join(ROOT, 'samples', name), join(sourceDir, 'photos', name));
      cache = await openCache(mode, cluster, dir);
      server = await testServer(mode, cluster, { cache, sources: new LocalFolderStore(sourceDir, 10 << 20), signingKeys: KEYS, maxAgeSeconds: 600 });
    });
    after(async () => {
      await server?.close();
      await cache?.close();
      for (const fn of cleanups) await fn();
      await cluster?.stop();
    });

    const get = (path: string, headers: Record<string, string> = {}, app = server.app) => app.inject({ method: 'GET', url: path, headers });

    it('signatures: good and rotated keys pass; a bad, missing or foreign signature and a tampered pipeline get 403', async () => {
      const failures = await metric(server.app, 'imgfleet_signature_failures_total');
      const good = await get(url('/resize:64,output:png/photos/rocket.jpg'));
      assert.equal(good.statusCode, 200, good.body);
      assert.equal(good.headers['content-type'], 'image/png');
      assert.equal(good.headers['x-image-width'], '64');
      // Signed with the old key, still listed for rotation.
      assert.equal((await get(url('/resize:64,output:png/photos/rocket.jpg', KEYS[1]))).statusCode, 200);

      const signed = url('/resize:64,output:png/photos/rocket.jpg');
      const tampered = signed.replace('resize:64', 'resize:6400');
      const otherSource = signed.replace('rocket.jpg', 'coffee.png');
      const foreign = url('/resize:64,output:png/photos/rocket.jpg', 'someone-elses-key-0123456789abcdef0123');
      const missing = '/i/_/resize:64,output:png/photos/rocket.jpg';
      const empty = '/i//resize:64,output:png/photos/rocket.jpg';
      for (const path of [tampered, otherSource, foreign, missing, empty]) {
        const response = await get(path);
        assert.equal(response.statusCode, 403, path);
        assert.equal(response.json().error.code, 'FORBIDDEN');
      }
      assert.equal(await metric(server.app, 'imgfleet_signature_failures_total'), failures + 5);
      assert.equal(await metric(server.app, 'imgfleet_signature_failures_total', 'reason="missing"') >= 2, true);

      // Once the old key is retired, its URLs stop working; unsigned URLs only when allowed.
      // A token protects the API, not image URLs: their signature is their key.
      const rotated = await testServer(mode, cluster, { cache, sources: new LocalFolderStore(sourceDir, 10 << 20), signingKeys: [KEYS[0]], allowUnsigned: true, token: 'tok' });
      try {
        assert.equal((await get(url('/resize:64,output:png/photos/rocket.jpg', KEYS[1]), {}, rotated.app)).statusCode, 403);
        assert.equal((await get(url('/resize:64,output:png/photos/rocket.jpg'), {}, rotated.app)).statusCode, 200);
        assert.equal((await get(missing, {}, rotated.app)).statusCode, 200);
        assert.equal((await rotated.app.inject({ method: 'GET', url: '/v1/info' })).statusCode, 401);
      } finally {
        await rotated.close();
      }
    });

    it('format=auto: AVIF, WebP or the source’s format from Accept, with Vary: Accept', async () => {
      const path = url('/resize:80,output:auto/photos/chelsea.png');
      const cases: [string, string, string][] = [
        ['image/avif,image/webp,image/apng,image/*,*/*;q=0.8', 'image/avif', 'heif'],
        ['image/webp,*/*', 'image/webp', 'webp'],
        ['image/png,image/*;q=0.9', 'image/png', 'png'],
        ['', 'image/png', 'png'],
      ];
      const etags = new Set<string>();
      for (const [accept, type, format] of cases) {
        const response = await get(path, accept ? { accept } : {});
        assert.equal(response.statusCode, 200, response.body);
        assert.equal(response.headers['content-type'], type, accept);
        assert.equal(response.headers.vary, 'Accept');
        assert.equal((await sharp(response.rawPayload).metadata()).format, format);
        etags.add(String(response.headers.etag));
      }
      assert.equal(etags.size, 3, 'one content address per negotiated format');
      // A fixed format does not vary.
      assert.equal((await get(url('/resize:80,output:webp/photos/chelsea.png'), { accept: 'image/avif' })).headers.vary, undefined);
    });

    it('the second request is served from the cache without touching a worker', async () => {
      const path = url('/resize:120,blur:1.5,output:webp/photos/coffee.png');
      const images = await metric(server.app, 'imgfleet_images_total', 'outcome="done"');
      const hits = await metric(server.app, 'imgfleet_cache_hits_total');
      const first = await get(path);
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(first.headers['x-imgfleet-cache'], 'miss');
      assert.equal(first.headers['x-imgfleet-worker'], undefined, 'public responses name no worker');
      const second = await get(path);
      assert.equal(second.statusCode, 200);
      assert.equal(second.headers['x-imgfleet-cache'], 'hit');
      assert.equal(second.headers['x-imgfleet-worker'], undefined);
      assert.match(String(second.headers['server-timing']), /^cache;dur=[\d.]+$/);
      assert.ok(second.rawPayload.equals(first.rawPayload));
      assert.equal(second.headers.etag, first.headers.etag);
      assert.equal(await metric(server.app, 'imgfleet_images_total', 'outcome="done"'), images + 1, 'one image computed');
      assert.equal(await metric(server.app, 'imgfleet_cache_hits_total'), hits + 1);
      assert.ok(await metric(server.app, 'imgfleet_cache_bytes') > 0);
    });

    it('identical concurrent requests are computed once', async () => {
      const path = url('/blur:12,resize:300,output:jpeg/photos/coffee.png');
      const images = await metric(server.app, 'imgfleet_images_total', 'outcome="done"');
      const responses = await Promise.all(Array.from({ length: 4 }, () => get(path)));
      assert.ok(responses.every((r) => r.statusCode === 200));
      assert.ok(responses.every((r) => r.rawPayload.equals(responses[0].rawPayload)));
      const sources = responses.map((r) => String(r.headers['x-imgfleet-cache']));
      assert.equal(sources.filter((s) => s === 'miss').length, 1, sources.join(' '));
      assert.ok(sources.includes('shared'), `the others waited for the first: ${sources.join(' ')}`);
      assert.equal(await metric(server.app, 'imgfleet_images_total', 'outcome="done"'), images + 1);
    });

    it('ETag is the content address: If-None-Match gets 304; Cache-Control has the max-age', async () => {
      const path = url('/grayscale,resize:50,output:png/photos/rocket.jpg');
      const first = await get(path);
      assert.equal(first.headers['cache-control'], 'public, max-age=600');
      const etag = String(first.headers.etag);
      assert.match(etag, /^"[0-9a-f]{64}"$/);
      const images = await metric(server.app, 'imgfleet_images_total');
      for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
        const revalidated = await get(path, { 'if-none-match': header });
        assert.equal(revalidated.statusCode, 304, header);
        assert.equal(revalidated.rawPayload.length, 0);
        // `*` is answered before the source is even opened, so without a tag.
        if (header !== '*') assert.equal(revalidated.headers.etag, etag);
      }
      assert.equal((await get(path, { 'if-none-match': '"something-else"' })).statusCode, 200);
      assert.equal(await metric(server.app, 'imgfleet_images_total'), images, 'no work for a revalidation');
    });

    it('POST /v1/process shares the cache, the ETag and format negotiation with image URLs', async () => {
      const pipeline = 'resize:90,sharpen,output:png';
      const viaUrl = await get(url(`/${pipeline}/photos/rocket.jpg`));
      const bytes = readFileSync(join(sourceDir, 'photos', 'rocket.jpg'));
      const posted = await server.app.inject({ method: 'POST', url: `/v1/process?pipeline=${encodeURIComponent(pipeline)}`, headers: { 'content-type': 'image/jpeg' }, payload: bytes });
      assert.equal(posted.statusCode, 200, posted.body);
      assert.equal(posted.headers['x-imgfleet-cache'], 'hit');
      assert.equal(posted.headers.etag, viaUrl.headers.etag);
      assert.ok(posted.rawPayload.equals(viaUrl.rawPayload));
      const notModified = await server.app.inject({
        method: 'POST', url: `/v1/process?pipeline=${encodeURIComponent(pipeline)}`,
        headers: { 'content-type': 'image/jpeg', 'if-none-match': String(viaUrl.headers.etag) }, payload: bytes,
      });
      assert.equal(notModified.statusCode, 304);
      const form = await multipart({ pipeline: 'resize:40,output:auto', file: { name: 'rocket.jpg', bytes } });
      const negotiated = await server.app.inject({ method: 'POST', url: '/v1/process', ...form, headers: { ...form.headers, accept: 'image/webp' } });
      assert.equal(negotiated.headers['content-type'], 'image/webp');
      assert.equal(negotiated.headers.vary, 'Accept');
    });

    it('evicts the least recently used results under a small budget', async (t) => {
      // Room for the last two of these results (about 14, 17 and 20 kB), not for all three.
      const small = await openCache(mode, cluster, tempDir(t), 45_000);
      const app = await testServer(mode, cluster, { cache: small, sources: new LocalFolderStore(sourceDir, 10 << 20), signingKeys: KEYS });
      t.after(async () => {
        await app.close();
        await small.close();
      });
      const paths = [100, 110, 120].map((w) => url(`/resize:${w},output:png/photos/coffee.png`));
      const sizes: number[] = [];
      for (const path of paths) sizes.push((await get(path, {}, app.app)).rawPayload.length);
      assert.ok(sizes[0] + sizes[1] + sizes[2] > 45_000 && sizes[1] + sizes[2] < 44_000, `result sizes ${sizes}`);
      // Results are answered while they are stored: the eviction follows the last one's store.
      await waitFor(async () => await metric(app.app, 'imgfleet_cache_evictions_total') >= 1, 5000, 'an eviction');
      assert.ok(await small.storedBytes() <= 45_000);
      assert.equal((await get(paths[2], {}, app.app)).headers['x-imgfleet-cache'], 'hit', 'the newest is kept');
      assert.equal((await get(paths[0], {}, app.app)).headers['x-imgfleet-cache'], 'miss', 'the oldest was evicted');
    });

    it('sources: refuses paths outside the folder; an HTTP origin on a private address only when allowed', async (t) => {
      for (const source of ['..%2Fsecret', '%2Fetc%2Fpasswd', '.hidden.png', 'photos/missing.png']) {
        const response = await get(url(`/resize:10/${source}`));
        assert.equal(response.statusCode, 404, source);
      }
      const origin = await startOrigin();
      t.after(() => origin.server.close());
      const viaOrigin = async (allowPrivate: boolean) => {
        const app = await testServer(mode, cluster, { cache, sources: new HttpOriginStore({ baseUrl: origin.url, maxBytes: 1 << 20, timeoutMs: 5000, allowPrivate }), signingKeys: KEYS });
        try {
          return await get(url('/resize:10/a.png'), {}, app.app);
        } finally {
          await app.close();
        }
      };
      const refused = await viaOrigin(false);
      assert.equal(refused.statusCode, 403);
      // Which address the origin has stays in the log: the client learns only that it is refused.
      assert.equal(refused.json().error.message, 'the image source is on an address this server may not reach');
      // Allowed, the origin is reached; its bytes are not an image, which the pipeline then says.
      const allowed = await viaOrigin(true);
      assert.deepEqual([allowed.statusCode, allowed.json().error.code], [415, 'NOT_AN_IMAGE']);
    });

    if (mode === 'cluster') {
      it('with the worker gone, a cached result is still served (no worker involved)', async () => {
        const path = url('/resize:70,output:webp/photos/chelsea.png');
        assert.equal((await get(path)).headers['x-imgfleet-cache'], 'miss');
        cluster!.worker.child.kill('SIGKILL');
        await cluster!.worker.exited;
        const again = await get(path);
        assert.equal(again.statusCode, 200);
        assert.equal(again.headers['x-imgfleet-cache'], 'hit');
      });
    }
  });
}

describe('imgfleet sign', () => {
  it('prints the signed URL with the first key of IMGFLEET_KEY; without a key it is a usage error', async () => {
    const signed = await cli(['sign', '/resize:300,output:auto/photos/cat.jpg', '--base-url', 'https://img.example.com/'], { IMGFLEET_KEY: 'k1,k0' });
    assert.equal(signed.status, 0, signed.stderr);
    assert.equal(signed.stdout.trim(), `https://img.example.com/i/${sign('/resize:300,output:auto/photos/cat.jpg', 'k1')}/resize:300,output:auto/photos/cat.jpg`);
    const bare = await cli(['sign', 'resize:300/cat.jpg'], { IMGFLEET_KEY: 'k1' });
    assert.equal(bare.stdout.trim(), `/i/${sign('/resize:300/cat.jpg', 'k1')}/resize:300/cat.jpg`);
    const none = await cli(['sign', '/resize:300/cat.jpg'], { IMGFLEET_KEY: '' });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no signing key: set IMGFLEET_KEY/);
  });
});
