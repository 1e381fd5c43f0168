import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { readJpegHeader } from '../src/image/jpeg-header.js';
import { jpegIccProfile, withJpegIccProfile } from '../src/image/jpeg-icc.js';
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

describe('JPEG ICC profile', () => {
  it('reads the profile libvips reads, and writes one libvips reads whole, split over segments when long', async () => {
    const rocket = readFileSync(photo('rocket.jpg'));
    assert.ok(jpegIccProfile(rocket)?.equals((await sharp(rocket).metadata()).icc!));
    const plain = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#abcdef' } }).jpeg().toBuffer();
    assert.equal(jpegIccProfile(plain), undefined);
    // 150,000 bytes take three segments of at most 65,519.
    const long = Buffer.from(Array.from({ length: 150_000 }, (_, i) => (i * 31) % 256));
    const written = withJpegIccProfile(plain, long);
    assert.equal(written.length, plain.length + long.length + 3 * 18);
    assert.ok((await sharp(written).metadata()).icc?.equals(long));
    assert.ok(jpegIccProfile(written)?.equals(long));
    // A piece missing: no profile rather than part of one.
    const first = written.indexOf(Buffer.from('ICC_PROFILE\0', 'latin1')) - 4;
    const second = first + 2 + written.readUInt16BE(first + 2);
    assert.deepEqual([written[second], written[second + 1], written[second + 16]], [0xff, 0xe2, 2]);
    const length = written.readUInt16BE(second + 2);
    assert.equal(jpegIccProfile(Buffer.concat([written.subarray(0, second), written.subarray(second + 2 + length)])), undefined);
  });
});
