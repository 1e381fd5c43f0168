import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { orientPixels, storedRect, uprightSize } from '../src/image/orientation.js';
import type { RawImage } from '../src/image/frame.js';
import { decode, synthetic } from './helpers.js';

describe('EXIF orientation on pixels', () => {
  // Every pixel different, and no symmetry: 5×3, one to four channels.
  const image = (channels: 1 | 3 | 4): RawImage => synthetic(5, 3, channels, (x, y, c) => (c === 3 ? 255 : 10 * (y * 5 + x) + 50 * c));

  it('turns and mirrors stored pixels as libvips shows them upright, for all eight orientations', async () => {
    // libvips' own turn of the RGBA image (sharp writes a PNG with a profile as colour, so grey and RGB are read off it).
    for (let orientation = 1; orientation <= 8; orientation++) {
      const rgba = image(4);
      const png = await sharp(rgba.data, { raw: { width: 5, height: 3, channels: 4 } }).withMetadata({ orientation }).png().toBuffer();
      const expected = await decode(await sharp(png).rotate().png().toBuffer());
      assert.equal(expected.channels, 4);
      for (const channels of [1, 3, 4] as const) {
        const got = orientPixels(image(channels), orientation);
        assert.deepEqual([got.width, got.height], [expected.width, expected.height], `orientation ${orientation}`);
        const size = uprightSize(image(channels), orientation);
        assert.deepEqual([size.width, size.height], [expected.width, expected.height]);
        const wanted = Buffer.from([...expected.data].filter((_, i) => i % 4 < channels));
        assert.ok(got.data.equals(wanted), `${channels} channels, orientation ${orientation}`);
      }
    }
  });

  it('finds the stored pixels of a rectangle shown upright', () => {
    const stored = image(1);
    const rect = { left: 1, top: 0, width: 2, height: 3 };
    for (let orientation = 1; orientation <= 8; orientation++) {
      const upright = orientPixels(stored, orientation);
      const shown = [...Array(rect.height)].flatMap((_, y) => [...upright.data.subarray((rect.top + y) * upright.width + rect.left, (rect.top + y) * upright.width + rect.left + rect.width)]);
      const at = storedRect(rect, upright, orientation);
      const values = [...Array(at.height)].flatMap((_, y) => [...stored.data.subarray((at.top + y) * 5 + at.left, (at.top + y) * 5 + at.left + at.width)]);
      assert.deepEqual([...values].sort((a, b) => a - b), [...shown].sort((a, b) => a - b), `orientation ${orientation}`);
    }
  });
});
