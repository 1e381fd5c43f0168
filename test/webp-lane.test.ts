import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp, { type ResizeOptions } from 'sharp';
import type { RawImage } from '../src/image/frame.js';
import { decodeWebpInto, libwebpAvailable, readPlainWebp } from '../src/image/webp-pixels.js';
import { laneFor } from '../src/pipeline/lane.js';
import { parsePipelineText } from '../src/pipeline/load.js';
import { processImage } from '../src/pipeline/process.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { CORPUS, decode, maxDifference, outputsByLane, photo, pillowCover, psnr, tempDir } from './helpers.js';

const pipeline = (text: string) => validatePipeline(parsePipelineText(text));

/** A photo as a lossy WebP at libwebp's quality 80, as sharp and cwebp write one by default. */
const photoWebp = (width: number, height: number) => sharp(photo('coffee.png')).resize(width, height, { fit: 'fill' }).webp({ quality: 80 }).toBuffer();

describe('WebP lane', { skip: !libwebpAvailable() && 'libwebp is not installed' }, () => {
  it('decodes exactly the pixels libvips decodes, as RGB and as RGBX', async () => {
    for (const [width, height] of [[500, 375], [97, 333], [1, 1]]) {
      const input = await photoWebp(width, height);
      assert.deepEqual(readPlainWebp(input), { width, height });
      const expected = await sharp(input).raw().toBuffer();
      const rgb = Buffer.alloc(width * height * 3);
      decodeWebpInto(input, rgb, 3, { width, height });
      assert.ok(rgb.equals(expected), `${width}×${height} RGB`);
      const rgbx = Buffer.alloc(width * height * 4);
      decodeWebpInto(input, rgbx, 4, { width, height });
      for (let p = 0; p < width * height; p++) {
        assert.deepEqual([...rgbx.subarray(p * 4, p * 4 + 4)], [...expected.subarray(p * 3, p * 3 + 3), 255], `${width}×${height} pixel ${p}`);
      }
    }
  });

  it('takes only simple lossy WebPs: lossless, alpha and animations stay with libvips', async () => {
    const image = sharp(photo('coffee.png')).resize(120, 80);
    const text = 'resize:64:64,output:jpeg';
    assert.equal(laneFor(await image.clone().webp().toBuffer(), pipeline(text)), 'libwebp');
    assert.equal(laneFor(await image.clone().webp({ lossless: true }).toBuffer(), pipeline(text)), 'libvips');
    assert.equal(laneFor(await image.clone().ensureAlpha(0.5).webp().toBuffer(), pipeline(text)), 'libvips');
    const animated = await sharp(join(CORPUS, 'odd', 'no_time_for_that_tiny.gif'), { animated: true }).webp().toBuffer();
    assert.equal(laneFor(animated, pipeline(text)), 'libvips');
  });

  it('chooses by what is written: a JPEG or WebP up to 1 MP, a PNG up to 0.4 MP, nothing to do stays with libvips', async () => {
    const small = await photoWebp(500, 375);
    const medium = await photoWebp(1000, 750);
    const large = await photoWebp(1200, 900);
    const cases: [Buffer, string, string][] = [
      [small, 'resize:256:256,output:jpeg', 'libwebp'],
      [small, 'resize:256:256', 'libwebp'],
      [small, 'sharpen,output:png', 'libwebp'],
      [small, 'output:jpeg:80', 'libwebp'],
      [small, 'output:png', 'libvips'],
      [small, 'output:webp:70', 'libvips'],
      [small, 'resize:256:256:kernel=nearest,output:jpeg', 'libvips'],
      [medium, 'resize:256:256,output:jpeg', 'libwebp'],
      [medium, 'resize:256:256,output:webp', 'libwebp'],
      [medium, 'resize:256:256,output:png', 'libvips'],
      [large, 'resize:256:256,output:jpeg', 'libvips'],
    ];
    for (const [input, text, lane] of cases) {
      const size = readPlainWebp(input)!;
      assert.equal(laneFor(input, pipeline(text)), lane, `${size.width}×${size.height} ${text}`);
      const result = await processImage(input, pipeline(text));
      assert.equal(result.stats.path, lane, `${size.width}×${size.height} ${text}: the lane chosen is the lane that ran`);
    }
  });

  it('gives libvips\' sizes, and the whole pixels resampled with the kernel asked for, as Pillow does', async () => {
    const input = await photoWebp(500, 375);
    const cases: [string, ResizeOptions][] = [
      ['resize:256:256', { width: 256, height: 256, fit: 'inside' }],
      ['resize:200:200:fit=cover', { width: 200, height: 200, fit: 'cover' }],
      ['resize:300:300:fit=contain:background=00ff00', { width: 300, height: 300, fit: 'contain', background: '#00ff00' }],
      ['resize:333:111:fit=fill', { width: 333, height: 111, fit: 'fill' }],
      ['resize:150:150:fit=outside', { width: 150, height: 150, fit: 'outside' }],
      ['resize:640', { width: 640 }],
    ];
    // Pillow's cover of the same shape is its plain resize; libvips enlarges with another kernel.
    const byPillow = (options: ResizeOptions) => options.fit === 'cover' || options.width === 640;
    for (const [text, options] of cases) {
      const result = await processImage(input, pipeline(`${text},output:png`));
      assert.equal(result.stats.path, 'libwebp', text);
      assert.ok(result.kind === 'image');
      const got = await decode(result.data);
      // Plain sharp shrinks on load (libwebp's own scaler); the sizes are the same either way.
      const shrunk = await decode(await sharp(input).resize(options).png().toBuffer());
      const whole = await decode(await sharp(input).resize({ ...options, fastShrinkOnLoad: false }).png().toBuffer());
      assert.deepEqual([got.width, got.height, got.channels], [shrunk.width, shrunk.height, 3], `${text}: size`);
      const expected = byPillow(options) ? await pillowCover(input, got.width, got.height) : whole;
      const least = byPillow(options) ? 60 : 50;
      assert.ok(psnr(got, expected) > least, `${text}: PSNR ${psnr(got, expected).toFixed(1)} dB against ${byPillow(options) ? 'Pillow' : 'sharp without shrink on load'}`);
      if (options.width === 256) assert.ok(psnr(got, whole) > psnr(shrunk, whole) + 3, `${text}: nearer the whole pixels' resize than libwebp's scaler`);
    }
  });

  it('falls back to libvips when libwebp refuses the file, which then explains it; a changed byte gives an image or a coded error', async () => {
    const input = await photoWebp(301, 199);
    await assert.rejects(processImage(input.subarray(0, 2000), pipeline('resize:100:100,output:jpeg')), { code: 'CORRUPT_IMAGE' });
    for (let i = 0; i < 100; i++) {
      const changed = Buffer.from(input);
      const at = 30 + ((i * 7919) % (input.length - 30));
      changed[at] ^= 1 << (i % 8);
      try {
        const result = await processImage(changed, pipeline('resize:100:100,output:jpeg'));
        assert.ok(result.kind === 'image' && result.width === 100, `byte ${at}`);
      } catch (error) {
        const { code, message } = error as { code?: string; message: string };
        assert.ok(code && !message.includes('\n'), `byte ${at}: ${message}`);
      }
    }
  });

  it('leaves no small shrink of a WebP to libwebp\'s scaler in the libvips lane either: without the binding, and larger than the lane takes', async (t) => {
    const volna = join(CORPUS, 'large', 'volna-5120x2880.jpg');
    const small = join(tempDir(t), 'small.webp');
    writeFileSync(small, await sharp(volna).resize(500, 375, { fit: 'fill' }).webp({ quality: 80 }).toBuffer());
    const large = await sharp(volna).resize(1600, 1200, { fit: 'fill' }).webp({ quality: 80 }).toBuffer();
    const cases: Array<[string, Buffer, number, () => Promise<RawImage>]> = [
      ['500×375 without the binding', readFileSync(small), 256, async () => (await outputsByLane(small, 'resize:256:256,output:png', [[{ IMGFLEET_LIBWEBP: 'off' }, 'libvips']]))[0]],
      ['1600×1200', large, 800, async () => {
        const result = await processImage(large, pipeline('resize:800:800,output:png'));
        assert.equal(result.stats.path, 'libvips');
        return decode((result as { data: Buffer }).data);
      }],
    ];
    for (const [name, input, side, run] of cases) {
      const got = await run();
      const shrunk = await decode(await sharp(input).resize(side, side, { fit: 'inside' }).png().toBuffer());
      assert.deepEqual([got.width, got.height], [shrunk.width, shrunk.height], `${name}: sharp's size`);
      // Pillow's resize of the whole pixels with the same kernel (its cover of the same shape).
      const pillow = await pillowCover(input, got.width, got.height);
      // 57.4 against 44.9 dB, and 65.5 against 48.0, when written.
      assert.ok(psnr(got, pillow) > psnr(shrunk, pillow) + 5, `${name}: ${psnr(got, pillow).toFixed(1)} dB from Pillow's resize, libwebp's scaler ${psnr(shrunk, pillow).toFixed(1)} dB`);
    }
    // A larger shrink, where libwebp's scaler comes within 0.25 dB of a kernel and is much quicker, is left to it, as sharp does.
    const thumbnail = await processImage(large, pipeline('resize:256:256,output:png'));
    assert.ok(thumbnail.kind === 'image');
    assert.equal(maxDifference(await decode(thumbnail.data), await decode(await sharp(large).resize(256, 256, { fit: 'inside' }).png().toBuffer())), 0);
  });

  it('without libwebp (IMGFLEET_LIBWEBP=off), libvips gives the same sizes, crop and padding', async (t) => {
    const dir = tempDir(t);
    const input = join(dir, 'in.webp');
    writeFileSync(input, await photoWebp(500, 375));
    for (const text of ['resize:300:200:fit=cover,output:png', 'resize:300:300:fit=contain:background=ff0000,output:png', 'resize:256,sharpen,output:png']) {
      const outputs = await outputsByLane(input, text, [[{}, 'libwebp'], [{ IMGFLEET_LIBWEBP: 'off' }, 'libvips']] as const);
      assert.deepEqual([outputs[0].width, outputs[0].height], [outputs[1].width, outputs[1].height], `${text}: sizes`);
      // libvips shrinks on load and cuts a cover in whole pixels of its scaled image.
      assert.ok(psnr(outputs[0], outputs[1]) > 26, `${text}: PSNR ${psnr(outputs[0], outputs[1]).toFixed(1)} dB between the lanes`);
    }
  });
});
