/** Formats this build reads and writes: what libvips was built with, said the same everywhere. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { supportedFormats } from '../src/image/formats.js';
import { parseCompact } from '../src/pipeline/compact.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { cli, photo, runPipeline } from './helpers.js';

const libvipsWritesJxl = sharp.format.jxl.output.buffer;

describe('formats of this build', () => {
  it('lists what libvips reads and writes, AVIF through its HEIF module', () => {
    const { read, write } = supportedFormats();
    assert.equal(read.includes('avif'), sharp.format.heif.input.buffer);
    assert.equal(write.includes('avif'), sharp.format.heif.output.buffer);
    assert.equal(read.includes('jxl'), sharp.format.jxl.input.buffer);
    assert.equal(write.includes('jxl'), libvipsWritesJxl);
    assert.ok(read.includes('svg') && !write.includes('svg'));
  });

  it('imgfleet ops prints them; --json carries them', async () => {
    const text = await cli(['ops']);
    assert.match(text.stdout, /reads: {2}jpeg, png, webp, avif, tiff, gif, svg/);
    const json = JSON.parse((await cli(['ops', '--json'])).stdout) as { formats: { read: string[]; write: string[] }; input: { properties: Record<string, unknown> } };
    assert.deepEqual(json.formats, supportedFormats());
    assert.ok('density' in json.input.properties);
  });

  it('output:jxl is written where libvips writes JPEG XL, and refused by name where it does not', async () => {
    if (libvipsWritesJxl) {
      const result = await runPipeline('resize:64,output:jxl', photo('rocket.jpg'));
      assert.ok(result.kind === 'image');
      if (result.kind === 'image') assert.equal((await sharp(result.data).metadata()).format, 'jxl');
    } else {
      assert.throws(() => validatePipeline(parseCompact('resize:64,output:jxl')), {
        code: 'BAD_PIPELINE', message: /output\.format: the libvips of this build does not write jxl \(it writes jpeg, png, webp, avif, tiff, gif\)/,
      });
    }
  });

  it('AVIF in and out', async () => {
    const avif = await sharp(photo('chelsea.png')).resize(64, 42).avif().toBuffer();
    const result = await runPipeline('negate', avif);
    assert.ok(result.kind === 'image');
    if (result.kind !== 'image') return;
    assert.equal(result.format, 'avif');
    assert.equal((await sharp(result.data).metadata()).compression, 'av1');
  });
});
