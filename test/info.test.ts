/**
 * Image information and placeholders: every fact checked against a value found independently
 * (exiftool and Pillow for the corpus photos, images made here with known colours and frames).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decode as decodeBlurhash } from 'blurhash';
import sharp from 'sharp';
import { thumbHashToAverageRGBA, thumbHashToRGBA } from 'thumbhash';
import { imageInfo } from '../src/info/image-info.js';
import { parseCompact } from '../src/pipeline/compact.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { DEFAULT_LIMITS } from '../src/limits.js';
import { signedPath } from '../src/server/signing.js';
import { LocalFolderStore } from '../src/sources/local-folder.js';
import { cli, photo, pngClaiming, runPipeline, synthetic, tempDir, toPng } from './helpers.js';
import { multipart, startCluster, testServer, type Cluster, type Mode, type TestServer } from './server-helpers.js';
import { DiskCache } from '../src/cache/disk-cache.js';

/** Pillow's mean of each RGB channel, in sRGB (through the embedded ICC profile, as a browser shows it). */
function pillowMean(file: string): number[] {
  const script = `
import sys, io, json
from PIL import Image, ImageStat, ImageCms
im = Image.open(sys.argv[1]).convert('RGB') if 'icc_profile' not in Image.open(sys.argv[1]).info else Image.open(sys.argv[1])
icc = im.info.get('icc_profile')
if icc: im = ImageCms.profileToProfile(im, ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile('sRGB'), outputMode='RGB')
print(json.dumps(ImageStat.Stat(im).mean))`;
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8' })) as number[];
}

/** The mean of each RGB channel of decoded RGBA pixels. */
function meanRgb(rgba: ArrayLike<number>): number[] {
  const sums = [0, 0, 0];
  for (let i = 0; i < rgba.length; i += 4) for (let c = 0; c < 3; c++) sums[c] += rgba[i + c];
  return sums.map((sum) => sum / (rgba.length / 4));
}

function assertClose(actual: number[], expected: number[], tolerance: number, what: string): void {
  const worst = Math.max(...actual.map((v, i) => Math.abs(v - expected[i])));
  assert.ok(worst <= tolerance, `${what}: ${actual.map((v) => v.toFixed(1))} vs ${expected.map((v) => v.toFixed(1))} (off by ${worst.toFixed(1)})`);
}

const thumbhashBytes = (base64: string) => new Uint8Array(Buffer.from(base64, 'base64'));

describe('image information', () => {
  it('a solid colour: both placeholders decode back to it, and it is the dominant colour', async () => {
    const solid = await toPng(synthetic(120, 80, 3, (_x, _y, c) => [30, 120, 200][c]));
    const info = await imageInfo(solid, DEFAULT_LIMITS);
    assert.equal(info.dominant.length, 7);
    // libvips' dominant colour is the centre of a 16-level bin of the histogram.
    assertClose([1, 3, 5].map((i) => parseInt(info.dominant.slice(i, i + 2), 16)), [30, 120, 200], 8, 'dominant');
    const average = thumbHashToAverageRGBA(thumbhashBytes(info.thumbhash));
    assertClose([average.r * 255, average.g * 255, average.b * 255], [30, 120, 200], 3, 'thumbhash average');
    const decoded = thumbHashToRGBA(thumbhashBytes(info.thumbhash));
    assert.ok(Math.abs(decoded.w / decoded.h - 1.5) < 0.2, `aspect ${decoded.w}×${decoded.h}`);
    assertClose(meanRgb(decoded.rgba), [30, 120, 200], 3, 'thumbhash decoded');
    assertClose(meanRgb(decodeBlurhash(info.blurhash, 24, 16)), [30, 120, 200], 2, 'blurhash decoded');
    assert.match(info.placeholderDataUrl, /^data:image\/png;base64,/);
    assert.deepEqual([info.width, info.height, info.format, info.frames, info.alpha, info.orientation], [120, 80, 'png', 1, false, 1]);
  });

  it('a photo: the ThumbHash decodes back to the mean colour Pillow measures in sRGB, the BlurHash near it', async () => {
    for (const name of ['chelsea.png', 'rocket.jpg', 'coffee.png']) {
      const info = await imageInfo(photo(name), DEFAULT_LIMITS);
      const mean = pillowMean(photo(name));
      const average = thumbHashToAverageRGBA(thumbhashBytes(info.thumbhash));
      assertClose([average.r * 255, average.g * 255, average.b * 255], mean, 8, `${name} thumbhash average`);
      assertClose(meanRgb(thumbHashToRGBA(thumbhashBytes(info.thumbhash)).rgba), mean, 10, `${name} thumbhash decoded`);
      // BlurHash averages in linear light, so its sRGB mean sits a little off the sRGB mean.
      assertClose(meanRgb(decodeBlurhash(info.blurhash, 32, 32)), mean, 20, `${name} blurhash decoded`);
    }
  });

  it('EXIF date and camera, and ICC profile names, as exiftool and Pillow read them', async () => {
    const storm = await imageInfo(photo('Storm.jpg'), DEFAULT_LIMITS);
    assert.equal(storm.date, '2008-04-20T19:12:06');
    assert.deepEqual(storm.camera, { make: 'Canon', model: 'Canon EOS 400D DIGITAL' });
    for (const name of ['Storm.jpg', 'Wood.jpg', 'Dune.jpg']) {
      const said = JSON.parse(execFileSync('/usr/bin/python3', ['-c', `
import sys, json
from PIL import Image
exif = Image.open(sys.argv[1]).getexif()
taken = exif.get_ifd(0x8769).get(36867)
print(json.dumps({"date": taken.replace(":", "-", 2).replace(" ", "T"), "make": exif.get(271).strip(), "model": exif.get(272).strip()}))`, photo(name)], { encoding: 'utf8' })) as { date: string; make: string; model: string };
      const info = await imageInfo(photo(name), DEFAULT_LIMITS);
      assert.deepEqual({ date: info.date, make: info.camera?.make, model: info.camera?.model }, said, name);
    }
    assert.deepEqual([storm.width, storm.height, storm.format], [1920, 1280, 'jpeg']);
    assert.equal(storm.icc, undefined);
    const rocket = await imageInfo(photo('rocket.jpg'), DEFAULT_LIMITS);
    assert.equal(rocket.icc, 'Adobe RGB (1998)');
    assert.equal(rocket.date, undefined);
    assert.equal(rocket.camera, undefined);
    assert.equal((await imageInfo(photo('chelsea.png'), DEFAULT_LIMITS)).icc, 'sRGB IEC61966-2.1');
  });

  it('frames of an animated GIF made by Pillow, alpha, and the EXIF orientation turning the size', async (t) => {
    const dir = tempDir(t);
    const gif = join(dir, 'moving.gif');
    execFileSync('/usr/bin/python3', ['-c', `
import sys
from PIL import Image
frames = [Image.new('RGB', (30, 20), (40 * i, 200 - 30 * i, 90)) for i in range(6)]
frames[0].save(sys.argv[1], save_all=True, append_images=frames[1:], duration=80, loop=0)`, gif]);
    const moving = await imageInfo(gif, DEFAULT_LIMITS);
    assert.deepEqual([moving.format, moving.frames, moving.width, moving.height], ['gif', 6, 30, 20]);
    const turned = await sharp(await toPng(synthetic(40, 10, 4, (x, _y, c) => [x * 6, 50, 90, 128][c]))).withMetadata({ orientation: 6 }).png().toBuffer();
    const info = await imageInfo(await sharp(turned).jpeg().withMetadata({ orientation: 6 }).toBuffer(), DEFAULT_LIMITS);
    assert.deepEqual([info.orientation, info.width, info.height, info.alpha], [6, 10, 40, false]);
    assert.equal((await imageInfo(turned, DEFAULT_LIMITS)).alpha, true);
  });

  it('bad input: one clear error, checked before decoding', async () => {
    await assert.rejects(imageInfo(Buffer.from('hello, not an image'), DEFAULT_LIMITS), { code: 'NOT_AN_IMAGE' });
    await assert.rejects(imageInfo(pngClaiming(100_000, 100_000), DEFAULT_LIMITS), { code: 'TOO_MANY_PIXELS' });
    await assert.rejects(imageInfo(Buffer.alloc(0), DEFAULT_LIMITS), { code: 'EMPTY_FILE' });
  });
});

describe('the info operation', () => {
  it('is a pipeline of its own: alone it yields the information; with other steps it is refused', async () => {
    const result = await runPipeline('info', photo('rocket.jpg'));
    assert.equal(result.kind, 'data');
    assert.equal(result.kind === 'data' && (result.data as { icc?: string }).icc, 'Adobe RGB (1998)');
    assert.throws(() => validatePipeline(parseCompact('resize:100,info')), { code: 'BAD_PIPELINE', message: /steps\[1\]: info reads the image file itself, so it must be the only step/ });
  });
});

describe('imgfleet info', () => {
  it('prints the facts, or JSON; a bad file is one line and exit 1', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'notes.jpg'), 'not an image');
    const text = await cli(['info', photo('Storm.jpg')]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /1920×1280/);
    assert.match(text.stdout, /taken\s+2008-04-20T19:12:06/);
    assert.match(text.stdout, /camera\s+Canon Canon EOS 400D DIGITAL/);
    const json = await cli(['info', '--json', photo('rocket.jpg'), join(dir, 'notes.jpg')]);
    assert.equal(json.status, 1);
    const listed = JSON.parse(json.stdout) as { file: string; icc?: string; error?: { code: string } }[];
    assert.equal(listed[0].icc, 'Adobe RGB (1998)');
    assert.equal(listed[1].error?.code, 'NOT_AN_IMAGE');
    const bad = await cli(['info', join(dir, 'notes.jpg')]);
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    assert.match(bad.stderr, /notes\.jpg: not an image/);
  });
});

for (const mode of ['local', 'cluster'] as Mode[]) {
  describe(`POST /v1/info and /i/<sig>/info/<source> (${mode} engine)`, () => {
    const KEY = 'info-key-0123456789abcdef0123456789';
    let cluster: Cluster | undefined;
    let server: TestServer;
    let cache: DiskCache;
    const cleanups: (() => void)[] = [];
    before(async () => {
      if (mode === 'cluster') cluster = await startCluster();
      const dir = tempDir({ after: (fn) => cleanups.push(fn) });
      mkdirSync(join(dir, 'photos'));
      copyFileSync(photo('Storm.jpg'), join(dir, 'photos', 'Storm.jpg'));
      cache = await DiskCache.open(join(dir, 'cache'), 16 << 20);
      server = await testServer(mode, cluster, {
        sources: new LocalFolderStore(dir, 10 << 20), signingKeys: [KEY], maxAgeSeconds: 600, cache,
        presets: new Map([['thumb', { steps: [{ op: 'resize', width: 64 }] }]]), presetsOnly: true,
      });
    });
    after(async () => {
      await server?.close();
      await cache?.close();
      for (const fn of cleanups) fn();
      await cluster?.stop();
    });

    it('answers an uploaded image\'s information, raw or multipart, from a worker; a bad body is a 4xx naming the problem', async () => {
      const raw = await server.app.inject({ method: 'POST', url: '/v1/info?name=rocket.jpg', headers: { 'content-type': 'image/jpeg' }, payload: readFileSync(photo('rocket.jpg')) });
      assert.equal(raw.statusCode, 200, raw.body);
      assert.equal(raw.json().icc, 'Adobe RGB (1998)');
      assert.equal(raw.json().file, 'rocket.jpg');
      if (mode === 'cluster') assert.equal(raw.headers['x-imgfleet-worker'], 'api-worker');
      const form = await multipart({ file: { name: 'Storm.jpg', bytes: readFileSync(photo('Storm.jpg')) } });
      const sent = await server.app.inject({ method: 'POST', url: '/v1/info', ...form });
      assert.equal(sent.statusCode, 200, sent.body);
      assert.deepEqual(sent.json().camera, { make: 'Canon', model: 'Canon EOS 400D DIGITAL' });
      assert.match(sent.json().placeholderDataUrl, /^data:image\/png;base64,/);
      const bad = await server.app.inject({ method: 'POST', url: '/v1/info', headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.from('plain text') });
      assert.equal(bad.statusCode, 415);
      assert.equal(bad.json().error.code, 'NOT_AN_IMAGE');
    });

    it('a signed info URL answers the source\'s information, from the cache the second time, even on a presets-only server; a bad signature is 403', async () => {
      const url = signedPath('/info/photos/Storm.jpg', [KEY]);
      const response = await server.app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 200, response.body);
      assert.match(String(response.headers['content-type']), /application\/json/);
      assert.equal(response.headers['cache-control'], 'public, max-age=600');
      assert.equal(response.json().date, '2008-04-20T19:12:06');
      const again = await server.app.inject({ method: 'GET', url });
      assert.equal(again.headers['x-imgfleet-cache'], 'hit');
      assert.deepEqual(again.json(), response.json());
      const notPreset = await server.app.inject({ method: 'GET', url: signedPath('/resize:64/photos/Storm.jpg', [KEY]) });
      assert.equal(notPreset.statusCode, 403, 'other pipelines stay refused');
      const forged = await server.app.inject({ method: 'GET', url: url.replace('/info/', '/info//') });
      assert.equal(forged.statusCode, 403);
    });

    it('GET /v1/info lists the formats this build reads and writes', async () => {
      const { formats } = (await server.app.inject({ method: 'GET', url: '/v1/info' })).json() as { formats: { read: string[]; write: string[] } };
      for (const format of ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif']) {
        assert.ok(formats.read.includes(format) && formats.write.includes(format), format);
      }
      assert.equal(formats.read.includes('jxl'), sharp.format.jxl.input.buffer);
    });
  });
}
