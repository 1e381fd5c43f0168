import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { parsePipelineText } from '../src/pipeline/load.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { signedPath } from '../src/server/signing.js';
import { processTiled, processTiledFile } from '../src/tiling/run-tiled.js';
import { LocalFolderStore } from '../src/sources/local-folder.js';
import { readAnimation } from './animation-container.js';
import { cli, decode, maxDifference, photo, runPipeline, tempDir } from './helpers.js';
import { testServer, type TestServer } from './server-helpers.js';

async function size(bytes: Buffer): Promise<[number, number]> {
  const { width, height } = await sharp(bytes).metadata();
  return [width!, height!];
}

describe('resize dpr', () => {
  it('a 200 px request at dpr=2 gives 400 px, on both lanes, the height following', async () => {
    const jpeg = readFileSync(photo('rocket.jpg'));
    const [w, h] = await size(jpeg);
    for (const [text, input] of [['resize:200:dpr=2', jpeg], ['resize:200:dpr=2,output:png', readFileSync(photo('coffee.png'))]] as const) {
      const result = await runPipeline(text, input);
      assert.ok(result.kind === 'image');
      const [iw, ih] = await size(input);
      assert.deepEqual(await size(result.data), [400, Math.round((ih * 400) / iw)], text);
    }
    const both = await runPipeline('resize:100:80:fit=fill:dpr=1.5', jpeg);
    assert.ok(both.kind === 'image');
    assert.deepEqual(await size(both.data), [150, 120]);
    assert.ok(w > 0 && h > 0);
    await assert.rejects(runPipeline('resize:200:dpr=5', jpeg), /steps\[0\]\.dpr: expected a number from 1 to 4, got 5/);
  });
});

describe('output maxBytes', () => {
  for (const format of ['jpeg', 'webp'] as const) {
    it(`${format}: the result fits, and one quality higher would not`, async () => {
      const input = photo('chelsea.png');
      const budget = 9_000;
      const result = await runPipeline(`resize:300,output:${format}:maxBytes=${budget}`, input);
      assert.ok(result.kind === 'image');
      assert.ok(result.data.length <= budget, `${result.data.length} bytes`);
      assert.equal((await sharp(result.data).metadata()).format, format);
      const quality = result.stats.quality!;
      assert.ok(Number.isInteger(quality) && quality >= 1 && quality < 100, `quality ${quality}`);
      const above = await runPipeline(`resize:300,output:${format}:quality=${quality + 1}`, input);
      assert.ok(above.kind === 'image' && above.data.length > budget, `quality ${quality + 1}: ${above.kind === 'image' ? above.data.length : 0} bytes`);
      const same = await runPipeline(`resize:300,output:${format}:quality=${quality}`, input);
      assert.ok(same.kind === 'image' && same.data.length === result.data.length);
    });
  }

  it('a JPEG input does not take the libjpeg-turbo lane, whose encoder has no search', async () => {
    const jpeg = await sharp(photo('chelsea.png')).resize(500, 375).jpeg({ quality: 90 }).toBuffer();
    assert.equal((await runPipeline('resize:200,output:jpeg', jpeg)).stats.path, 'jpeg-turbo');
    const result = await runPipeline('resize:200,output:jpeg:maxBytes=6000', jpeg);
    assert.equal(result.stats.path, 'libvips');
    assert.ok(result.kind === 'image' && result.data.length <= 6000);
  });

  it('an image run as tiles keeps to the budget too, in memory and to a file', async (t) => {
    const p = validatePipeline(parsePipelineText('blur:1,output:jpeg:maxBytes=15000'));
    const whole = await processTiled(photo('chelsea.png'), p, { tileSize: 128 });
    assert.ok(whole.kind === 'image' && whole.data.length <= 15_000 && whole.stats.tiles!.count > 1);
    const out = join(tempDir(t), 'tiled.jpg');
    const file = await processTiledFile(photo('chelsea.png'), out, p, { tileSize: 128 });
    assert.ok(readFileSync(out).length <= 15_000);
    assert.equal(file.stats.quality, whole.stats.quality);
  });

  it('a budget that fits at once keeps the quality asked for', async () => {
    const result = await runPipeline('resize:64,output:jpeg:quality=70:maxBytes=1000000', photo('chelsea.png'));
    assert.equal(result.stats.quality, 70);
  });

  it('a budget too small even for quality 1, or for a format without quality, is a clear error', async () => {
    await assert.rejects(runPipeline('output:jpeg:maxBytes=100', photo('chelsea.png')),
      (error: Error & { code?: string }) => error.code === 'RESULT_TOO_LARGE' && /^output\.maxBytes: even quality 1 makes .* of jpeg, over the 100 bytes asked/.test(error.message));
    await assert.rejects(runPipeline('output:png:maxBytes=1000', photo('chelsea.png')), /output\.maxBytes: the png result is .*png has no quality to lower/);
  });
});

describe('trim', () => {
  it('cuts a one-colour border away exactly: the inner photo comes back pixel for pixel', async () => {
    const inner = await sharp(photo('coffee.png')).resize(150, 100).removeAlpha().png().toBuffer();
    const bordered = await sharp(inner).extend({ top: 13, bottom: 7, left: 21, right: 4, background: '#ffffff' }).png().toBuffer();
    const result = await runPipeline('trim,output:png', bordered);
    assert.ok(result.kind === 'image');
    assert.deepEqual(await size(result.data), [150, 100]);
    assert.equal(maxDifference(await decode(result.data), await decode(inner)), 0);
  });

  it('threshold: a border that wavers within it is still border; above it, it is kept', async () => {
    const inner = await sharp(photo('chelsea.png')).resize(120, 90).removeAlpha().raw().toBuffer();
    // A dark border whose levels vary by up to 6 (noise as a scan leaves it).
    const W = 160;
    const H = 130;
    const data = Buffer.alloc(W * H * 3);
    for (let i = 0; i < data.length; i++) data[i] = 20 + ((i * 7919) % 7);
    for (let y = 0; y < 90; y++) inner.copy(data, ((y + 25) * W + 30) * 3, y * 120 * 3, (y + 1) * 120 * 3);
    const png = await sharp(data, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
    const trimmed = await runPipeline('trim:threshold=20,output:png', png);
    assert.ok(trimmed.kind === 'image');
    assert.deepEqual(await size(trimmed.data), [120, 90]);
    const kept = await runPipeline('trim:threshold=0,output:png', png);
    assert.ok(kept.kind === 'image');
    const [kw, kh] = await size(kept.data);
    assert.ok(kw > 120 && kh > 90, `${kw}×${kh}`);
  });

  it('an image of one colour is kept whole; a bad threshold is refused, naming the field', async () => {
    const flat = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#336699' } }).png().toBuffer();
    const result = await runPipeline('trim', flat);
    assert.ok(result.kind === 'image');
    assert.deepEqual(await size(result.data), [40, 30]);
    await assert.rejects(runPipeline('trim:threshold=-1', flat), /steps\[0\]\.threshold: expected a number from 0 to 255, got -1/);
  });
});

describe('client hints on image URLs (--client-hints)', () => {
  let server: TestServer;
  let plain: TestServer;
  const cleanups: (() => void)[] = [];
  const KEYS = ['hint-key-0123456789abcdef0123456789'];
  before(async () => {
    const dir = tempDir({ after: (fn) => cleanups.push(fn) });
    const sources = join(dir, 'sources');
    mkdirSync(sources);
    copyFileSync(photo('coffee.png'), join(sources, 'coffee.png'));
    const options = { sources: new LocalFolderStore(sources, 10 << 20), signingKeys: KEYS };
    server = await testServer('local', undefined, { ...options, clientHints: true });
    plain = await testServer('local', undefined, options);
  });
  after(async () => {
    await server?.close();
    await plain?.close();
    for (const fn of cleanups) fn();
  });
  const get = (app: TestServer, path: string, headers: Record<string, string> = {}) =>
    app.app.inject({ method: 'GET', url: signedPath(path, KEYS), headers });

  it('Sec-CH-DPR or DPR multiply a resize’s width; Vary names them; a dpr in the URL wins', async () => {
    for (const header of ['sec-ch-dpr', 'dpr']) {
      const response = await get(server, '/resize:200,output:png/coffee.png', { [header]: '2' });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal((await size(response.rawPayload))[0], 400);
      assert.match(String(response.headers.vary), /Sec-CH-DPR, DPR/);
      assert.match(String(response.headers['accept-ch']), /Sec-CH-DPR/);
    }
    const none = await get(server, '/resize:200,output:png/coffee.png');
    assert.equal((await size(none.rawPayload))[0], 200);
    const fixed = await get(server, '/resize:200:dpr=1.5,output:png/coffee.png', { 'sec-ch-dpr': '3' });
    assert.equal((await size(fixed.rawPayload))[0], 300);
    const clamped = await get(server, '/resize:100,output:png/coffee.png', { dpr: '9' });
    assert.equal((await size(clamped.rawPayload))[0], 400);
    // Different hints, different results: their ETags differ.
    assert.notEqual(none.headers.etag, (await get(server, '/resize:200,output:png/coffee.png', { dpr: '2' })).headers.etag);
  });

  it('Width sets the width of a resize that gives none; Vary names it too', async () => {
    const response = await get(server, '/resize:height=300,output:png/coffee.png', { 'sec-ch-width': '120' });
    assert.equal(response.statusCode, 200, response.body);
    const [width, height] = await size(response.rawPayload);
    assert.ok(width <= 120 && height <= 300);
    assert.equal(width, 120);
    assert.match(String(response.headers.vary), /Sec-CH-Width, Width/);
  });

  it('the registry carries it all to /v1/ops, OpenAPI and `imgfleet ops`: trim, position, dpr, frames, maxBytes', async () => {
    const ops = (await plain.app.inject({ method: 'GET', url: '/v1/ops' })).json();
    assert.deepEqual(ops.operations.trim.properties.threshold.maximum, 255);
    assert.deepEqual(ops.operations.resize.properties.position.enum.slice(-2), ['attention', 'entropy']);
    assert.equal(ops.operations.resize.properties.dpr.maximum, 4);
    assert.deepEqual(ops.output.properties.frames.enum, ['all', 'first']);
    assert.equal(ops.output.properties.maxBytes.type, 'integer');
    const openapi = (await plain.app.inject({ method: 'GET', url: '/docs/json' })).json();
    assert.ok('threshold' in openapi.components.schemas.Operations.properties.trim.properties);
    assert.ok('position' in openapi.components.schemas.Operations.properties.resize.properties);
    const listed = await cli(['ops']);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /^trim — Trim border/m);
    assert.match(listed.stdout, /^ {4}maxBytes /m);
  });

  it('output:auto keeps an animation animated: WebP where AVIF would be one frame', async () => {
    const frames = await Promise.all(['coffee.png', 'chelsea.png'].map((name) => sharp(photo(name)).resize(80, 60, { fit: 'fill' }).png().toBuffer()));
    const gif = await sharp(frames, { join: { animated: true } }).gif({ delay: [120, 240] }).toBuffer();
    const still = await sharp(frames[0]).gif().toBuffer();
    const post = (payload: Buffer, pipeline: string) => plain.app.inject({
      method: 'POST', url: `/v1/process?pipeline=${pipeline}`, payload, headers: { 'content-type': 'application/octet-stream', accept: 'image/avif,image/webp,*/*' },
    });
    const animated = await post(gif, 'resize:40,output:auto');
    assert.equal(animated.headers['content-type'], 'image/webp');
    assert.deepEqual(readAnimation(animated.rawPayload).delays, [120, 240]);
    assert.equal((await post(still, 'resize:40,output:auto')).headers['content-type'], 'image/avif');
    assert.equal((await post(gif, 'resize:40,output:auto:frames=first')).headers['content-type'], 'image/avif');
  });

  it('without --client-hints the headers change nothing and no Vary is sent for them', async () => {
    const response = await get(plain, '/resize:200,output:png/coffee.png', { 'sec-ch-dpr': '2', width: '50' });
    assert.equal((await size(response.rawPayload))[0], 200);
    assert.equal(response.headers.vary, undefined);
    assert.equal(response.headers['accept-ch'], undefined);
  });
});
