import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp, { type Sharp } from 'sharp';
import { decode, CORPUS, photo, runPipeline, runToPixels, synthetic } from './helpers.js';

const odd = (name: string) => join(CORPUS, 'odd', name);

describe('input formats and modes', () => {
  it('reads JPEG, PNG, WebP, AVIF, TIFF and GIF', async () => {
    const source = sharp(photo('chelsea.png')).resize(64, 48);
    const encoded = {
      jpeg: await source.clone().jpeg().toBuffer(), png: await source.clone().png().toBuffer(),
      webp: await source.clone().webp().toBuffer(), avif: await source.clone().avif().toBuffer(),
      tiff: await source.clone().tiff().toBuffer(), gif: await source.clone().gif().toBuffer(),
    };
    for (const [format, bytes] of Object.entries(encoded)) {
      const result = await runPipeline('resize:32', bytes);
      assert.equal(result.kind, 'image');
      assert.equal(result.stats.input.format, format);
      assert.equal(result.kind === 'image' && result.format, format, 'output defaults to the input format');
      assert.deepEqual(result.kind === 'image' && [result.width, result.height], [32, 24]);
    }
  });

  it('takes the first frame of an animated GIF and the first page of a multi-page TIFF', async () => {
    const gif = await runToPixels('negate,output:png', odd('no_time_for_that_tiny.gif'));
    assert.deepEqual([gif.width, gif.height], [14, 25]);
    const pages = await sharp(photo('coffee.png'), { animated: true }).resize(20, 10).tiff().toBuffer();
    const twoPages = await sharp([pages, await sharp(photo('chelsea.png')).resize(20, 10).tiff().toBuffer()], { join: { animated: true } }).tiff().toBuffer();
    assert.equal((await sharp(twoPages).metadata()).pages, 2);
    const tiff = await runToPixels('negate,output:png', twoPages);
    assert.deepEqual([tiff.width, tiff.height], [20, 10]);
  });

  it('explains a TIFF that no decoder can read (odd/multipage_rgb.tif) instead of failing obscurely', async () => {
    await assert.rejects(runPipeline('negate', odd('multipage_rgb.tif')), { code: 'CORRUPT_IMAGE', message: /corrupt or truncated image: .*samples out of range/ });
  });

  it('handles palette, 1-bit, 16-bit and alpha images', async () => {
    const palette = await runToPixels('flip,output:png', odd('palette_color.png'));
    assert.ok(palette.channels >= 3);
    const sixteen = await runToPixels('negate,output:png', odd('chessboard_GRAY_U16.tif'));
    assert.equal(sixteen.channels, 1);
    const source16 = await sharp(odd('chessboard_GRAY_U16.tif')).toColourspace('b-w').raw().toBuffer();
    assert.equal(sixteen.data[0], 255 - source16[0], '16-bit scaled to 8-bit, then negated');
    const alpha = await runToPixels('grayscale,output:png', odd('horse.png'));
    assert.equal(alpha.channels, 2, 'grey + alpha');
    const indexed = await runToPixels('resize:10,output:png', odd('foo3x5x4indexed.png'));
    assert.equal(indexed.width, 10);
  });

  it('applies EXIF orientation before any step', async () => {
    // A 4×2 image whose top-left pixel is red, stored with orientation 6 (display rotated 90° clockwise).
    const stored = synthetic(4, 2, 3, (x, y, c) => (x === 0 && y === 0 ? (c === 0 ? 255 : 0) : 0));
    const jpeg = await sharp(stored.data, { raw: { width: 4, height: 2, channels: 3 } })
      .png().withMetadata({ orientation: 6 }).toBuffer();
    const out = await runToPixels('negate,negate,output:png', jpeg);
    assert.deepEqual([out.width, out.height], [2, 4]);
    // After a clockwise quarter turn the stored top-left corner is at the top right.
    assert.equal(out.data[(0 * 2 + 1) * 3], 255);
    const flipped = await runToPixels('flip,output:png', jpeg);
    assert.equal(flipped.data[0], 255, 'flip runs on the oriented image');
  });

  it('writes grey as grey and keeps the input ICC profile', async () => {
    const grey = await runPipeline('blur:1', photo('camera.png'));
    assert.equal(grey.kind === 'image' && grey.channels, 1);
    const withProfile = await runPipeline('resize:100,output:jpeg', photo('rocket.jpg'));
    const meta = await sharp(withProfile.kind === 'image' ? withProfile.data : Buffer.alloc(0)).metadata();
    assert.ok(meta.icc && meta.icc.length === (await sharp(readFileSync(photo('rocket.jpg'))).metadata()).icc?.length);
  });

  it('keeps the input ICC profile and the pixels as stored where the steps are made on pixels', async () => {
    // The same pixels with a Display P3 profile and without one; sides not multiples of 8.
    const pixels = (image: Sharp) => image.raw().toBuffer({ resolveWithObject: true });
    const p3 = await sharp(photo('coffee.png')).resize(1603, 1201, { fit: 'fill' }).withIccProfile('p3').png().toBuffer();
    const { data, info } = await pixels(sharp(p3, { ignoreIcc: true }));
    const plain = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }).png().toBuffer();
    const profile = (await sharp(p3).metadata()).icc!;
    // Interlaced, so that the one without a profile is not taken by the PNG lane either.
    const small = async (input: Buffer) => sharp(input, { ignoreIcc: true }).resize(300, 200, { fit: 'fill' }).keepIccProfile().png({ progressive: true }).toBuffer();
    // An enlargement and a cover of a larger image are made by the resampler; a sharpen after a
    // resize runs on pixels; each to every format that carries a profile.
    const cases = [
      ['resize:600:600', await small(p3), await small(plain)],
      ['resize:400:400:fit=cover', p3, plain],
      ['resize:200,sharpen:2', p3, plain],
    ] as const;
    for (const [steps, withProfile, without] of cases) {
      for (const format of ['jpeg', 'png', 'webp', 'avif', 'tiff']) {
        const kept = await runPipeline(`${steps},output:${format}`, withProfile);
        const none = await runPipeline(`${steps},output:${format}`, without);
        assert.ok(kept.kind === 'image' && none.kind === 'image');
        assert.equal(kept.stats.path, none.stats.path);
        const meta = await sharp(kept.data).metadata();
        assert.ok(meta.icc?.equals(profile), `${steps} → ${format}: the input's profile (${meta.icc?.length ?? 0} bytes, stats ${JSON.stringify(kept.stats.steps)})`);
        assert.ok((await pixels(sharp(kept.data, { ignoreIcc: true }))).data.equals((await pixels(sharp(none.data))).data), `${steps} → ${format}: the same pixels as without a profile`);
      }
    }
  });

  it('flattens alpha onto white for JPEG', async () => {
    const out = await runToPixels('resize:100,output:jpeg', odd('logo.png'));
    assert.equal(out.channels, 3);
    assert.ok(out.data[0] > 245, 'a transparent corner becomes white');
    await decode(photo('rocket.jpg'));
  });
});
