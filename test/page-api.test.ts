import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { ERROR_CODES } from '../src/errors.js';
import { CORPUS, decode, photo, ROOT, synthetic, tempDir, toPng } from './helpers.js';
import { multipart, readEvents, startCluster, testServer, type TestServer } from './server-helpers.js';

/** What the page needs from the API beyond running jobs: words for errors, placed problems, logos, previews, histograms. */
describe('the API behind the page', () => {
  let server: TestServer;
  let dataDir: string;

  before(async () => {
    dataDir = join(ROOT, 'out', `page-api-${process.pid}`);
    server = await testServer('local', undefined, { dataDir });
  });
  after(() => server?.close());

  const check = async (query: Record<string, string>) => {
    const response = await server.app.inject({ method: 'GET', url: `/v1/pipeline/check?${new URLSearchParams(query)}` });
    assert.equal(response.statusCode, 200);
    return response.json();
  };

  /** Posts a job and waits for its end event; returns its final status. */
  const runJob = async (fields: Parameters<typeof multipart>[0]) => {
    const address = await listen(server);
    const form = await multipart(fields);
    const created = await fetch(`${address}/v1/jobs`, { method: 'POST', body: new Uint8Array(form.payload), headers: form.headers });
    assert.equal(created.status, 202, await created.clone().text());
    const job = await created.json() as { id: string; events: string; files: number };
    const events = await readEvents(`${address}${job.events}`);
    return { ...job, status: events.at(-1)!.data };
  };

  it('serves the page and each of its modules, compressed for browsers that accept gzip', async () => {
    const page = await server.app.inject({ method: 'GET', url: '/', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    assert.deepEqual([page.statusCode, page.headers['content-encoding'], page.headers['content-type']], [200, 'gzip', 'text/html; charset=utf-8']);
    const html = gunzipSync(page.rawPayload).toString();
    assert.equal(html, readFileSync(join(ROOT, 'src', 'server', 'ui', 'index.html'), 'utf8'));
    // Every module the page imports is served.
    const modules = new Set(['app.js']);
    for (const name of modules) {
      const response = await server.app.inject({ method: 'GET', url: `/ui/${name}` });
      assert.deepEqual([response.statusCode, response.headers['content-type']], [200, 'text/javascript; charset=utf-8'], name);
      assert.equal(response.headers['content-encoding'], undefined);
      for (const [, imported] of response.body.matchAll(/from '\.\/([\w-]+\.js)'/g)) modules.add(imported);
    }
    assert.ok(modules.size >= 7, [...modules].join(', '));
    assert.equal((await server.app.inject({ method: 'GET', url: '/ui/constructor' })).statusCode, 404);
  });

  it('GET /v1/errors lists every error code with its status, and the page explains each one in plain words', async () => {
    const { errors } = (await server.app.inject({ method: 'GET', url: '/v1/errors' })).json() as { errors: { code: string; status: number; retryable: boolean }[] };
    assert.deepEqual(errors.map((e) => e.code), ERROR_CODES);
    const byCode = Object.fromEntries(errors.map((e) => [e.code, e]));
    // The statuses the README's error table promises.
    assert.deepEqual([byCode.BAD_PIPELINE.status, byCode.UNAUTHORIZED.status, byCode.FORBIDDEN.status, byCode.NOT_FOUND.status,
      byCode.FILE_TOO_LARGE.status, byCode.NOT_AN_IMAGE.status, byCode.TOO_MANY_PIXELS.status, byCode.QUEUE_FULL.status, byCode.INTERNAL.status],
    [400, 401, 403, 404, 413, 415, 422, 429, 500]);
    assert.deepEqual([byCode.QUEUE_FULL.retryable, byCode.NOT_AN_IMAGE.retryable], [true, false]);

    const words = await import(pathToFileURL(join(ROOT, 'src', 'server', 'ui', 'words.js')).href) as { PLAIN_ERRORS: Record<string, { title: string; advice: string }> };
    const unexplained = errors.map((e) => e.code).filter((code) => !words.PLAIN_ERRORS[code]?.title || !words.PLAIN_ERRORS[code]?.advice);
    assert.deepEqual(unexplained, [], 'error codes the page does not explain (add them to src/server/ui/words.js)');
    for (const [code, { title, advice }] of Object.entries(words.PLAIN_ERRORS)) {
      assert.ok(!`${title} ${advice}`.includes(code) && !/steps\[|_/.test(`${title} ${advice}`), `${code} is explained in engine words`);
    }
  });

  it('GET /v1/pipeline/check places each problem at its step and field, and checks tiling before any upload', async () => {
    const bad = await check({ pipeline: 'resize:800,sharpen:50' });
    assert.deepEqual(bad.problems, [{ code: 'BAD_PIPELINE', step: 1, field: 'sigma', message: 'expected a number from 0.3 to 10, got 50' }]);
    // As read, so that a form can show the steps with the problem at its field.
    assert.deepEqual(bad.parsed, { steps: [{ op: 'resize', width: 800 }, { op: 'sharpen', sigma: 50 }] });
    assert.equal(bad.spec, undefined);
    assert.deepEqual((await check({ pipeline: 'blur:-1,sharpen:amount=99,output:format=bmp' })).problems, [
      { code: 'BAD_PIPELINE', step: 0, field: 'sigma', message: 'expected a number from 0.3 to 100, got -1' },
      { code: 'BAD_PIPELINE', step: 1, field: 'amount', message: 'expected a number from 0 to 20, got 99' },
      { code: 'BAD_PIPELINE', field: 'output.format', message: 'expected one of jpeg, png, webp, avif, tiff, gif, jxl, auto, got "bmp"' },
    ]);
    const unreadable = await check({ pipeline: 'resize:1:2:3' });
    assert.deepEqual(unreadable.problems, [{ code: 'BAD_PIPELINE', step: 0, message: 'too many unnamed values at "3"; name it, like key=3' }]);
    assert.equal(unreadable.parsed, undefined);
    assert.deepEqual((await check({ pipeline: 'crop:width=10' })).problems, [{ code: 'BAD_PIPELINE', step: 0, field: 'height', message: 'required' }]);

    const good = await check({ pipeline: 'resize:width=640:enlarge=false,watermark:text=© me%2C 2026' });
    assert.equal(good.valid, true);
    assert.equal(good.compact, 'resize:width=640:enlarge=false,watermark:text=©%20me%2C%202026');
    assert.deepEqual(good.tiling, { possible: false, reason: 'no step works on tiles (only geometry or placed steps)' });

    const canny = await check({ pipeline: 'blur:2,edges:canny', tile: '256' });
    assert.equal(canny.valid, false);
    assert.deepEqual(canny.problems, [{
      code: 'NOT_TILEABLE', step: 1,
      message: 'cannot run on tiles: edges:canny follows weak edges from strong ones across the whole image (hysteresis)',
    }]);
    assert.equal((await check({ pipeline: 'blur:2,edges:canny' })).valid, true);
    assert.deepEqual((await check({ pipeline: 'blur:2', tile: '10' })).problems,
      [{ code: 'BAD_USAGE', field: 'tile', message: 'expected a tile size in pixels from 64 to 65535, got "10"' }]);
    assert.equal((await check({ pipeline: 'blur:2', tile: '256' })).valid, true);

    const noLogo = await check({ pipeline: 'watermark:image=me.png' });
    assert.deepEqual([noLogo.problems[0].step, noLogo.problems[0].field], [0, 'image']);
    assert.match(noLogo.problems[0].message, /send "me\.png" with the request \(multipart field "logo"\)/);
    assert.equal((await check({ pipeline: 'watermark:image=me.png', logos: 'me.png' })).valid, true);
  });

  it('draws a logo sent with POST /v1/process, exactly where and as it was asked', async () => {
    // A grey 120×80 image and an opaque 20×10 logo: red on the left half, blue on the right.
    const image = await toPng(synthetic(120, 80, 3, () => 128));
    const logo = await toPng(synthetic(20, 10, 4, (x, _y, c) => [x < 10 ? 255 : 0, 0, x < 10 ? 0 : 255, 255][c]));
    const response = await server.app.inject({
      method: 'POST', url: '/v1/process',
      ...(await multipart({ pipeline: 'watermark:image=mark.png:position=top-left:opacity=1:margin=0:size=20,output:png', file: { name: 'grey.png', bytes: image }, logo: { name: 'mark.png', bytes: logo } })),
    });
    assert.equal(response.statusCode, 200, response.body);
    const out = await decode(response.rawPayload);
    const at = (x: number, y: number) => [...out.data.subarray((y * out.width + x) * 3, (y * out.width + x) * 3 + 3)];
    assert.deepEqual([at(0, 0), at(9, 9), at(10, 0), at(19, 9), at(20, 0), at(0, 10), at(119, 79)],
      [[255, 0, 0], [255, 0, 0], [0, 0, 255], [0, 0, 255], [128, 128, 128], [128, 128, 128], [128, 128, 128]]);
    // The logo travelled with the request, in memory: nothing of it stays on disk.
    assert.equal(existsSync(join(dataDir, 'logos')), false);

    const send = async (fields: Parameters<typeof multipart>[0]) => {
      const r = await server.app.inject({ method: 'POST', url: '/v1/process', ...(await multipart({ file: { name: 'grey.png', bytes: image }, ...fields })) });
      return [r.statusCode, r.json().error.code, r.json().error.message];
    };
    assert.deepEqual(await send({ pipeline: 'watermark:image=notes.png', logo: { name: 'notes.png', bytes: Buffer.from('not an image, just words') } }),
      [415, 'NOT_AN_IMAGE', 'logo "notes.png": not an image: the content matches no known image format']);
    const [status, code, message] = await send({ pipeline: 'watermark:image=other.png', logo: { name: 'mark.png', bytes: logo } });
    assert.deepEqual([status, code], [400, 'BAD_PIPELINE']);
    assert.match(message, /^steps\[0\]\.image: this server has no logos: send "other\.png" with the request/);
    const five = [1, 2, 3, 4, 5].map((n) => ({ name: `${n}.png`, bytes: logo }));
    assert.deepEqual((await send({ pipeline: 'negate', logo: five })).slice(0, 2), [413, 'TOO_MANY_FILES']);
  });

  it('keeps a logo sent with a job for as long as the job runs, not as one of its images', async () => {
    const grey = await toPng(synthetic(160, 120, 3, () => 90));
    const logoBytes = readFileSync(join(CORPUS, 'odd', 'logo.png'));
    const job = await runJob({
      pipeline: 'watermark:image=logo.png:opacity=1:position=center,output:png',
      file: [{ name: 'a.png', bytes: grey }, { name: 'b.png', bytes: grey }],
      logo: { name: 'logo.png', bytes: logoBytes },
    });
    assert.equal(job.files, 2);
    assert.deepEqual(job.status.counts, { total: 2, queued: 0, running: 0, done: 2, failed: 0 });
    for (const file of job.status.files) {
      const out = await decode((await server.app.inject({ method: 'GET', url: file.output.url })).rawPayload);
      // Every pixel of the input was grey 90; the logo left a mark in the middle.
      const centre = ((60 * out.width) + 80) * out.channels;
      let changed = 0;
      for (let i = 0; i < out.data.length; i++) if (out.data[i] !== 90) changed++;
      assert.ok(changed > 100, `${file.name}: the logo left no mark`);
      assert.ok(out.data[centre] !== 90 || out.data[centre + 1] !== 90 || out.data[centre + 2] !== 90, `${file.name}: nothing drawn at the centre`);
    }
    assert.equal(existsSync(join(dataDir, 'logos')), false, 'the logo travels with the job, not through a shared folder');
  });

  it('serves a job\'s TIFF upload and output as PNGs of the same pixels, and a JPEG as it is', async () => {
    // A photo saved as TIFF, which browsers do not show.
    const tiff = await sharp(photo('chelsea.png')).tiff().toBuffer();
    const job = await runJob({ pipeline: 'flip', file: [{ name: 'page.tif', bytes: tiff }, { name: 'Aqua.jpg', bytes: readFileSync(photo('Aqua.jpg')) }] });
    assert.equal(job.status.counts.done, 2);
    const get = (url: string) => server.app.inject({ method: 'GET', url });

    const input = await get(`/v1/jobs/${job.id}/previews/0/input`);
    assert.deepEqual([input.statusCode, input.headers['content-type'], input.headers['x-imgfleet-preview']], [200, 'image/png', 'png']);
    assert.deepEqual(await decode(input.rawPayload), await decode(tiff));

    const output = await get(`/v1/jobs/${job.id}/previews/0/output`);
    assert.deepEqual([output.headers['content-type'], output.headers['x-imgfleet-preview']], ['image/png', 'png']);
    assert.equal(job.status.files[0].output.format, 'tiff');
    const tiffOut = (await get(job.status.files[0].output.url)).rawPayload;
    assert.deepEqual(await decode(output.rawPayload), await decode(tiffOut));
    // The same pixels as the upload, mirrored: an independent check that the preview is of the output.
    const original = await decode(tiff);
    const mirrored = await decode(output.rawPayload);
    const px = (img: typeof original, x: number, y: number) => [...img.data.subarray((y * img.width + x) * img.channels, (y * img.width + x + 1) * img.channels)];
    assert.deepEqual(px(mirrored, 0, 3), px(original, original.width - 1, 3));

    const jpeg = await get(`/v1/jobs/${job.id}/previews/1/output`);
    assert.deepEqual([jpeg.headers['content-type'], jpeg.headers['x-imgfleet-preview']], ['image/jpeg', 'original']);
    assert.deepEqual(jpeg.rawPayload, (await get(job.status.files[1].output.url)).rawPayload);
    const upload = await get(`/v1/jobs/${job.id}/previews/1/input`);
    assert.deepEqual(upload.rawPayload, readFileSync(photo('Aqua.jpg')));

    assert.equal((await get(`/v1/jobs/${job.id}/previews/2/input`)).statusCode, 404);
    assert.equal((await get(`/v1/jobs/${job.id}/previews/0/sideways`)).statusCode, 400);
  });

  it('computes the histograms of a job\'s upload and output where they are, equal to counts of the decoded pixels', async () => {
    const bad = readFileSync(join(CORPUS, 'bad', 'truncated.jpg'));
    const job = await runJob({ pipeline: 'grayscale,output:png', file: [{ name: 'rocket.jpg', bytes: readFileSync(photo('rocket.jpg')) }, { name: 'broken.jpg', bytes: bad }] });
    const response = await server.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/histograms/0` });
    assert.equal(response.statusCode, 200);
    const { input, output } = response.json();
    const counted = async (bytes: Buffer, bins = 256) => {
      const image = await decode(bytes);
      const counts = Array.from({ length: Math.min(3, image.channels) }, () => new Array<number>(bins).fill(0));
      for (let i = 0; i < image.data.length; i += image.channels) {
        for (let c = 0; c < counts.length; c++) counts[c][Math.floor((image.data[i + c] * bins) / 256)]++;
      }
      return counts;
    };
    assert.deepEqual([input.file, input.width, input.height], ['rocket.jpg', 640, 427]);
    assert.deepEqual([input.channels.red, input.channels.green, input.channels.blue], await counted(readFileSync(photo('rocket.jpg'))));
    const outBytes = (await server.app.inject({ method: 'GET', url: job.status.files[0].output.url })).rawPayload;
    assert.deepEqual(Object.keys(output.channels), ['gray']);
    assert.deepEqual([output.channels.gray], await counted(outBytes));

    const binned = (await server.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/histograms/0?bins=4` })).json();
    assert.deepEqual([binned.output.channels.gray], await counted(outBytes, 4));
    const failed = (await server.app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/histograms/1` }));
    assert.deepEqual([failed.statusCode, failed.json().error.code], [415, 'CORRUPT_IMAGE']);
    assert.equal(existsSync(join(dataDir, job.id)), true);
    assert.equal((await sharp(outBytes).metadata()).channels, 1);
  });
});

describe('a logo sent with a job on a cluster', () => {
  it('travels with the job through Redis to the worker process, which draws it (no shared folder)', async (t) => {
    const cluster = await startCluster();
    t.after(() => cluster.stop());
    const server = await testServer('cluster', cluster, { dataDir: join(ROOT, 'out', `page-api-cluster-${process.pid}`) });
    t.after(() => server.close());
    const address = await listen(server);
    const grey = await toPng(synthetic(100, 80, 3, () => 128));
    const logo = await toPng(synthetic(10, 10, 4, (_x, _y, c) => [255, 0, 0, 255][c]));
    const form = await multipart({ pipeline: 'watermark:image=red.png:position=top-left:opacity=1:margin=0:size=10,output:png', file: { name: 'grey.png', bytes: grey }, logo: { name: 'red.png', bytes: logo } });
    const created = await fetch(`${address}/v1/jobs`, { method: 'POST', body: new Uint8Array(form.payload), headers: form.headers });
    const job = await created.json() as { events: string };
    const end = (await readEvents(`${address}${job.events}`)).at(-1)!.data;
    assert.equal(end.files[0].status, 'done', JSON.stringify(end.files[0].error));
    assert.equal(end.files[0].worker.startsWith('api-worker'), true);
    const out = await decode(Buffer.from(await (await fetch(`${address}${end.files[0].output.url}`)).arrayBuffer()));
    assert.deepEqual([...out.data.subarray(0, 3), ...out.data.subarray((11 * 100 + 11) * 3, (11 * 100 + 11) * 3 + 3)], [255, 0, 0, 128, 128, 128]);
  });
});

async function listen(server: TestServer): Promise<string> {
  const address = server.app.server.address();
  if (address && typeof address === 'object') return `http://127.0.0.1:${address.port}`;
  return server.app.listen({ host: '127.0.0.1', port: 0 });
}
