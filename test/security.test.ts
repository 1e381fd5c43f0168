/**
 * Each attack an audit of `imgfleet serve` found, reproduced against the server: each test here
 * is the attack, and what the server must now answer instead.
 */
import assert from 'node:assert/strict';
import { chownSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { DiskCache } from '../src/cache/disk-cache.js';
import { LocalEngine } from '../src/engine/local/local-engine.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { parsePipelineText } from '../src/pipeline/load.js';
import { renderTextMaskWithin } from '../src/image/text-mask.js';
import { AssetLoader } from '../src/io/assets.js';
import { buildServer } from '../src/server/app.js';
import type { ServerOptions } from '../src/server/options.js';
import { zipStream } from '../src/server/zip-stream.js';
import { isPrivateAddress } from '../src/sources/address-policy.js';
import { HttpOriginStore } from '../src/sources/http-origin.js';
import { LocalFolderStore } from '../src/sources/local-folder.js';
import { signedPath } from '../src/server/signing.js';
import { estimateWork } from '../src/task/work-cost.js';
import { CORPUS, synthetic, tempDir, toPng } from './helpers.js';
import { startOrigin } from './origin-helpers.js';
import { gradientPng, multipart } from './server-helpers.js';

const KEY = 'a-signing-key-of-at-least-32-bytes!!';

/** A server on a real socket with a pool of its own; closed after the test. */
async function serve(t: { after: (fn: () => Promise<void>) => void }, options: Partial<ServerOptions> = {}, engineOptions: ConstructorParameters<typeof LocalEngine>[0] = {}) {
  const engine = new LocalEngine({ threads: 2, ...engineOptions });
  const app = await buildServer({ engine, ...options });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => { await app.close(); await engine.close(); });
  return { app, engine, url, port: Number(new URL(url).port) };
}

/**
 * Writes raw bytes to the server and resolves with what it answers, as soon as the answer's
 * headers are in (or '' when it closes without a word), within `ms`.
 */
function raw(port: number, write: (socket: ReturnType<typeof connect>) => void, ms = 5000): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const done = () => { clearTimeout(timer); socket.destroy(); resolve({ text, closedAfterMs: performance.now() - started }); };
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no answer within ${ms} ms (got ${JSON.stringify(text.slice(0, 200))})`)); }, ms);
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (text.includes('\r\n\r\n')) done();
    });
    socket.on('error', () => {});
    socket.on('close', done);
    socket.on('connect', () => write(socket));
  });
}

/** CPU time this process (every thread, libvips' included) spends during `ms`. */
async function cpuDuring(ms: number): Promise<number> {
  const start = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** A square of noise: what CLAHE, blurs and encoders work hardest on, and what compresses least. */
async function noisePng(size = 1000): Promise<Buffer> {
  const data = Buffer.alloc(size * size * 3);
  let state = 2463534242;
  for (let i = 0; i < data.length; i++) {
    state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
    data[i] = state & 0xff;
  }
  return sharp(data, { raw: { width: size, height: size, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
}

describe('security: the audit\'s attacks, refused', () => {
  it('pre-auth bodies: a huge JSON body to a public path is refused before it is read; image bodies only on image routes', async (t) => {
    const { port } = await serve(t, { token: 'tok' });
    // The attack: 93 MB of JSON to /docs/x. Announced, not sent: the answer must come without it.
    const json = await raw(port, (s) => s.write('POST /docs/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 93000000\r\n\r\n[1,2,3,'));
    assert.match(json.text, /^HTTP\/1\.1 (401|404|413) /);
    // An image body to a route that takes none is refused as it is, not buffered.
    const image = await raw(port, (s) => s.write('POST /v1/jobs/x/files HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer tok\r\nContent-Type: image/png\r\nContent-Length: 90000000\r\n\r\n\x89PNG'));
    assert.match(image.text, /^HTTP\/1\.1 (404|415) /);
    // Without the token, an image route answers 401 before reading a byte of the body.
    const unauthorised = await raw(port, (s) => s.write('POST /v1/process HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\nContent-Length: 90000000\r\n\r\n\x89PNG'));
    assert.match(unauthorised.text, /^HTTP\/1\.1 401 /);
  });

  it('slow clients: headers and bodies that never finish are cut off; slots are per route and per client', async (t) => {
    const { port, url } = await serve(t, { headersTimeoutMs: 1000, requestTimeoutMs: 1500, maxPending: 4, maxPendingPerClient: 2 });
    const slowHeaders = await raw(port, (s) => s.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '), 8000);
    assert.ok(slowHeaders.closedAfterMs < 6000, `closed after ${slowHeaders.closedAfterMs} ms`);
    const slowBody = await raw(port, (s) => s.write('POST /v1/process?pipeline=negate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\nabc'), 8000);
    assert.match(slowBody.text, /^HTTP\/1\.1 408 /);
    assert.equal(JSON.parse(slowBody.text.slice(slowBody.text.indexOf('\r\n\r\n') + 4)).error.code, 'TIMEOUT');
    // A URL past Node's 16 KiB of headers: refused by its parser, in the API's own JSON.
    const longUrl = await raw(port, (s) => s.write(`POST /v1/process?pipeline=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`), 8000);
    assert.match(longUrl.text, /^HTTP\/1\.1 431 /);
    assert.deepEqual(JSON.parse(longUrl.text.slice(longUrl.text.indexOf('\r\n\r\n') + 4)).error, {
      code: 'BAD_USAGE', message: 'the request\'s headers and URL are over 16 KiB: send a long pipeline in the body (multipart field "pipeline")',
    });

    // Two uploads from this client that never finish hold its share of /v1/process…
    const holders = [0, 1].map(() => connect(port, '127.0.0.1'));
    for (const socket of holders) socket.write('POST /v1/process?pipeline=negate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\nabc');
    t.after(() => { for (const socket of holders) socket.destroy(); });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const png = new Uint8Array(await gradientPng());
    const third = await fetch(`${url}/v1/process?pipeline=negate`, { method: 'POST', body: png, headers: { 'content-type': 'image/png' } });
    assert.equal(third.status, 429);
    assert.equal(third.headers.get('retry-after'), '1');
    // …but not the other routes.
    const histogram = await fetch(`${url}/v1/histogram`, { method: 'POST', body: png, headers: { 'content-type': 'image/png' } });
    assert.equal(histogram.status, 200);
  });

  it('a response not read in time frees its slot', async (t) => {
    const sources = tempDir(t);
    // A large PNG of noise: far more than the socket buffers hold, so the writer blocks on a reader that never reads.
    await sharp(await noisePng(2500)).toFile(join(sources, 'noise.png'));
    const { port, url } = await serve(t, { sources: new LocalFolderStore(sources, 50 << 20), signingKeys: [KEY], maxPending: 1, sendTimeoutMs: 1500 });
    const path = signedPath('/output:png/noise.png', [KEY]);
    const stuck = connect(port, '127.0.0.1');
    t.after(() => stuck.destroy());
    stuck.pause();
    stuck.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    // While its response is stuck, the only slot is taken; once the send deadline passes, it is free.
    let status = 0;
    const deadline = Date.now() + 20_000;
    let sawBusy = false;
    while (Date.now() < deadline) {
      status = (await fetch(`${url}${signedPath('/resize:8,output:png/noise.png', [KEY])}`)).status;
      if (status === 429) sawBusy = true;
      if (status === 200 && sawBusy) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(sawBusy, 'the stuck response held the slot for a while');
    assert.equal(status, 200, 'the slot came back');
  });

  it('a timeout stops the pixels: libvips is killed and the CPU falls at once', async () => {
    const engine = new LocalEngine({ threads: 1, timeoutMs: 2000 });
    try {
      const pipeline = validatePipeline(parsePipelineText('clahe:600:600,output:png'));
      const input = await noisePng();
      const started = performance.now();
      const before = process.cpuUsage();
      const outcome = await engine.run({ source: { kind: 'bytes', bytes: input }, pipeline: pipeline.spec, sink: { kind: 'bytes' }, priority: 'interactive' });
      const used = process.cpuUsage(before);
      const busy = (used.user + used.system) / 1000 / (performance.now() - started);
      assert.equal(outcome.ok, false);
      assert.equal(!outcome.ok && outcome.error.code, 'TIMEOUT');
      // Unstopped, this CLAHE goes on for many seconds at the share of a core it had: compared
      // with that share, not with a whole core, so a busy machine does not decide the result.
      const after = (await cpuDuring(2000)) / 2000;
      assert.ok(busy > 0.1, `the work was running (${(busy * 100).toFixed(0)} % of a core)`);
      assert.ok(after < busy * 0.3, `${(after * 100).toFixed(0)} % of a core after the timeout, ${(busy * 100).toFixed(0)} % before`);
    } finally {
      await engine.close();
    }
  });

  it('a client that goes away stops its work at the next step, and the CPU falls', async (t) => {
    const { url } = await serve(t, { limits: { maxWork: 1e12 } });
    const steps = Array.from({ length: 30 }, () => 'blur:60').join(',');
    const controller = new AbortController();
    const request = fetch(`${url}/v1/process?pipeline=${encodeURIComponent(`${steps},output:png`)}`, {
      method: 'POST', body: new Uint8Array(await noisePng(1500)), headers: { 'content-type': 'image/png' }, signal: controller.signal,
    }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const busy = (await cpuDuring(2000)) / 2000;
    controller.abort();
    await request;
    // One step (a blur of 2.25 MP) may still finish; then nothing more runs.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = (await cpuDuring(2000)) / 2000;
    assert.ok(busy > 0.1, `the work was running (${(busy * 100).toFixed(0)} % of a core)`);
    assert.ok(after < busy * 0.3, `${(after * 100).toFixed(0)} % of a core after the client went away, ${(busy * 100).toFixed(0)} % before`);
  });

  it('tiny inputs that buy minutes of CPU are refused before decoding, with the reason (422)', async (t) => {
    const { app } = await serve(t);
    // 1000×1000 of one colour: a few hundred bytes of WebP.
    const tiny = await sharp({ create: { width: 1000, height: 1000, channels: 3, background: '#808080' } }).webp().toBuffer();
    assert.ok(tiny.length < 5000);
    const clahe = await app.inject({ method: 'POST', url: '/v1/process?pipeline=clahe:1000:1000', headers: { 'content-type': 'image/webp' }, payload: tiny });
    assert.equal(clahe.statusCode, 422, clahe.body);
    assert.equal(clahe.json().error.code, 'TOO_MUCH_WORK');
    assert.match(clahe.json().error.message, /steps\[0\] \(clahe\): \d+ s\), over the limit of 10 s/);
    const big = await sharp({ create: { width: 7000, height: 7000, channels: 3, background: '#808080' } }).webp().toBuffer();
    const avif = await app.inject({ method: 'POST', url: '/v1/process?pipeline=output:avif', headers: { 'content-type': 'image/webp' }, payload: big });
    assert.deepEqual([avif.statusCode, avif.json().error.code], [422, 'TOO_MUCH_WORK']);
    assert.match(avif.json().error.message, /encoding avif/);
    // Ordinary work passes: a photo resized, blurred, sharpened and watermarked.
    const fine = await app.inject({ method: 'POST', url: '/v1/process?pipeline=resize:800,blur:2,sharpen,watermark:hi', headers: { 'content-type': 'image/jpeg' }, payload: readFileSync(join(CORPUS, 'photos', 'Aqua.jpg')) });
    assert.equal(fine.statusCode, 200, fine.body);
  });

  it('the cost model follows the measured shape: window, radius, output size and encoder multiply the work', () => {
    const work = (text: string, size = 1000) => estimateWork({ width: size, height: size }, validatePipeline(parsePipelineText(text)), 'png').total / 1e9;
    assert.ok(work('clahe:1000:1000') > 10 * work('clahe:100:100'));
    assert.ok(work('blur:100') > 3 * work('blur:2'));
    assert.ok(work('resize:10000:10000:fit=fill') > 50 * work('negate'));
    assert.ok(work('output:avif') > 30 * work('output:jpeg'));
    assert.ok(work('watermark:text=hello:size=10000') < 3 * work('watermark:text=hello'), 'text is never drawn larger than the image');
  });

  it('a huge text size draws a mask no larger than the image, and keeps none of it', async () => {
    const mask = await renderTextMaskWithin('imgfleet '.repeat(20), 10_000, { width: 300, height: 200 });
    assert.ok(mask.width <= 300 && mask.height <= 200, `${mask.width}×${mask.height}`);
  });

  it('amplification: a result over the per-image limit is 413; a job over its disk quota fails its images with 507 and keeps nothing', async (t) => {
    const dataDir = join(tempDir(t), 'data');
    const { app } = await serve(t, { limits: { maxOutputBytes: 1 << 20 }, maxJobBytes: 3 << 20, dataDir });
    const small = await noisePng(100);
    const amplified = await app.inject({ method: 'POST', url: '/v1/process?pipeline=resize:2000:2000:fit=fill,output:png', headers: { 'content-type': 'image/png' }, payload: small });
    assert.deepEqual([amplified.statusCode, amplified.json().error.code], [413, 'RESULT_TOO_LARGE']);

    // Each output ≈ 0.9 MiB; the job may keep 3 MiB: some succeed, the rest fail, and the disk holds less than the quota.
    const created = await app.inject({
      method: 'POST', url: '/v1/jobs',
      ...(await multipart({ pipeline: 'resize:560:560:fit=fill,output:png', file: Array.from({ length: 8 }, (_, i) => ({ name: `${i}.png`, bytes: small })) })),
    });
    assert.equal(created.statusCode, 202, created.body);
    const { id } = created.json();
    let status: { state: string; files: { status: string; error?: { code: string } }[] } = { state: '', files: [] };
    for (let i = 0; i < 300 && status.state !== 'done'; i++) {
      status = (await app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const codes = status.files.map((f) => f.error?.code ?? f.status);
    assert.ok(codes.includes('done') && codes.includes('STORAGE_FULL'), codes.join(' '));
    const outputs = readdirSync(join(dataDir, id, 'out')).map((name) => statSync(join(dataDir, id, 'out', name)).size);
    assert.ok(outputs.reduce((a, b) => a + b, 0) <= 3 << 20, 'the job kept no more than its quota');
    const mode = statSync(join(dataDir, id)).mode & 0o777;
    assert.equal(mode, 0o700, 'job folders are the server user\'s alone');
    for (const name of readdirSync(join(dataDir, id, 'in'))) assert.equal(statSync(join(dataDir, id, 'in', name)).mode & 0o077, 0, `upload ${name} is private`);
  });

  it('the zip is made as it is read: a reader that stops holds a chunk, not the archive', async (t) => {
    const dir = tempDir(t);
    const big = join(dir, 'big.bin');
    writeFileSync(big, Buffer.alloc(32 << 20, 7));
    const stream = zipStream([{ name: 'a.bin', path: big }, { name: 'b.bin', path: big }]);
    const first = await new Promise<Buffer>((resolve) => stream.once('data', resolve));
    stream.pause();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(first.length <= 1 << 20);
    assert.ok(stream.readableLength <= 2 << 20, `${stream.readableLength} bytes buffered for a reader that stopped`);
    stream.destroy();
  });

  it('a pipeline field over 64 KiB is refused, never cut short (a mandatory watermark cannot be dropped)', async (t) => {
    const { app } = await serve(t);
    const long = `${'negate,'.repeat(10_000)}watermark:mine,output:png`;
    const response = await app.inject({ method: 'POST', url: '/v1/process', ...(await multipart({ pipeline: long, file: { name: 'a.png', bytes: await gradientPng() } })) });
    assert.equal(response.statusCode, 413, response.body);
    assert.match(response.json().error.message, /field "pipeline" is over the limit of 64\.0 KiB: nothing was cut/);
  });

  it('DNS rebinding and cross-site requests: other Host names and other sites\' pages are refused', async (t) => {
    const { app } = await serve(t);
    const png = await gradientPng();
    const post = (headers: Record<string, string>) => app.inject({ method: 'POST', url: '/v1/process?pipeline=negate', headers: { 'content-type': 'image/png', ...headers }, payload: png });
    const rebound = await app.inject({ method: 'GET', url: '/v1/ops', headers: { host: 'evil.example:8080' } });
    assert.deepEqual([rebound.statusCode, rebound.json().error.code], [403, 'FORBIDDEN']);
    assert.equal((await app.inject({ method: 'GET', url: '/v1/ops', headers: { host: 'localhost:8080' } })).statusCode, 200);
    assert.equal((await post({ host: '127.0.0.1:8080', origin: 'https://evil.example' })).statusCode, 403);
    assert.equal((await post({ host: '127.0.0.1:8080', 'sec-fetch-site': 'cross-site' })).statusCode, 403);
    assert.equal((await post({ host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' })).statusCode, 200);
    assert.equal((await post({ host: '127.0.0.1:8080' })).statusCode, 200, 'clients that are not browsers send no Origin');
    const listed = await serve(t, { allowedOrigins: ['https://app.example'], allowedHosts: ['images.example'] });
    assert.equal((await listed.app.inject({ method: 'POST', url: '/v1/process?pipeline=negate', headers: { host: 'images.example', origin: 'https://app.example', 'content-type': 'image/png' }, payload: png })).statusCode, 200);
  });

  it('every response carries CSP (frame-ancestors none), nosniff, Referrer-Policy and a request id', async (t) => {
    const { app } = await serve(t, { token: 'tok' });
    for (const [url, expected] of [['/', 200], ['/ui/app.js', 200], ['/v1/ops', 401], ['/nowhere', 401], ['/healthz', 200], ['/docs', 200]] as const) {
      const response = await app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, expected, url);
      assert.match(String(response.headers['content-security-policy']), /default-src 'self'.*frame-ancestors 'none'/, url);
      assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(response.headers['referrer-policy'], 'no-referrer', url);
      assert.match(String(response.headers['x-request-id']), /^[0-9a-f-]{36}$/, url);
    }
  });

  it('a per-user cache folder, 0700, refused when another user owns it; planted or renamed entries are misses', async (t) => {
    const dir = join(tempDir(t), 'cache');
    const cache = await DiskCache.open(dir, 1 << 20);
    const key = 'a'.repeat(64);
    await cache.put(key, { meta: { kind: 'data', input: { format: 'png', width: 1, height: 1, bytes: 1 } }, body: Buffer.from('{"real":true}') });
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const file = join(dir, 'aa', key);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    // A planted entry: a valid-looking file under another key's name.
    const other = 'b'.repeat(64);
    mkdirSync(join(dir, 'bb'), { recursive: true });
    writeFileSync(join(dir, 'bb', other), readFileSync(file));
    assert.equal(await cache.get(other), undefined, 'an entry filed under another key is not served');
    // A body changed in place.
    const bytes = readFileSync(file);
    bytes[bytes.length - 2] ^= 1;
    writeFileSync(file, bytes);
    assert.equal(await cache.get(key), undefined, 'a changed entry is not served');
    if (process.getuid?.() === 0) {
      const foreign = join(tempDir(t), 'foreign');
      mkdirSync(foreign);
      chownSync(foreign, 1, 1);
      await assert.rejects(DiskCache.open(foreign, 1 << 20), /belongs to another user/);
    }
  });

  it('SSRF: redirects keep the exact scheme and port; the missing ranges are refused; errors name nothing inside', async (t) => {
    const origin = await startOrigin();
    t.after(() => origin.server.close());
    const store = (allowHosts: string[] = []) => new HttpOriginStore({ baseUrl: origin.url, maxBytes: 1024, timeoutMs: 3000, allowPrivate: true, allowHosts });
    // 127.0.0.2 allowed without a port: its default port only, never the origin's port by accident.
    await assert.rejects(store(['127.0.0.2']).read('to-127.0.0.2'), (error: { code: string; message: string }) => {
      assert.equal(error.code, 'FORBIDDEN');
      assert.doesNotMatch(error.message, /127\.0\.0\.2|allowed:/);
      return true;
    });
    for (const address of ['::ffff:8.8.8.8', '::8.8.8.8', '64:ff9b:1::1', 'fec0::1', '100::1', '::ffff:7f00:1']) assert.ok(isPrivateAddress(address), address);
    for (const address of ['8.8.8.8', '93.184.216.34', '2606:4700::1111']) assert.ok(!isPrivateAddress(address), address);
    const refused = new HttpOriginStore({ baseUrl: origin.url, maxBytes: 1024, timeoutMs: 3000 });
    await assert.rejects(refused.read('a.png'), (error: { message: string }) => !/127\.0\.0\.1|loopback/.test(error.message));
    const closed = new HttpOriginStore({ baseUrl: 'http://127.0.0.1:1/', maxBytes: 1024, timeoutMs: 3000, allowPrivate: true });
    await assert.rejects(closed.read('a.png'), (error: { code: string; message: string }) => error.code === 'BAD_ORIGIN' && !/ECONNREFUSED/.test(error.message));
  });

  it('If-None-Match: * on an image URL is answered without fetching the source', async (t) => {
    let fetched = 0;
    const origin = await startOrigin();
    origin.server.prependListener('request', () => { fetched++; });
    t.after(() => origin.server.close());
    const { app } = await serve(t, { sources: new HttpOriginStore({ baseUrl: origin.url, maxBytes: 1 << 20, timeoutMs: 3000, allowPrivate: true }), signingKeys: [KEY] });
    const response = await app.inject({ method: 'GET', url: signedPath('/resize:10/a.png', [KEY]), headers: { 'if-none-match': '*' } });
    assert.equal(response.statusCode, 304);
    assert.equal(fetched, 0);
  });

  it('--assets-dir takes plain files only: symbolic links are refused, wherever they lead', async (t) => {
    const dir = tempDir(t);
    const assets = join(dir, 'assets');
    mkdirSync(assets);
    writeFileSync(join(assets, 'logo.png'), await gradientPng());
    writeFileSync(join(dir, 'secret.png'), await gradientPng());
    symlinkSync(join(dir, 'secret.png'), join(assets, 'out.png'));
    symlinkSync(join(assets, 'logo.png'), join(assets, 'in.png'));
    const loader = new AssetLoader({ kind: 'folder', dir: assets });
    assert.ok((await loader.load('logo.png')).length > 0);
    await assert.rejects(loader.load('out.png'), /not a file in the assets folder|symbolic link/);
    await assert.rejects(loader.load('in.png'), /a symbolic link; the assets folder takes plain files only/);
  });

  it('leaks: no paths, libvips internals, host names or worker counts in what anyone may read', async (t) => {
    const { app } = await serve(t);
    const truncated = readFileSync(join(CORPUS, 'bad', 'truncated.jpg'));
    const corrupt = await app.inject({ method: 'POST', url: '/v1/process?pipeline=negate', headers: { 'content-type': 'image/jpeg' }, payload: truncated });
    assert.equal(corrupt.json().error.code, 'CORRUPT_IMAGE');
    assert.doesNotMatch(corrupt.json().error.message, /vips|Vips/);
    assert.ok(corrupt.json().error.requestId, 'the log has the decoder\'s words, under this id');
    const ok = await app.inject({ method: 'POST', url: '/v1/process?pipeline=negate', headers: { 'content-type': 'image/png' }, payload: await gradientPng() });
    assert.match(String(ok.headers['x-imgfleet-worker']), /^(thread-\d+|main)$/);
    assert.deepEqual((await app.inject({ method: 'GET', url: '/readyz' })).json(), { status: 'ready' });
  });

  it('robustness: malformed cookies, prototype names and broken multipart are 4xx, never 500', async (t) => {
    const { app } = await serve(t, { token: 'tok' });
    for (const cookie of ['imgfleet_session=%E0%A4%A', 'imgfleet_session', '=;;=;', 'imgfleet_session=1.x', `imgfleet_session=${'9'.repeat(12)}.${'A'.repeat(43)}`]) {
      assert.equal((await app.inject({ method: 'GET', url: '/v1/ops', headers: { cookie } })).statusCode, 401, cookie);
    }
    for (const url of ['/ui/constructor', '/ui/__proto__', '/ui/hasOwnProperty', '/ui/%2e%2e%2fpackage.json']) {
      assert.equal((await app.inject({ method: 'GET', url })).statusCode, 404, url);
    }
    const auth = { authorization: 'Bearer tok' };
    const form = await multipart({ pipeline: 'negate', file: { name: 'a.png', bytes: await gradientPng() } });
    const cut = await app.inject({ method: 'POST', url: '/v1/process', headers: { ...form.headers, ...auth }, payload: form.payload.subarray(0, form.payload.length - 40) });
    assert.ok(cut.statusCode >= 400 && cut.statusCode < 500, `truncated multipart: ${cut.statusCode} ${cut.body}`);
    const noBoundary = await app.inject({ method: 'POST', url: '/v1/process', headers: { 'content-type': 'multipart/form-data', ...auth }, payload: form.payload });
    assert.ok(noBoundary.statusCode >= 400 && noBoundary.statusCode < 500, `no boundary: ${noBoundary.statusCode}`);
    const jobCut = await app.inject({ method: 'POST', url: '/v1/jobs', headers: { ...form.headers, ...auth }, payload: form.payload.subarray(0, 200) });
    assert.ok(jobCut.statusCode >= 400 && jobCut.statusCode < 500, `truncated job upload: ${jobCut.statusCode}`);
  });

  it('uploads cannot overwrite each other; outputs never take an uploaded non-image extension', async (t) => {
    const { app } = await serve(t);
    const images = await Promise.all(Array.from({ length: 14 }, (_, i) => toPng(synthetic(8, 8, 1, () => i * 10))));
    const names = images.map((_, i) => (i === 0 ? 'upload-12' : i === 1 ? 'part-13.png' : i === 2 ? 'run.exe' : `${i}.png`));
    const created = await app.inject({ method: 'POST', url: '/v1/jobs', ...(await multipart({ pipeline: 'histogram:bins=2', file: images.map((bytes, i) => ({ name: names[i], bytes })) })) });
    assert.equal(created.statusCode, 202, created.body);
    const { id } = created.json();
    let status: { state: string; files: { name: string; data?: { channels: { gray: number[] } } }[] } = { state: '', files: [] };
    for (let i = 0; i < 200 && status.state !== 'done'; i++) {
      status = (await app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Each file's own pixels: value i × 10 falls in bin 0 below 128, in bin 1 from 128.
    status.files.forEach((file, i) => assert.deepEqual(file.data?.channels.gray, i * 10 < 128 ? [64, 0] : [0, 64], file.name));
    assert.ok(!status.files.some((f) => f.name.endsWith('.exe')));
  });

  it('limits on what one may keep open: jobs, event streams and tiles', async (t) => {
    const { app, url } = await serve(t, { maxJobs: 1, maxEventStreams: 1 });
    // Seconds of blurring, so the first job is still running while its events are asked for.
    const slow = await toPng(synthetic(1500, 1500, 3, (x, y) => (x * y) % 256));
    const start = () => app.inject({ method: 'POST', url: '/v1/jobs', ...(multipartSync(slow, 'blur:60,blur:60,blur:60')) });
    const first = await start();
    assert.equal(first.statusCode, 202);
    assert.deepEqual([(await start()).statusCode], [429]);
    const controller = new AbortController();
    const open = await fetch(`${url}/v1/jobs/${first.json().id}/events`, { signal: controller.signal });
    t.after(() => controller.abort());
    assert.equal(open.status, 200);
    const second = await fetch(`${url}/v1/jobs/${first.json().id}/events`);
    assert.equal(second.status, 429);
    const large = await toPng(synthetic(4200, 4200, 1, (x) => x % 256));
    const tiles = await app.inject({ method: 'POST', url: '/v1/process?pipeline=blur:1&tile=64', headers: { 'content-type': 'image/png' }, payload: large });
    assert.deepEqual([tiles.statusCode, tiles.json().error.code], [422, 'NOT_TILEABLE']);
    assert.match(tiles.json().error.message, /into 4356 tiles, over the limit of 4096/);
  });

  it('signing keys shorter than 32 bytes are refused', async () => {
    const engine = new LocalEngine({ threads: 1 });
    try {
      await assert.rejects(buildServer({ engine, signingKeys: ['k1'] }), /shorter than 32 bytes/);
    } finally {
      await engine.close();
    }
  });
});

/** A one-image job upload. */
function multipartSync(png: Buffer, pipeline = 'negate'): { payload: Buffer; headers: Record<string, string> } {
  const boundary = 'imgfleet-test-boundary';
  return {
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    payload: Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="pipeline"\r\n\r\n${pipeline}\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`),
      png, Buffer.from(`\r\n--${boundary}--\r\n`),
    ]),
  };
}
