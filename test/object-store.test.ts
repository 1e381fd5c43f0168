import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { readEnvironment } from '../src/config.js';
import { collectObjects } from '../src/io/collect-objects.js';
import { S3Client } from '../src/sources/s3/s3-client.js';
import { s3Settings } from '../src/sources/s3/s3-settings.js';
import { startServer } from '../src/server/server.js';
import { withObjects } from '../src/task/object-io.js';
import { localIo } from '../src/task/task-io.js';
import { freePort } from './cluster-helpers.js';
import { cli, photo, tempDir } from './helpers.js';
import { recordingProxy, startS3, type TestS3 } from './s3-helpers.js';

/** Rejects with an ImgfleetError of this code and a message of one line matching `message`. */
async function refused(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: { code?: string; message: string }) => {
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    assert.ok(!error.message.includes('\n'), 'one line');
    return true;
  });
}

async function putPhotos(s3: TestS3, bucket: string, prefix: string, names: string[]): Promise<void> {
  for (const name of names) await s3.client.put({ bucket, key: `${prefix}${name}` }, readFileSync(photo(name)));
}

async function keysUnder(s3: TestS3, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of s3.client.list({ bucket, prefix })) keys.push(...page.map((o) => o.key));
  return keys;
}

const PHOTOS = ['coffee.png', 'chelsea.png', 'camera.png'];

describe('object storage', { timeout: 240_000 }, () => {
  it('round trips objects: keys with spaces and accents, metadata, ranges, a copy, a delete', async (t) => {
    const s3 = await startS3(t, ['round']);
    const ref = { bucket: 'round', key: 'a folder/café (1).jpg' };
    const body = Buffer.from('not really a jpeg, but bytes');
    await s3.client.put(ref, body, { contentType: 'image/jpeg', metadata: { note: 'kept' } });
    const { body: back, head } = await s3.client.get(ref, 1000);
    assert.ok(back.equals(body));
    assert.deepEqual([head.size, head.contentType, head.metadata.note], [body.length, 'image/jpeg', 'kept']);
    assert.equal((await s3.client.getHead(ref, 4)).toString(), 'not ');
    await s3.client.copy(ref, { bucket: 'round', key: 'copy.jpg' });
    assert.ok((await s3.client.get({ bucket: 'round', key: 'copy.jpg' }, 1000)).body.equals(body));
    await s3.client.delete(ref);
    await refused(s3.client.get(ref, 1000), 'NOT_FOUND', /^no object s3:\/\/round\/a folder\/café \(1\)\.jpg$/);
  });

  it('lists past 1,000 keys a page at a time, and --glob filters keys', async (t) => {
    const s3 = await startS3(t, ['many']);
    const keys = Array.from({ length: 1050 }, (_, i) => `in/${i % 3 === 0 ? 'sub/' : ''}${String(i).padStart(4, '0')}.${i % 2 ? 'jpg' : 'png'}`);
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < keys.length) await s3.client.put({ bucket: 'many', key: keys[next++] }, Buffer.from('x'));
    }));
    const pages: number[] = [];
    for await (const page of s3.client.list({ bucket: 'many', prefix: 'in/' })) pages.push(page.length);
    assert.deepEqual(pages, [1000, 50]);
    const all = await collectObjects(s3.client, 's3://many/in/');
    assert.deepEqual(all.files.map((f) => f.source.key).sort(), [...keys].sort());
    const jpegs = await collectObjects(s3.client, 's3://many/in/', '*.jpg');
    assert.equal(jpegs.files.length, 525);
    assert.ok(jpegs.files.every((f) => f.relative.endsWith('.jpg') && f.source.etag && f.source.size === 1));
    const sub = await collectObjects(s3.client, 's3://many/in/', 'sub/*.png');
    assert.deepEqual(sub.files.map((f) => f.relative), keys.filter((k) => k.startsWith('in/sub/') && k.endsWith('.png')).map((k) => k.slice(3)).sort());
  });

  it('uploads a large output in parts, and reads it back whole', async (t) => {
    const s3 = await startS3(t, ['parts']);
    const proxy = await recordingProxy(t, s3.endpoint);
    const client = new S3Client({ ...s3.client.settings, endpoint: proxy.endpoint }, { partBytes: 5 * 1024 * 1024 });
    t.after(() => client.close());
    const body = Buffer.alloc(12 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4) body.writeUInt32LE((i * 2654435761) >>> 0, i);
    await client.put({ bucket: 'parts', key: 'big.raw' }, body);
    const parts = proxy.requests.filter((r) => /^PUT \/parts\/big\.raw\?.*partNumber=\d/.test(r));
    assert.equal(parts.length, 3, proxy.requests.join('\n'));
    assert.ok(proxy.requests.some((r) => /^POST \/parts\/big\.raw\?uploads/.test(r)) && proxy.requests.some((r) => /^POST \/parts\/big\.raw\?uploadId=/.test(r)));
    const { body: back } = await client.get({ bucket: 'parts', key: 'big.raw' }, 64 * 1024 * 1024);
    assert.ok(back.equals(body), 'the same bytes back');
    // Refused from the object's length, before its body is read.
    await refused(client.get({ bucket: 'parts', key: 'big.raw' }, 1024 * 1024), 'FILE_TOO_LARGE', /big\.raw is 12\.0 MiB, over the limit of 1\.0 MiB/);
  });

  it('says in one line what is wrong: a missing bucket or key, refused credentials, a wrong endpoint', async (t) => {
    const s3 = await startS3(t, ['errs']);
    await putPhotos(s3, 'errs', 'in/', ['coffee.png']);
    const run = (args: string[], env: Record<string, string> = {}) => cli(['run', ...args, '-p', 'resize:32'], { ...s3.env, ...env });
    const out = tempDir(t);
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['s3://nothere/in/', '-o', out], {}, /^imgfleet: no bucket "nothere" at http:\/\/127\.0\.0\.1:\d+$/],
      [['s3://errs/none/', '-o', out], {}, /^imgfleet: no images found in s3:\/\/errs\/none\/$/],
      [['s3://errs/in/', '-o', out], { AWS_ACCESS_KEY_ID: 'someone-else' }, /refused the credentials \(InvalidAccessKeyId\): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY$/],
      [['s3://errs/in/', '-o', out], { AWS_ACCESS_KEY_ID: '' }, /^imgfleet: no credentials for the object store: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY$/],
      [['s3://errs/in/', '-o', out, '--s3-endpoint', `http://127.0.0.1:${await freePort()}`], {}, /cannot reach the object store at http:\/\/127\.0\.0\.1:\d+: connection refused \(check --s3-endpoint or AWS_ENDPOINT_URL_S3\)$/],
      [['s3://errs/in/', '-o', 's3://errs/in/'], {}, /^imgfleet: refusing to overwrite input s3:\/\/errs\/in\/coffee\.png: choose another output prefix$/],
    ];
    for (const [args, env, message] of cases) {
      const result = await run(args, env);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr.trim(), message);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    }
    // An HTTP server that is not a store at all.
    const web = createServer((_, response) => { response.writeHead(404, { 'content-type': 'text/html' }).end('<html>nothing here</html>'); });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => web.close(resolve)));
    const notS3 = await run(['s3://errs/in/', '-o', out, '--s3-endpoint', `http://127.0.0.1:${(web.address() as { port: number }).port}`]);
    assert.equal(notS3.status, 2);
    assert.match(notS3.stderr.trim(), /answered HTTP 404 without an S3 error: is it an S3 endpoint\?/);
    // A key that vanished between the listing and the read fails that image only.
    const missing = s3.client;
    await refused(missing.get({ bucket: 'errs', key: 'in/gone.png' }, 100), 'NOT_FOUND', /^no object s3:\/\/errs\/in\/gone\.png$/);
  });

  it('runs bucket to bucket, folder to bucket and bucket to folder with the outputs of a local run', async (t) => {
    const s3 = await startS3(t, ['pics']);
    const dir = tempDir(t);
    const local = join(dir, 'local');
    mkdirSync(join(local, 'sub'), { recursive: true });
    for (const name of PHOTOS) writeFileSync(join(local, 'sub', name), readFileSync(photo(name)));
    writeFileSync(join(local, 'notes.txt'), 'not an image');
    await putPhotos(s3, 'pics', 'in/sub/', PHOTOS);
    await s3.client.put({ bucket: 'pics', key: 'in/notes.txt' }, Buffer.from('not an image'));
    const pipeline = 'resize:96:96:fit=fill,grayscale,output:webp';
    const expected = join(dir, 'expected');
    assert.equal((await cli(['run', local, '-o', expected, '-p', pipeline])).status, 0);

    const toBucket = await cli(['run', 's3://pics/in/', '-o', 's3://pics/out/', '-p', pipeline, '--json'], s3.env);
    assert.equal(toBucket.status, 0, toBucket.stderr);
    const report = JSON.parse(toBucket.stdout) as { summary: { done: number; skipped: number }; items: { input: string; output: string }[] };
    assert.deepEqual([report.summary.done, report.summary.skipped], [3, 1]);
    assert.deepEqual((await keysUnder(s3, 'pics', 'out/')).sort(), PHOTOS.map((n) => `out/sub/${n.replace('.png', '.webp')}`).sort());
    for (const name of PHOTOS) {
      const webp = name.replace('.png', '.webp');
      const { body, head } = await s3.client.get({ bucket: 'pics', key: `out/sub/${webp}` }, 1 << 20);
      assert.ok(body.equals(readFileSync(join(expected, 'sub', webp))), `${webp}: the bytes of the local run`);
      assert.equal(head.contentType, 'image/webp');
      const meta = await sharp(body).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 96, 96]);
    }

    const fromFolder = await cli(['run', local, '-o', 's3://pics/from-folder/', '-p', pipeline], s3.env);
    assert.equal(fromFolder.status, 0, fromFolder.stderr);
    assert.deepEqual((await keysUnder(s3, 'pics', 'from-folder/')).length, 3);
    const toFolder = join(dir, 'back');
    const back = await cli(['run', 's3://pics/in/sub/', '-o', toFolder, '-p', pipeline, '--glob', 'co*.png'], s3.env);
    assert.equal(back.status, 0, back.stderr);
    assert.deepEqual(readdirSync(toFolder).sort(), ['coffee.webp']);
    assert.ok(readFileSync(join(toFolder, 'coffee.webp')).equals(readFileSync(join(expected, 'sub', 'coffee.webp'))));

    const one = await cli(['process', 's3://pics/in/sub/camera.png', '-o', 's3://pics/one/camera.png', '-p', 'resize:50'], s3.env);
    assert.equal(one.status, 0, one.stderr);
    assert.match(one.stdout, /^wrote s3:\/\/pics\/one\/camera\.png \(50×\d+ png/);
    const histogram = await cli(['histogram', 's3://pics/in/sub/', '--bins', '8', '--json'], s3.env);
    const localHistogram = await cli(['histogram', join(local, 'sub'), '--bins', '8', '--json']);
    assert.equal(histogram.status, 0, histogram.stderr);
    assert.deepEqual(JSON.parse(histogram.stdout), JSON.parse(localHistogram.stdout));
  });

  it('keeps results in a bucket: a second run is served from it by copies inside the store', async (t) => {
    const s3 = await startS3(t, ['cached']);
    await putPhotos(s3, 'cached', 'in/', PHOTOS);
    const args = (out: string) => ['run', 's3://cached/in/', '-o', out, '-p', 'resize:80,sepia,output:jpeg', '--cache-s3', 's3://cached/cache/', '--json'];
    const first = await cli(args('s3://cached/a/'), s3.env);
    const second = await cli(args('s3://cached/b/'), s3.env);
    for (const result of [first, second]) assert.equal(result.status, 0, result.stderr);
    const caches = (result: typeof first) => (JSON.parse(result.stdout) as { items: { cache: string }[] }).items.map((i) => i.cache);
    assert.deepEqual(caches(first), ['miss', 'miss', 'miss']);
    assert.deepEqual(caches(second), ['hit', 'hit', 'hit']);
    assert.equal((await keysUnder(s3, 'cached', 'cache/')).length, 3);
    for (const name of PHOTOS.map((n) => n.replace('.png', '.jpg'))) {
      const a = await s3.client.get({ bucket: 'cached', key: `a/${name}` }, 1 << 20);
      const b = await s3.client.get({ bucket: 'cached', key: `b/${name}` }, 1 << 20);
      assert.ok(a.body.equals(b.body), name);
      assert.equal(b.head.contentType, 'image/jpeg');
    }
    // A rewritten input has a new ETag, and so a new address: it is computed again.
    await s3.client.put({ bucket: 'cached', key: 'in/coffee.png' }, await sharp(photo('coffee.png')).flip().png().toBuffer());
    const third = await cli(args('s3://cached/c/'), s3.env);
    assert.deepEqual(caches(third).sort(), ['hit', 'hit', 'miss']);
    // A local folder's batch uses the bucket's cache too, through the bytes.
    const dir = tempDir(t);
    const local = join(dir, 'in');
    mkdirSync(local);
    writeFileSync(join(local, 'camera.png'), readFileSync(photo('camera.png')));
    const runLocal = () => cli(['run', local, '-o', join(dir, 'out'), '-p', 'resize:80,sepia,output:jpeg', '--cache-s3', 's3://cached/cache/', '--json'], s3.env);
    assert.deepEqual(caches(await runLocal()), ['miss']);
    assert.deepEqual(caches(await runLocal()), ['hit']);
  });

  it('serves image URLs from a bucket, with the result cache in the bucket (two servers share it)', async (t) => {
    const s3 = await startS3(t, ['site']);
    await putPhotos(s3, 'site', 'photos/', ['chelsea.png']);
    const settings = s3Settings(readEnvironment(s3.env, false));
    const serve = () => startServer({
      host: '127.0.0.1', port: 0, threads: 1, sourceS3: 's3://site/photos/', s3: settings, allowUnsigned: true,
      cache: { s3: 's3://site/cache/' },
    });
    const [a, b] = [await serve(), await serve()];
    t.after(async () => { await a.close(); await b.close(); });
    assert.equal(a.cache, 's3');
    const path = '/i/_/resize:120,output:png/chelsea.png';
    const first = await fetch(a.url + path);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-imgfleet-cache'), 'miss');
    const body = Buffer.from(await first.arrayBuffer());
    const expected = await sharp(photo('chelsea.png')).resize(120).png().toBuffer();
    const [got, want] = [await sharp(body).raw().toBuffer({ resolveWithObject: true }), await sharp(expected).raw().toBuffer({ resolveWithObject: true })];
    assert.deepEqual([got.info.width, got.info.height], [want.info.width, want.info.height]);
    const second = await fetch(b.url + path);
    assert.equal(second.headers.get('x-imgfleet-cache'), 'hit', 'the other server found it in the bucket');
    assert.ok(Buffer.from(await second.arrayBuffer()).equals(body));
    assert.equal(second.headers.get('etag'), first.headers.get('etag'));
    assert.equal((await keysUnder(s3, 'site', 'cache/')).length, 1);
    assert.equal((await fetch(`${a.url}/i/_/resize:120/missing.png`)).status, 404);
    assert.equal((await fetch(`${a.url}/i/_/resize:120/..%2Fcache%2Fx`)).status, 404);
    // A rewritten source has a new ETag, and so a new address.
    await s3.client.put({ bucket: 'site', key: 'photos/chelsea.png' }, await sharp(photo('chelsea.png')).negate().png().toBuffer());
    const changed = await fetch(a.url + path);
    assert.equal(changed.headers.get('x-imgfleet-cache'), 'miss');
    assert.notEqual(changed.headers.get('etag'), first.headers.get('etag'));
  });

  it('a worker reads and writes objects only under its --s3-root', async (t) => {
    const s3 = await startS3(t, ['mine', 'theirs']);
    await s3.client.put({ bucket: 'mine', key: 'in/a.png' }, readFileSync(photo('coffee.png')));
    await s3.client.put({ bucket: 'theirs', key: 'secret.png' }, readFileSync(photo('coffee.png')));
    const store = new S3Client(s3Settings(readEnvironment(s3.env, false)));
    t.after(() => store.close());
    const io = withObjects(localIo({ roots: [] }), { store, roots: [{ bucket: 'mine', prefix: 'in/' }, { bucket: 'mine', prefix: 'out/' }] });
    assert.ok((await io.read({ kind: 'object', bucket: 'mine', key: 'in/a.png' }, 1 << 20)).length > 0);
    for (const key of ['secret.png', 'in/../secret.png', 'inside/a.png', 'in//a.png']) {
      await refused(io.read({ kind: 'object', bucket: key === 'secret.png' ? 'theirs' : 'mine', key }, 1 << 20), 'FORBIDDEN', /outside the prefixes this worker may use \(--s3-root\)/);
    }
    await refused(io.checkSink({ kind: 'object', bucket: 'mine', key: 'elsewhere/x.png' }), 'FORBIDDEN', /outside the prefixes/);
    await refused(withObjects(localIo(), { store, roots: [] }).read({ kind: 'object', bucket: 'mine', key: 'in/a.png' }, 1 << 20), 'FORBIDDEN', /takes no object keys \(start it with --s3-root/);
  });
});
