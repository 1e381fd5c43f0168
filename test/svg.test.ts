/**
 * SVG inputs: drawn at a density, refused by the pixel limit from the size they declare before
 * anything is drawn, and never allowed to fetch or read what they reference.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { imageInfo } from '../src/info/image-info.js';
import { DEFAULT_LIMITS } from '../src/limits.js';
import { formatCompact, parseCompact } from '../src/pipeline/compact.js';
import { processImage } from '../src/pipeline/process.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { signedPath } from '../src/server/signing.js';
import { LocalFolderStore } from '../src/sources/local-folder.js';
import { runPipeline, tempDir } from './helpers.js';
import { testServer } from './server-helpers.js';

const svg = (attributes: string, body: string) => Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ${attributes}>${body}</svg>`);
/** 100 × 50 points: the left half red, the right half blue. */
const HALVES = svg('width="100" height="50"', '<rect width="50" height="50" fill="#ff0000"/><rect x="50" width="50" height="50" fill="#0000ff"/>');

async function pixelAt(png: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [...data.subarray(at, at + info.channels)];
}

describe('SVG input', () => {
  it('is drawn at its declared size, or at a density given with input:<dpi>; the result is PNG unless asked', async () => {
    const plain = await runPipeline('grayscale', HALVES);
    assert.equal(plain.kind, 'image');
    if (plain.kind !== 'image') return;
    assert.deepEqual([plain.format, plain.width, plain.height, plain.stats.input.format], ['png', 100, 50, 'svg']);
    const dense = await runPipeline('input:144,flip:horizontal', HALVES);
    assert.ok(dense.kind === 'image');
    if (dense.kind !== 'image') return;
    assert.deepEqual([dense.width, dense.height], [200, 100]);
    assert.deepEqual(await pixelAt(dense.data, 10, 50), [0, 0, 255, 255], 'flipped: blue on the left');
    assert.deepEqual(await pixelAt(dense.data, 190, 50), [255, 0, 0, 255]);
    const viewBox = await runPipeline('input:density=36', svg('viewBox="0 0 80 40"', '<rect width="80" height="40" fill="#00ff00"/>'));
    assert.deepEqual(viewBox.kind === 'image' && [viewBox.width, viewBox.height], [40, 20]);
  });

  it('input is part of the pipeline: compact and JSON forms, normalised, checked', () => {
    const pipeline = validatePipeline(parseCompact('input:144,resize:50'));
    assert.deepEqual(pipeline.spec.input, { density: 144 });
    assert.equal(formatCompact(pipeline.spec, { omitDefaults: true }), 'input:density=144,resize:width=50');
    assert.deepEqual(validatePipeline({ input: { density: 300 }, steps: [] }).input, { density: 300 });
    assert.throws(() => validatePipeline(parseCompact('input:density=0,negate')), { code: 'BAD_PIPELINE', message: /input\.density: expected a number from 1 to 2400, got 0/ });
    assert.throws(() => validatePipeline({ input: { dpi: 2 }, steps: [] }), { code: 'BAD_PIPELINE', message: /input\.dpi: unknown parameter/ });
  });

  it('a 100,000 × 100,000 SVG, or a small one at a huge density, is refused with TOO_MANY_PIXELS before it is drawn', async () => {
    const bomb = svg('width="100000" height="100000"', '<rect width="100000" height="100000" fill="#123456"/>');
    const started = performance.now();
    await assert.rejects(runPipeline('negate', bomb), { code: 'TOO_MANY_PIXELS', message: /100000×100000/ });
    await assert.rejects(imageInfo(bomb, DEFAULT_LIMITS), { code: 'TOO_MANY_PIXELS' });
    await assert.rejects(runPipeline('negate', svg('viewBox="0 0 100000 100000"', '')), { code: 'TOO_MANY_PIXELS' });
    // 10,000 points at 2,400 dpi: 333,333 px a side.
    await assert.rejects(runPipeline('input:2400,negate', svg('width="10000" height="10000"', '')), { code: 'TOO_MANY_PIXELS', message: /333333×333333/ });
    // Drawing 10^10 pixels would take minutes and 40 GB: refused from the declared size alone.
    assert.ok(performance.now() - started < 5000, `took ${performance.now() - started} ms`);
  });

  it('never fetches what it references, nor reads files beside it', async (t) => {
    const requests: string[] = [];
    const origin = createServer((request, response) => {
      requests.push(request.url ?? '');
      response.writeHead(200, { 'content-type': 'image/png' }).end();
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    t.after(() => origin.close());
    const { port } = origin.address() as AddressInfo;
    const remote = svg('width="20" height="20"', `<image href="http://127.0.0.1:${port}/x.png" width="20" height="20"/>`
      + `<image xlink:href="http://127.0.0.1:${port}/y.png" width="20" height="20"/><style>@import url("http://127.0.0.1:${port}/z.css");</style>`);
    await runPipeline('negate', remote);
    await imageInfo(remote, DEFAULT_LIMITS);
    assert.deepEqual(requests, []);

    const dir = tempDir(t);
    await sharp({ create: { width: 20, height: 20, channels: 3, background: '#00ff00' } }).png().toFile(join(dir, 'green.png'));
    writeFileSync(join(dir, 'draw.svg'), svg('width="20" height="20"', '<image href="green.png" xlink:href="green.png" width="20" height="20"/>'));
    // A path, as a batch hands a local file to libvips.
    const drawn = await processImage(join(dir, 'draw.svg'), validatePipeline(parseCompact('output:png')));
    assert.ok(drawn.kind === 'image');
    if (drawn.kind !== 'image') return;
    assert.deepEqual(await pixelAt(drawn.data, 10, 10), [0, 0, 0, 0], 'the file beside it is not drawn');
  });

  it('over HTTP: POST /v1/process takes an SVG body with its density; /v1/info lists svg as read, not written', async () => {
    const server = await testServer('local', undefined);
    try {
      const response = await server.app.inject({ method: 'POST', url: '/v1/process?pipeline=input:144', headers: { 'content-type': 'image/svg+xml' }, payload: HALVES });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.headers['content-type'], 'image/png');
      assert.deepEqual([response.headers['x-image-width'], response.headers['x-image-height']], ['200', '100']);
      const info = await server.app.inject({ method: 'POST', url: '/v1/info?density=144', headers: { 'content-type': 'image/svg+xml' }, payload: HALVES });
      assert.deepEqual([info.json().format, info.json().width, info.json().height], ['svg', 200, 100]);
      const { formats } = (await server.app.inject({ method: 'GET', url: '/v1/info' })).json() as { formats: { read: string[]; write: string[] } };
      assert.ok(formats.read.includes('svg'));
      assert.ok(!formats.write.includes('svg'));
    } finally {
      await server.close();
    }
  });

  it('image URLs draw an SVG source at the density they name, each density its own result', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'halves.svg'), HALVES);
    const key = 'svg-key-0123456789abcdef0123456789ab';
    const server = await testServer('local', undefined, { sources: new LocalFolderStore(dir, 1 << 20), signingKeys: [key] });
    try {
      const plain = await server.app.inject({ method: 'GET', url: signedPath('/output:png/halves.svg', [key]) });
      const dense = await server.app.inject({ method: 'GET', url: signedPath('/input:216,output:png/halves.svg', [key]) });
      assert.equal(dense.statusCode, 200, dense.body);
      assert.deepEqual([plain.headers['x-image-width'], dense.headers['x-image-width'], dense.headers['x-image-height']], ['100', '300', '150']);
      assert.notEqual(plain.headers.etag, dense.headers.etag);
      assert.deepEqual(await pixelAt(dense.rawPayload, 299, 149), [0, 0, 255, 255]);
    } finally {
      await server.close();
    }
  });
});
