import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { levelCounts } from '../src/image/level-counts.js';
import type { HistogramData } from '../src/ops/histogram.js';
import { CORPUS, FIXTURES, photo, runPipeline, synthetic, toPng } from './helpers.js';

const pillow = JSON.parse(readFileSync(join(FIXTURES, 'pillow', 'histograms.json'), 'utf8')) as {
  histograms: Record<string, { size: [number, number]; red: number[]; green: number[]; blue: number[] }>;
};

async function histogramOf(input: string | Buffer, bins = 256): Promise<HistogramData> {
  const result = await runPipeline({ steps: [{ op: 'histogram', bins }] }, input);
  assert.equal(result.kind, 'data');
  return result.data as HistogramData;
}

describe('histogram', () => {
  for (const [name, expected] of Object.entries(pillow.histograms)) {
    it(`equals Pillow's convert('RGB').histogram() exactly for ${name}`, async () => {
      const got = await histogramOf(photo(name));
      assert.deepEqual([got.width, got.height], expected.size);
      assert.ok('red' in got.channels);
      assert.deepEqual(got.channels.red, expected.red);
      assert.deepEqual(got.channels.green, expected.green);
      assert.deepEqual(got.channels.blue, expected.blue);
    });
  }

  it('gives one gray channel for a grey image, counting every pixel', async () => {
    const got = await histogramOf(photo('camera.png'));
    assert.deepEqual(Object.keys(got.channels), ['gray']);
    const gray = (got.channels as { gray: number[] }).gray;
    assert.equal(gray.reduce((a, b) => a + b, 0), 512 * 512);
  });

  it('counts known levels into equal-width bins', async () => {
    // 8 pixels: levels 0, 15 and 16 fall in bins 0, 0 and 1 of 16; 255 in bin 15.
    const levels = [0, 15, 16, 255, 255, 128, 127, 8];
    const png = await toPng(synthetic(8, 1, 1, (x) => levels[x]));
    const got = await histogramOf(png, 16);
    const expected = new Array(16).fill(0);
    for (const v of levels) expected[Math.floor(v / 16)]++;
    assert.deepEqual((got.channels as { gray: number[] }).gray, expected);
  });

  it('does not count alpha', async () => {
    // Red pixels, half of them fully transparent: alpha must not appear anywhere.
    const png = await toPng(synthetic(4, 2, 4, (x, _y, c) => (c === 0 ? 200 : c === 3 ? (x % 2 ? 0 : 255) : 10)));
    const got = await histogramOf(png);
    assert.ok('red' in got.channels);
    assert.equal(got.channels.red[200], 8);
    assert.equal(got.channels.green[10], 8);
    assert.equal(got.channels.blue[10], 8);
    assert.deepEqual(Object.keys(got.channels), ['red', 'green', 'blue']);
  });

  it('reads a 16-bit grey TIFF as 8-bit grey', async () => {
    const got = await histogramOf(join(CORPUS, 'odd', 'chessboard_GRAY_U16.tif'));
    const gray = (got.channels as { gray: number[] }).gray;
    assert.equal(gray.reduce((a, b) => a + b, 0), 200 * 200);
  });
});

describe('level counting', () => {
  it('matches a byte-by-byte count for 1 to 4 channels, any length and any alignment', () => {
    let seed = 7;
    const random = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed & 0xff; };
    for (const channels of [1, 2, 3, 4]) {
      for (const pixels of [0, 1, 5, 4096, 4099]) {
        for (const offset of [0, 1, 4]) {
          const backing = new Uint8Array(offset + pixels * channels).map(random);
          const data = backing.subarray(offset);
          const expected = Array.from({ length: channels }, () => new Array(256).fill(0));
          for (let i = 0; i < data.length; i++) expected[i % channels][data[i]]++;
          assert.deepEqual(levelCounts(data, channels).map((c) => [...c]), expected, `${channels} channels, ${pixels} pixels, offset ${offset}`);
        }
      }
    }
  });
});
