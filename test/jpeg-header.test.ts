import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { readJpegHeader } from '../src/image/jpeg-header.js';
import { photo } from './helpers.js';

describe('JPEG header reader', () => {
  it('reads size, components, precision and the ICC profile marker', () => {
    assert.deepEqual(readJpegHeader(readFileSync(photo('rocket.jpg'))),
      { width: 640, height: 427, components: 3, precision: 8, orientation: 1, hasIcc: true });
  });

  it('reads the EXIF orientation', async () => {
    const base = sharp(photo('chelsea.png')).resize(40, 30);
    for (const orientation of [3, 6, 8]) {
      const bytes = await base.clone().jpeg().withMetadata({ orientation }).toBuffer();
      assert.equal(readJpegHeader(bytes)?.orientation, orientation);
    }
    const grey = await base.clone().toColourspace('b-w').jpeg().toBuffer();
    assert.deepEqual(readJpegHeader(grey), { width: 40, height: 30, components: 1, precision: 8, orientation: 1, hasIcc: false });
  });

  it('agrees with libvips on the photos of the corpus (big- and little-endian EXIF)', async () => {
    for (const name of ['Wood.jpg', 'Blinds.jpg', 'Storm.jpg', 'Aqua.jpg', 'retina.jpg', 'hubble_deep_field.jpg']) {
      const bytes = readFileSync(photo(name));
      const meta = await sharp(bytes).metadata();
      assert.deepEqual(readJpegHeader(bytes), {
        width: meta.width, height: meta.height, components: meta.channels, precision: 8,
        orientation: meta.orientation ?? 1, hasIcc: Boolean(meta.icc),
      }, name);
    }
  });

  it('gives up on anything that is not a whole JPEG header', async () => {
    assert.equal(readJpegHeader(readFileSync(photo('coffee.png'))), undefined);
    assert.equal(readJpegHeader(readFileSync(photo('rocket.jpg')).subarray(0, 300)), undefined);
    assert.equal(readJpegHeader(Buffer.from([0xff, 0xd8, 0xff])), undefined);
  });
});
