import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { unzipSync } from 'fflate';
import { CORPUS, photo, pngClaiming, synthetic, tempDir, toPng } from './helpers.js';
import { gradientPng, multipart, pixels, readEvents, startCluster, testServer, type Cluster, type Mode, type TestServer } from './server-helpers.js';

for (const mode of ['local', 'cluster'] as Mode[]) {
  describe(`HTTP API (${mode} engine)`, () => {
    let cluster: Cluster | undefined;
    let server: TestServer;

    before(async () => {
      if (mode === 'cluster') cluster = await startCluster();
      server = await testServer(mode, cluster);
    });
    after(async () => {
      await server?.close();
      await cluster?.stop();
    });

    it('POST /v1/process: multipart image + pipeline → the processed image, timings and worker in headers', async () => {
      const body = await multipart({ pipeline: 'negate,output:png', file: { name: 'gradient.png', bytes: await gradientPng() } });
      const response = await server.app.inject({ method: 'POST', url: '/v1/process', ...body });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.headers['content-type'], 'image/png');
      assert.match(String(response.headers['content-disposition']), /filename="gradient\.png"/);
      assert.match(String(response.headers['server-timing']), /^probe;dur=[\d.]+, negate;dur=[\d.]+, encode;dur=[\d.]+, total;dur=[\d.]+$/);
      assert.ok(String(response.headers['x-imgfleet-worker']).length > 0);
      const out = await pixels(response.rawPayload);
      assert.deepEqual([out.width, out.height, out.channels], [64, 48, 3]);
      // negate: 255 − value, pixel by pixel, against the gradient's formula.
      for (const [x, y] of [[0, 0], [63, 0], [10, 47], [63, 47]]) {
        const i = (y * 64 + x) * 3;
        assert.deepEqual([...out.data.subarray(i, i + 3)], [255 - x * 4, 255 - y * 5, 55], `pixel ${x},${y}`);
      }
    });

    it('POST /v1/process: the raw body with a JSON pipeline in the query', async () => {
      const pipeline = JSON.stringify({ steps: [{ op: 'flip', direction: 'horizontal' }], output: { format: 'png' } });
      const response = await server.app.inject({
        method: 'POST', url: `/v1/process?pipeline=${encodeURIComponent(pipeline)}`,
        headers: { 'content-type': 'image/png' }, payload: await gradientPng(),
      });
      assert.equal(response.statusCode, 200, response.body);
      const out = await pixels(response.rawPayload);
      // Mirrored: column x holds what column 63 − x held.
      assert.deepEqual([...out.data.subarray(0, 3)], [63 * 4, 0, 200]);
      assert.deepEqual([...out.data.subarray(63 * 3, 64 * 3)], [0, 0, 200]);
    });

    it('POST /v1/histogram: counts that match the image', async () => {
      // 16×16 grey: the left half 0, the right half 255 → 128 pixels at each end.
      const grey = await toPng(synthetic(16, 16, 1, (x) => (x < 8 ? 0 : 255)));
      const form = await multipart({ file: { name: 'halves.png', bytes: grey } });
      const response = await server.app.inject({ method: 'POST', url: '/v1/histogram', ...form });
      assert.equal(response.statusCode, 200, response.body);
      const histogram = response.json();
      assert.equal(histogram.file, 'halves.png');
      assert.deepEqual([histogram.width, histogram.height, histogram.bins], [16, 16, 256]);
      const expected = new Array(256).fill(0);
      expected[0] = 128;
      expected[255] = 128;
      assert.deepEqual(histogram.channels.gray, expected);

      // Colour, 4 bins: a 10×10 image of (200, 100, 0) → red in bin 3, green in bin 1, blue in bin 0.
      const colour = await toPng(synthetic(10, 10, 3, (_x, _y, c) => [200, 100, 0][c]));
      const binned = await server.app.inject({ method: 'POST', url: '/v1/histogram?bins=4', headers: { 'content-type': 'image/png' }, payload: colour });
      assert.deepEqual(binned.json().channels, { red: [0, 0, 0, 100], green: [0, 100, 0, 0], blue: [100, 0, 0, 0] });
    });

    it('answers bad input with the right status and a JSON error naming the problem', async (t) => {
      const photoBytes = readFileSync(photo('Aqua.jpg'));
      const send = async (fields: Parameters<typeof multipart>[0], url = '/v1/process') => {
        const response = await server.app.inject({ method: 'POST', url, ...(await multipart(fields)) });
        return { status: response.statusCode, error: response.json().error };
      };
      assert.deepEqual(await send({ pipeline: 'blur:-1', file: { name: 'a.jpg', bytes: photoBytes } }),
        { status: 400, error: { code: 'BAD_PIPELINE', message: 'steps[0].sigma: expected a number from 0.3 to 100, got -1' } });
      const noPipeline = await send({ file: { name: 'a.jpg', bytes: photoBytes } });
      assert.equal(noPipeline.status, 400);
      assert.match(noPipeline.error.message, /a pipeline is required/);
      const text = await send({ pipeline: 'negate', file: { name: 'notes.jpg', bytes: Buffer.from('just some text, not an image at all') } });
      assert.deepEqual([text.status, text.error.code], [415, 'NOT_AN_IMAGE']);
      const truncated = await send({ pipeline: 'negate', file: { name: 't.jpg', bytes: readFileSync(join(CORPUS, 'bad', 'truncated.jpg')) } });
      assert.deepEqual([truncated.status, truncated.error.code], [415, 'CORRUPT_IMAGE']);
      const empty = await send({ pipeline: 'negate', file: { name: 'empty.jpg', bytes: Buffer.alloc(0) } });
      assert.deepEqual([empty.status, empty.error.code], [415, 'EMPTY_FILE']);
      const huge = await send({ pipeline: 'negate', file: { name: 'huge.png', bytes: pngClaiming(100_000, 100_000) } });
      assert.deepEqual(huge, { status: 422, error: { code: 'TOO_MANY_PIXELS', message: 'image header claims 100000×100000 = 10000 MP, over the limit of 50 MP' } });
      const badBins = await send({ file: { name: 'a.jpg', bytes: photoBytes } }, '/v1/histogram?bins=0');
      assert.equal(badBins.status, 400);

      const small = await testServer(mode, cluster, { limits: { maxFileBytes: 10_000 }, maxFiles: 2 });
      t.after(() => small.close());
      const tooLarge = await small.app.inject({ method: 'POST', url: '/v1/process', ...(await multipart({ pipeline: 'negate', file: { name: 'a.jpg', bytes: photoBytes } })) });
      assert.deepEqual([tooLarge.statusCode, tooLarge.json().error.code], [413, 'FILE_TOO_LARGE']);
      const rawTooLarge = await small.app.inject({ method: 'POST', url: '/v1/process?pipeline=negate', headers: { 'content-type': 'image/jpeg' }, payload: photoBytes });
      assert.deepEqual([rawTooLarge.statusCode, rawTooLarge.json().error.code], [413, 'FILE_TOO_LARGE']);
      const tiny = await toPng(synthetic(4, 4, 3, () => 9));
      const tooMany = await small.app.inject({
        method: 'POST', url: '/v1/jobs',
        ...(await multipart({ pipeline: 'negate', file: [1, 2, 3].map((n) => ({ name: `${n}.png`, bytes: tiny })) })),
      });
      assert.deepEqual([tooMany.statusCode, tooMany.json().error.code], [413, 'TOO_MANY_FILES']);
      const unknownJob = await server.app.inject({ method: 'GET', url: '/v1/jobs/nope' });
      assert.deepEqual([unknownJob.statusCode, unknownJob.json().error.code], [404, 'NOT_FOUND']);
      const unknownRoute = await server.app.inject({ method: 'GET', url: '/v2/anything' });
      assert.deepEqual([unknownRoute.statusCode, unknownRoute.json().error.code], [404, 'NOT_FOUND']);
      const wrongType = await server.app.inject({ method: 'POST', url: '/v1/process?pipeline=negate', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
      assert.deepEqual([wrongType.statusCode, wrongType.json().error], [415, {
        code: 'UNSUPPORTED_FORMAT', message: 'a body of type text/plain is not an image: send it as multipart field "file", or raw with Content-Type image/* or application/octet-stream',
      }]);
      const untyped = await server.app.inject({ method: 'POST', url: '/v1/process?pipeline=negate' });
      assert.match(untyped.json().error.message, /^a body without a Content-Type is not an image: /);
    });

    it('POST /v1/jobs: many images → 202; status, live events, each output, a zip, then DELETE', async () => {
      const address = await listen(server);
      const tiny = await toPng(synthetic(30, 20, 3, (x, y, c) => (c === 0 ? x * 8 : c === 1 ? y * 12 : 50)));
      const form = await multipart({
        pipeline: 'resize:15:10:fit=fill,output:png',
        file: [
          { name: '../../etc/evil.png', bytes: tiny },
          { name: 'same.png', bytes: tiny },
          { name: 'same.png', bytes: tiny },
          { name: 'broken.jpg', bytes: readFileSync(join(CORPUS, 'bad', 'truncated.jpg')) },
        ],
      });
      const created = await fetch(`${address}/v1/jobs`, { method: 'POST', body: new Uint8Array(form.payload), headers: form.headers });
      assert.equal(created.status, 202);
      const { id, events } = await created.json() as { id: string; events: string };
      assert.equal(created.headers.get('location'), `/v1/jobs/${id}`);

      const stream = await readEvents(`${address}${events}`);
      assert.equal(stream[0].event, 'status');
      assert.equal(stream.at(-1)!.event, 'end');
      const end = stream.at(-1)!.data;
      assert.deepEqual(end.counts, { total: 4, queued: 0, running: 0, done: 3, failed: 1 });
      // Every file settled either in the first snapshot or in an event of its own.
      const settled = new Set([...stream[0].data.files.entries()].filter(([, f]: [number, { status: string }]) => f.status === 'done' || f.status === 'failed').map(([i]: [number, unknown]) => i));
      for (const e of stream.filter((e) => e.event === 'file' && (e.data.status === 'done' || e.data.status === 'failed'))) settled.add(e.data.index);
      assert.equal(settled.size, 4);

      const status = (await server.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json();
      assert.equal(status.state, 'done');
      assert.equal(status.pipeline, 'resize:width=15:height=10:fit=fill,output:format=png');
      assert.deepEqual(status.files.map((f: { name: string }) => f.name), ['evil.png', 'same.png', 'same-2.png', 'broken.jpg']);
      assert.deepEqual(status.files[3].error.code, 'CORRUPT_IMAGE');
      const first = status.files[0].output;
      assert.deepEqual([first.name, first.width, first.height, first.format], ['evil.png', 15, 10, 'png']);

      const file = await server.app.inject({ method: 'GET', url: first.url });
      assert.equal(file.headers['content-type'], 'image/png');
      const out = await pixels(file.rawPayload);
      assert.deepEqual([out.width, out.height], [15, 10]);
      const notThere = await server.app.inject({ method: 'GET', url: `/v1/jobs/${id}/files/broken.png` });
      assert.equal(notThere.statusCode, 404);

      const zip = await server.app.inject({ method: 'GET', url: `/v1/jobs/${id}/archive` });
      assert.equal(zip.headers['content-type'], 'application/zip');
      const entries = unzipSync(zip.rawPayload);
      assert.deepEqual(Object.keys(entries).sort(), ['evil.png', 'same-2.png', 'same.png']);
      for (const bytes of Object.values(entries)) assert.equal((await pixels(Buffer.from(bytes))).width, 15);

      const removed = await server.app.inject({ method: 'DELETE', url: `/v1/jobs/${id}` });
      assert.equal(removed.statusCode, 204);
      assert.equal((await server.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).statusCode, 404);
    });

    it('POST /v1/jobs with tile: the image runs as tiles, each reported as an event; an untileable pipeline is refused', async () => {
      const address = await listen(server);
      // 600×400 in tiles of 256: 3 × 2 = 6 tiles.
      const image = await toPng(synthetic(600, 400, 3, (x, y, c) => (c === 0 ? x % 256 : c === 1 ? y % 256 : 128)));
      const form = await multipart({ pipeline: 'blur:2,output:png', tile: '256', file: { name: 'wide.png', bytes: image } });
      const created = await fetch(`${address}/v1/jobs`, { method: 'POST', body: new Uint8Array(form.payload), headers: form.headers });
      assert.equal(created.status, 202);
      const { id, events } = await created.json() as { id: string; events: string };
      const stream = await readEvents(`${address}${events}`);
      const end = stream.at(-1)!.data;
      assert.deepEqual(end.files[0].tiles, { done: 6, total: 6 });
      const tileEvents = stream.filter((e) => e.event === 'tile');
      for (const e of tileEvents) assert.equal(e.data.total, 6);
      const file = await server.app.inject({ method: 'GET', url: `/v1/jobs/${id}/files/wide.png` });
      assert.deepEqual([(await pixels(file.rawPayload)).width, (await pixels(file.rawPayload)).height], [600, 400]);

      // One image through /v1/process as tiles: the same pixels as run whole.
      const url = `/v1/process?pipeline=${encodeURIComponent('blur:2,output:png')}`;
      const whole = await server.app.inject({ method: 'POST', url, headers: { 'content-type': 'image/png' }, payload: image });
      const tiled = await server.app.inject({ method: 'POST', url: `${url}&tile=256`, headers: { 'content-type': 'image/png' }, payload: image });
      assert.equal(tiled.statusCode, 200, tiled.body);
      assert.equal(tiled.headers['x-imgfleet-tiles'], '6');
      const [a, b] = [await pixels(whole.rawPayload), await pixels(tiled.rawPayload)];
      let most = 0;
      for (let i = 0; i < a.data.length; i++) most = Math.max(most, Math.abs(a.data[i] - b.data[i]));
      assert.ok(most <= 1, `tiled differs from whole by up to ${most}`);

      const refused = await server.app.inject({
        method: 'POST', url: '/v1/jobs?tile=256',
        ...(await multipart({ pipeline: 'edges:method=canny', file: { name: 'wide.png', bytes: image } })),
      });
      assert.equal(refused.statusCode, 422);
      assert.equal(refused.json().error.code, 'NOT_TILEABLE');
    });

    it('GET /v1/ops, /v1/pipeline, /healthz, /readyz, /docs, /metrics', async () => {
      const ops = (await server.app.inject({ method: 'GET', url: '/v1/ops' })).json();
      assert.ok(['resize', 'crop', 'rotate', 'flip', 'grayscale', 'threshold', 'blur', 'sharpen', 'edges', 'sepia', 'negate', 'brightness', 'contrast', 'clahe', 'watermark', 'histogram']
        .every((name) => name in ops.operations));
      assert.deepEqual(ops.operations.blur.properties.sigma, { title: 'Radius (σ)', description: ops.operations.blur.properties.sigma.description, type: 'number', minimum: 0.3, maximum: 100, default: 2 });
      const checked = (await server.app.inject({ method: 'GET', url: `/v1/pipeline?pipeline=${encodeURIComponent('resize:800,blur:sigma=2,output:webp')}` })).json();
      assert.equal(checked.compact, 'resize:width=800,blur,output:format=webp');
      assert.equal((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      const ready = await server.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200, ready.body);
      const openapi = (await server.app.inject({ method: 'GET', url: '/docs/json' })).json();
      for (const path of ['/v1/process', '/v1/histogram', '/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/events', '/v1/jobs/{id}/archive', '/v1/ops']) {
        assert.ok(path in openapi.paths, `${path} in the OpenAPI document`);
      }
      assert.ok('sigma' in openapi.components.schemas.Operations.properties.blur.properties);
      await server.app.inject({ method: 'POST', url: '/v1/process?pipeline=negate,output:png', headers: { 'content-type': 'image/png' }, payload: await gradientPng() });
      const metrics = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
      assert.match(metrics, /^imgfleet_images_total\{outcome="done"\} \d+$/m);
      assert.match(metrics, /^imgfleet_images_total\{outcome="CORRUPT_IMAGE"\} [1-9]\d*$/m);
      assert.match(metrics, /^imgfleet_operation_duration_seconds_count\{op="negate"\} [1-9]\d*$/m);
      assert.match(metrics, /^imgfleet_jobs_total\{outcome="partial"\} 1$/m);
      assert.match(metrics, /^imgfleet_queue_depth \d+$/m);
      assert.match(metrics, mode === 'cluster' ? /^imgfleet_workers_live 1$/m : /^imgfleet_workers_live \d+$/m);
    });

    it('refuses with 429 and Retry-After while its single-image slots are full, then serves again', async (t) => {
      const busy = await testServer(mode, cluster, { maxPending: 1 });
      t.after(() => busy.close());
      const address = await listen(busy);
      const png = await gradientPng();
      // A request whose body is still arriving holds the only slot.
      const held = httpRequest(`${address}/v1/process?pipeline=negate,output:png`, { method: 'POST', headers: { 'content-type': 'image/png', 'content-length': png.length } });
      const heldResponse = new Promise<number>((resolve) => held.on('response', (r) => { r.resume(); resolve(r.statusCode!); }));
      held.write(png.subarray(0, 100));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const refused = await fetch(`${address}/v1/process?pipeline=negate`, { method: 'POST', body: new Uint8Array(png), headers: { 'content-type': 'image/png' } });
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'QUEUE_FULL');
      held.end(png.subarray(100));
      assert.equal(await heldResponse, 200);
      const again = await fetch(`${address}/v1/process?pipeline=negate`, { method: 'POST', body: new Uint8Array(png), headers: { 'content-type': 'image/png' } });
      assert.equal(again.status, 200);
    });

    it('removes finished jobs and their files after the results time', async (t) => {
      const dataDir = join(tempDir(t), 'data');
      const shortLived = await testServer(mode, cluster, { resultTtlMs: 300, dataDir });
      t.after(() => shortLived.close());
      const tiny = await toPng(synthetic(8, 8, 3, () => 100));
      const created = await shortLived.app.inject({ method: 'POST', url: '/v1/jobs', ...(await multipart({ pipeline: 'negate', file: { name: 'a.png', bytes: tiny } })) });
      const { id } = created.json();
      let state = '';
      for (let i = 0; i < 200 && state !== 'done'; i++) {
        state = (await shortLived.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json().state;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(state, 'done');
      assert.ok(existsSync(join(dataDir, id)));
      await new Promise((resolve) => setTimeout(resolve, 600));
      assert.equal((await shortLived.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).statusCode, 404);
      assert.deepEqual(readdirSync(dataDir), []);
    });

    if (mode === 'cluster') {
      it('lists live workers, and serves the queue dashboard behind the token', async (t) => {
        const workers = (await server.app.inject({ method: 'GET', url: '/v1/workers' })).json();
        assert.equal(workers.mode, 'cluster');
        assert.deepEqual(workers.workers.map((w: { name: string }) => w.name), ['api-worker']);
        const guarded = await testServer(mode, cluster, { token: 's3cret' });
        t.after(() => guarded.close());
        assert.equal((await guarded.app.inject({ method: 'GET', url: '/admin/queues' })).statusCode, 401);
        const dashboard = await guarded.app.inject({ method: 'GET', url: '/admin/queues', headers: { authorization: 'Bearer s3cret' } });
        assert.equal(dashboard.statusCode, 200);
        assert.match(dashboard.headers['content-type'] as string, /text\/html/);
        const queues = await guarded.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { authorization: 'Bearer s3cret' } });
        assert.equal(queues.json().queues[0].name, 'images');
        // The audit's attack: raw job data through the dashboard, which workers would have obeyed.
        const before = await (guarded.engine as unknown as { queue: { count(): Promise<number> } }).queue.count();
        const added = await guarded.app.inject({
          method: 'POST', url: '/admin/queues/api/queues/images/add', headers: { authorization: 'Bearer s3cret' },
          payload: { name: 'images', data: { items: [{ source: { kind: 'file', path: '/etc/shadow' }, sink: { kind: 'file', path: '/tmp/pwned.png' } }], pipeline: { steps: [] }, limits: { maxInputPixels: 1e12 } } },
        });
        assert.ok(added.statusCode >= 400 && added.statusCode < 500, `the read-only dashboard refused it: ${added.statusCode} ${added.body}`);
        assert.equal(await (guarded.engine as unknown as { queue: { count(): Promise<number> } }).queue.count(), before, 'no job was added');
      });
    }
  });
}

describe('HTTP API: security', () => {
  let server: TestServer;
  before(async () => { server = await testServer('local', undefined, { token: 'let-me-in' }); });
  after(() => server?.close());

  it('requires the bearer token (or the session cookie it is traded for) on the API, not on the page or health checks', async () => {
    const get = (url: string, headers: Record<string, string> = {}) => server.app.inject({ method: 'GET', url, headers });
    const missing = await get('/v1/ops');
    assert.deepEqual([missing.statusCode, missing.json().error.code], [401, 'UNAUTHORIZED']);
    assert.equal((await get('/v1/ops', { authorization: 'Bearer wrong' })).statusCode, 401);
    assert.equal((await get('/metrics')).statusCode, 401);
    assert.equal((await get('/v1/ops', { authorization: 'Bearer let-me-in' })).statusCode, 200);
    // The token itself in a cookie (what scripts could once set) is no longer a key.
    assert.equal((await get('/v1/ops', { cookie: 'theme=dark; imgfleet_token=let-me-in' })).statusCode, 401);
    const session = await server.app.inject({ method: 'POST', url: '/v1/session', payload: { token: 'let-me-in' } });
    assert.equal(session.statusCode, 204);
    const cookie = String(session.headers['set-cookie']);
    assert.match(cookie, /^imgfleet_session=\d+\.[\w-]{43}; Path=\/; Max-Age=43200; HttpOnly; Secure; SameSite=Strict$/);
    assert.ok(!cookie.includes('let-me-in'), 'the cookie does not carry the token');
    assert.equal((await get('/v1/ops', { cookie: `theme=dark; ${cookie.split(';')[0]}` })).statusCode, 200);
    assert.equal((await server.app.inject({ method: 'POST', url: '/v1/session', payload: { token: 'wrong' } })).statusCode, 401);
    assert.equal((await get('/')).statusCode, 200);
    assert.equal((await get('/healthz')).statusCode, 200);
  });

  it('never leaks internals in a 5xx', async (t) => {
    const failing = await testServer('local', undefined);
    t.after(() => failing.close());
    failing.engine.run = async () => ({ ok: false, error: { code: 'INTERNAL', message: 'ENOENT /srv/secret/path/libvips.so' }, worker: 'w' });
    const response = await failing.app.inject({ method: 'POST', url: '/v1/process?pipeline=negate', headers: { 'content-type': 'image/png' }, payload: await gradientPng() });
    assert.equal(response.statusCode, 500);
    const { error } = response.json();
    assert.deepEqual([error.code, error.message], ['INTERNAL', 'internal error (the server log has the details, under this request id)']);
    assert.equal(error.requestId, response.headers['x-request-id']);
  });

  it('refuses logos outside the assets folder', async () => {
    const response = await server.app.inject({
      method: 'POST', url: `/v1/process?pipeline=${encodeURIComponent('watermark:image=/etc/passwd')}`,
      headers: { 'content-type': 'image/png', authorization: 'Bearer let-me-in' }, payload: await gradientPng(),
    });
    assert.equal(response.statusCode, 400);
    assert.match(response.json().error.message, /steps\[0\]\.image: this server has no logos/);
  });

  it('draws a logo from --assets-dir, and refuses a name that leaves it', async (t) => {
    const assets = tempDir(t);
    copyFileSync(join(CORPUS, 'odd', 'logo.png'), join(assets, 'logo.png'));
    const withLogos = await testServer('local', undefined, { assetsDir: assets });
    t.after(() => withLogos.close());
    // A flat grey image: any pixel that is no longer grey came from the logo.
    const grey = await toPng(synthetic(400, 300, 3, () => 128));
    const send = (pipeline: string) => withLogos.app.inject({
      method: 'POST', url: `/v1/process?pipeline=${encodeURIComponent(pipeline)}`, headers: { 'content-type': 'image/png' }, payload: grey,
    });
    const drawn = await send('watermark:image=logo.png:opacity=1,output:png');
    assert.equal(drawn.statusCode, 200, drawn.body);
    const out = await pixels(drawn.rawPayload);
    let changed = 0;
    for (let i = 0; i < out.data.length; i++) if (out.data[i] !== 128) changed++;
    assert.ok(changed > 0, 'the logo left no mark');
    const escape = await send('watermark:image=../logo.png');
    assert.equal(escape.statusCode, 400);
    assert.match(escape.json().error.message, /steps\[0\]\.image: "\.\.\/logo\.png" is not a file in the server's assets folder/);
  });
});

async function listen(server: TestServer): Promise<string> {
  if (!server.app.server.listening) await server.app.listen({ host: '127.0.0.1', port: 0 });
  const address = server.app.server.address();
  if (!address || typeof address === 'string') throw new Error('not listening');
  return `http://127.0.0.1:${address.port}`;
}
