import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decode, FIXTURES, maxDifference, photo, runToPixels } from './helpers.js';

// References made by Pillow itself: test/fixtures/make-pillow-references.py.
const reference = (name: string) => decode(join(FIXTURES, 'pillow', name));
const SOURCES = [['rocket', 'rocket.jpg'], ['chelsea', 'chelsea.png']] as const;

describe('operations match Pillow', () => {
  for (const [stem, file] of SOURCES) {
    it(`grayscale is within ±1 of Pillow's convert('L') on ${file}`, async () => {
      const got = await runToPixels('grayscale,output:png', photo(file));
      assert.equal(got.channels, 1);
      assert.ok(maxDifference(got, await reference(`${stem}.grayscale.png`)) <= 1);
    });

    for (const factor of [0.5, 1.6]) {
      it(`brightness ${factor} is within ±2 of ImageEnhance.Brightness on ${file}`, async () => {
        const got = await runToPixels(`brightness:${factor},output:png`, photo(file));
        assert.ok(maxDifference(got, await reference(`${stem}.brightness-${factor}.png`)) <= 2);
      });
    }

    for (const factor of [0.4, 1.7]) {
      it(`contrast ${factor} is within ±2 of ImageEnhance.Contrast on ${file}`, async () => {
        const got = await runToPixels(`contrast:${factor},output:png`, photo(file));
        assert.ok(maxDifference(got, await reference(`${stem}.contrast-${factor}.png`)) <= 2);
      });
    }

    it(`threshold 128 whitens exactly the pixels whose Pillow grey is ≥ 128 on ${file}`, async () => {
      const got = await runToPixels('threshold:128,output:png', photo(file));
      const grey = await reference(`${stem}.grayscale.png`);
      assert.equal(got.channels, 1);
      let wrong = 0;
      for (let i = 0; i < grey.data.length; i++) if (got.data[i] !== (grey.data[i] >= 128 ? 255 : 0)) wrong++;
      assert.equal(wrong, 0);
    });
  }
});
