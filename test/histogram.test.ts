import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { levelCounts } from '../src/image/level-counts.js';
import { open, probe } from '../src/image/decode.js';
import { resolveLimits } from '../src/limits.js';
import { histogram, type HistogramData } from '../src/ops/histogram.js';
import { CORPUS, FIXTURES, photo, runPipeline, synthetic, toPng } from './helpers.js';
import { encodePng, pngChunk, type PngSpec } from './png-writer.js';

const pillow = JSON.parse(readFileSync(join(FIXTURES, 'pillow', 'histograms.json'), 'utf8')) as {
  histograms: Record<string, { size: [number, number]; red: number[]; green: number[]; blue: number[] }>;
};

async function histogramOf(input: string | Buffer, bins = 256): Promise<HistogramData> {
  return (await histogramRun(input, bins)).data;
}

async function histogramRun(input: string | Buffer, bins = 256): Promise<{ data: HistogramData; path: string }> {
  const result = await runPipeline({ steps: [{ op: 'histogram', bins }] }, input);
  assert.equal(result.kind, 'data');
  return { data: result.data as HistogramData, path: result.stats.path };
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

const pngKinds = JSON.parse(readFileSync(join(FIXTURES, 'pillow', 'png-kinds', 'histograms.json'), 'utf8')) as {
  histograms: Record<string, { mode: string; size: [number, number]; red: number[]; green: number[]; blue: number[] }>;
};

/** Repeatable pseudo-random integers below `limit`. */
function randomSamples(count: number, limit: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: count }, () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) % limit;
  });
}

/** Counts of `levels` taken every `step` samples from `offset`: the expected histogram channel. */
function countsOf(levels: number[], offset = 0, step = 1): number[] {
  const counts = new Array<number>(256).fill(0);
  for (let i = offset; i < levels.length; i += step) counts[levels[i]]++;
  return counts;
}

function channelsOf(got: HistogramData): number[][] {
  return 'gray' in got.channels ? [got.channels.gray] : [got.channels.red, got.channels.green, got.channels.blue];
}

describe('JPEG histograms', () => {
  it('counts a JPEG turned by its EXIF orientation as its stored pixels, and gives the turned size', async () => {
    // rocket.jpg with an APP1 block saying "rotate 90°" after its APP0: the same compressed pixels.
    const jpeg = readFileSync(photo('rocket.jpg'));
    const app0End = 4 + jpeg.readUInt16BE(4);
    const tiff = Buffer.from([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]);
    const exif = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
    const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, 0, 0]), exif]);
    app1.writeUInt16BE(exif.length + 2, 2);
    const turned = Buffer.concat([jpeg.subarray(0, app0End), app1, jpeg.subarray(app0End)]);
    assert.equal((await sharp(turned).metadata()).orientation, 6);
    const got = await histogramOf(turned);
    const expected = pillow.histograms['rocket.jpg'];
    assert.deepEqual([got.width, got.height], [expected.size[1], expected.size[0]]);
    assert.ok('red' in got.channels);
    assert.deepEqual([got.channels.red, got.channels.green, got.channels.blue], [expected.red, expected.green, expected.blue]);
  });

  it('gives one gray channel for a grey JPEG, with the counts of its decoded levels', async () => {
    const jpeg = await sharp(photo('camera.png')).toColourspace('b-w').jpeg({ quality: 85 }).toBuffer();
    const { data, info } = await sharp(jpeg).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.channels, 1);
    assert.deepEqual(channelsOf(await histogramOf(jpeg)), [countsOf([...data])]);
  });
});

describe('PNG histograms, counted from the rows', () => {
  for (const [kind, expected] of Object.entries(pngKinds.histograms)) {
    it(`equals Pillow's convert('RGB').histogram() exactly for a PNG written by Pillow: ${kind} (${expected.mode})`, async () => {
      const { data, path } = await histogramRun(join(FIXTURES, 'pillow', 'png-kinds', `${kind}.png`));
      assert.equal(path, 'png-rows');
      assert.deepEqual([data.width, data.height], expected.size);
      const channels = channelsOf(data);
      // A grey image has one channel, which Pillow's RGB conversion copies into all three.
      for (const [c, name] of (['red', 'green', 'blue'] as const).entries()) assert.deepEqual(channels[Math.min(c, channels.length - 1)], expected[name], name);
    });
  }

  const width = 37;
  const height = 23;
  const layouts: { name: string; colourType: PngSpec['colourType']; samples: number; colour: number }[] = [
    { name: 'grey', colourType: 0, samples: 1, colour: 1 },
    { name: 'grey + alpha', colourType: 4, samples: 2, colour: 1 },
    { name: 'RGB', colourType: 2, samples: 3, colour: 3 },
    { name: 'RGBA', colourType: 6, samples: 4, colour: 3 },
  ];
  for (const layout of layouts) {
    for (const bitDepth of [8, 16] as const) {
      for (const interlaced of [false, true]) {
        it(`counts ${bitDepth}-bit ${layout.name}${interlaced ? ', interlaced,' : ''} with every filter type (16-bit: the high byte; alpha not counted)`, async () => {
          const samples = randomSamples(width * height * layout.samples, bitDepth === 16 ? 65536 : 256, 11 + bitDepth + layout.samples);
          const png = encodePng({ width, height, bitDepth, colourType: layout.colourType, samples, filters: [0, 1, 2, 3, 4, 4, 2], interlaced });
          const { data, path } = await histogramRun(png);
          assert.equal(path, 'png-rows');
          const levels = samples.map((v) => (bitDepth === 16 ? v >> 8 : v));
          const expected = Array.from({ length: layout.colour }, (_, c) => countsOf(levels, c, layout.samples));
          assert.deepEqual(channelsOf(data), expected);
        });
      }
    }
  }

  for (const bitDepth of [1, 2, 4] as const) {
    it(`scales ${bitDepth}-bit grey to 0..255 (1-bit: 0 and 255), interlaced or not`, async () => {
      const max = (1 << bitDepth) - 1;
      const samples = randomSamples(width * height, max + 1, 5 + bitDepth);
      const expected = countsOf(samples.map((v) => (v * 255) / max));
      for (const interlaced of [false, true]) {
        const got = await histogramOf(encodePng({ width, height, bitDepth, colourType: 0, samples, filters: [1, 2, 3, 4, 0], interlaced }));
        assert.deepEqual(channelsOf(got), [expected], `interlaced: ${interlaced}`);
      }
    });
  }

  for (const bitDepth of [1, 2, 4, 8] as const) {
    it(`counts the colours of a ${bitDepth}-bit palette, not its indices`, async () => {
      const entries = Math.min(1 << bitDepth, 200);
      const palette = randomSamples(entries * 3, 256, 3 + bitDepth);
      const indices = randomSamples(width * height, entries, 17 + bitDepth);
      const got = await histogramOf(encodePng({ width, height, bitDepth, colourType: 3, samples: indices, palette, filters: [4, 3, 1] }));
      const expected = [0, 1, 2].map((c) => countsOf(indices.map((i) => palette[3 * i + c])));
      assert.deepEqual(channelsOf(got), expected);
    });
  }

  it('counts images smaller than an interlace block, where some passes are empty', async () => {
    for (const [w, h] of [[1, 1], [3, 2], [1, 9], [9, 1]]) {
      const samples = randomSamples(w * h * 3, 256, w * 31 + h);
      const got = await histogramOf(encodePng({ width: w, height: h, bitDepth: 8, colourType: 2, samples, filters: [4], interlaced: true }));
      assert.deepEqual(channelsOf(got), [0, 1, 2].map((c) => countsOf(samples, c, 3)), `${w}×${h}`);
    }
  });

  it('gives the same counts as the general decoder for PNGs written by sharp and by Pillow', async () => {
    // The general path: libvips decodes the image into a frame, and the operation counts its pixels.
    const general = async (png: Buffer) => histogram.analyse(open(png, await probe(png, resolveLimits()), resolveLimits()), { bins: 256 }, { loadAsset: async () => Buffer.alloc(0) });
    for (const png of [
      readFileSync(join(FIXTURES, 'pillow', 'png-kinds', 'rgba.png')),
      readFileSync(photo('coffee.png')),
      readFileSync(photo('camera.png')),
      await sharp(photo('chelsea.png')).png({ palette: true, colours: 64 }).toBuffer(),
      await sharp(photo('chelsea.png')).png({ progressive: true, adaptiveFiltering: true }).toBuffer(),
    ]) {
      assert.deepEqual(await histogramOf(png), await general(png));
    }
  });

  it('leaves a damaged PNG to the general decoder, which says what is wrong', async () => {
    const png = encodePng({ width, height, bitDepth: 8, colourType: 2, samples: randomSamples(width * height * 3, 256, 1), filters: [4] });
    const idat = png.indexOf('IDAT');
    const badCrc = Buffer.from(png);
    badCrc[idat + 10] ^= 0xff;
    const truncated = png.subarray(0, idat + 40);
    const badFilter = encodePng({ width, height, bitDepth: 8, colourType: 0, samples: randomSamples(width * height, 256, 2), filters: [7] });
    for (const bad of [badCrc, truncated, badFilter]) {
      await assert.rejects(histogramOf(bad), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'CORRUPT_IMAGE');
        assert.match(error.message, /^corrupt or truncated image/);
        return true;
      });
    }
  });

  it('checks the header against the pixel limit before inflating anything', async () => {
    const png = encodePng({ width: 3, height: 2, bitDepth: 8, colourType: 0, samples: [1, 2, 3, 4, 5, 6] });
    const ihdr = Buffer.from(png.subarray(16, 29));
    ihdr.writeUInt32BE(60_000, 0);
    ihdr.writeUInt32BE(60_000, 4);
    const huge = Buffer.concat([png.subarray(0, 8), pngChunk('IHDR', ihdr), png.subarray(33)]);
    await assert.rejects(histogramOf(huge), (error: Error & { code?: string }) => error.code === 'TOO_MANY_PIXELS');
  });
});
