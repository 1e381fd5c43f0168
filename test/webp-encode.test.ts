import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { libwebp } from '../src/image/libwebp.js';
import { encodeWebp, libwebpEncodes } from '../src/image/webp-encode.js';
import { withWebpIccProfile } from '../src/image/webp-icc.js';
import { parsePipelineText } from '../src/pipeline/load.js';
import { processImage } from '../src/pipeline/process.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { decode, photo, psnr, ROOT } from './helpers.js';

const pipeline = (text: string) => validatePipeline(parsePipelineText(text));

/** Two WebPs that hold the same picture: the same size within 3 %, and pixels within 50 dB. */
async function assertSameWebp(got: Buffer, expected: Buffer, what: string): Promise<void> {
  assert.equal(got.toString('latin1', 8, 16), 'WEBPVP8 ', `${what}: a lossy WebP`);
  assert.ok(Math.abs(got.length - expected.length) <= expected.length * 0.03, `${what}: ${got.length} bytes against libvips' ${expected.length}`);
  const [a, b] = await Promise.all([decode(got), decode(expected)]);
  assert.ok(psnr(a, b) > 50, `${what}: PSNR ${psnr(a, b).toFixed(1)} dB against libvips' WebP`);
}

describe('WebP encoder (libwebp without libvips)', { skip: !libwebp() && 'libwebp is not installed' }, () => {
  it('writes what libvips writes from the same RGB or RGBX pixels, at each quality and effort', async () => {
    const { data, info } = await sharp(photo('rocket.jpg')).resize(301, 199, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
    const rgbx = Buffer.alloc(info.width * info.height * 4, 7);
    for (let p = 0; p < info.width * info.height; p++) data.copy(rgbx, p * 4, p * 3, p * 3 + 3);
    for (const effort of [0, 2, 4, 6]) {
      for (const quality of [30, 80, 100]) {
        const expected = await sharp(data, { raw: info }).webp({ quality, effort }).toBuffer();
        const rgb = await encodeWebp({ data, width: info.width, height: info.height, channels: 3 }, { quality, effort });
        const padded = await encodeWebp({ data: rgbx, width: info.width, height: info.height, channels: 4 }, { quality, effort });
        assert.ok(rgb && padded);
        await assertSameWebp(rgb, expected, `effort ${effort} quality ${quality}`);
        assert.ok(padded.equals(rgb), `effort ${effort} quality ${quality}: the fourth byte of RGBX is ignored`);
      }
    }
  });

  it('leaves grey pixels, and images over 2 MP (which libvips\' encoder can stop at a deadline), to libvips', () => {
    const image = (width: number, height: number, channels: 1 | 3 | 4) => ({ data: Buffer.alloc(0), width, height, channels });
    assert.deepEqual([image(1000, 1000, 3), image(2000, 1000, 4), image(2000, 1001, 3), image(500, 375, 1)].map(libwebpEncodes), [true, true, false, false]);
  });

  it('writes nothing with IMGFLEET_LIBWEBP=off, so that libvips writes every WebP', () => {
    const script = `import { encodeWebp } from ${JSON.stringify(join(ROOT, 'dist', 'src', 'image', 'webp-encode.js'))};
      const image = { data: Buffer.alloc(64 * 48 * 3, 128), width: 64, height: 48, channels: 3 };
      const written = await encodeWebp(image, { quality: 80, effort: 2 });
      console.log(written === undefined ? 'none' : written.toString('latin1', 8, 12));`;
    const run = (env: NodeJS.ProcessEnv) => execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env } }).toString().trim();
    assert.equal(run({ IMGFLEET_LIBWEBP: 'off' }), 'none');
    assert.equal(run({}), 'WEBP');
  });

  it('writes a pixel lane\'s WebP with the pipeline\'s quality and effort, or their defaults', async () => {
    const jpeg = await sharp(photo('coffee.png')).resize(500, 375, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
    for (const [output, settings] of [['webp', { quality: 80, effort: 2 }], ['webp:60:effort=5', { quality: 60, effort: 5 }]] as const) {
      const result = await processImage(jpeg, pipeline(`resize:256:256,output:${output}`));
      assert.equal(result.stats.path, 'jpeg-turbo');
      assert.ok(result.kind === 'image' && result.format === 'webp');
      const pixels = await processImage(jpeg, pipeline('resize:256:256,output:png'));
      assert.ok(pixels.kind === 'image');
      await assertSameWebp(result.data, await sharp(pixels.data).webp(settings).toBuffer(), output);
    }
  });
});

describe('an ICC profile in a WebP', () => {
  it('goes into simple lossy and lossless WebPs and an extended one, as libvips reads it, the pixels unchanged', async () => {
    const profile = (await sharp(photo('rocket.jpg')).metadata()).icc!;
    const picture = sharp(photo('coffee.png')).resize(301, 201);
    const webps = {
      lossy: await picture.clone().webp({ quality: 80 }).toBuffer(),
      lossless: await picture.clone().webp({ lossless: true }).toBuffer(),
      alpha: await picture.clone().ensureAlpha(0.5).webp({ quality: 80 }).toBuffer(),
    };
    for (const [kind, webp] of Object.entries(webps)) {
      const withProfile = withWebpIccProfile(webp, profile)!;
      assert.ok(withProfile, kind);
      const meta = await sharp(withProfile).metadata();
      assert.ok(meta.icc?.equals(profile), `${kind}: the profile`);
      assert.deepEqual([meta.width, meta.height, meta.hasAlpha], [301, 201, kind === 'alpha'], kind);
      const pixels = async (data: Buffer) => sharp(data, { ignoreIcc: true }).raw().toBuffer();
      assert.ok((await pixels(withProfile)).equals(await pixels(webp)), `${kind}: the same pixels`);
    }
    assert.equal(withWebpIccProfile(webps.lossy.subarray(0, 20), profile), undefined);
    assert.equal(withWebpIccProfile(withWebpIccProfile(webps.lossy, profile)!, profile), undefined, 'a profile already there');
  });
});
