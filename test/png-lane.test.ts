import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp, { type ResizeOptions } from 'sharp';
import type { RawImage } from '../src/image/frame.js';
import { decodePngInto, PngRefused } from '../src/image/png-pixels.js';
import { laneFor, LANE_HEAD_BYTES } from '../src/pipeline/lane.js';
import { parsePipelineText } from '../src/pipeline/load.js';
import { processImage } from '../src/pipeline/process.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { decode, photo, pillowCover, psnr } from './helpers.js';
import { encodePng, pngChunk } from './png-writer.js';

const pipeline = (text: string) => validatePipeline(parsePipelineText(text));

/** The PNG with `chunk` put right after its IHDR. */
function withChunk(png: Buffer, chunk: Buffer): Buffer {
  return Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]);
}

/** A photo as an 8-bit PNG, written as Pillow writes one (every row filtered) or plain sharp does. */
const photoPng = (width: number, height: number, grey = false, filtered = true) => {
  const image = sharp(photo('coffee.png')).resize(width, height, { fit: 'fill' });
  return (grey ? image.toColourspace('b-w') : image).png({ adaptiveFiltering: filtered, compressionLevel: 6 }).toBuffer();
};

/** The pipeline's output for a PNG, checked to have come from this lane in `format` with grey kept grey. */
async function throughLane(input: Buffer, text: string, grey: boolean, format: 'jpeg' | 'png'): Promise<RawImage> {
  const result = await processImage(input, pipeline(text));
  assert.equal(result.stats.path, 'png-zlib', `${text}, ${grey ? 'grey' : 'RGB'}`);
  assert.ok(result.kind === 'image');
  assert.equal(result.format, format);
  const got = await decode(result.data);
  assert.equal(got.channels, grey ? 1 : 3);
  return got;
}

describe('PNG lane', () => {
  it('decodes every row filter to exactly the samples written, RGB as RGBX and grey as grey', () => {
    const width = 37;
    const height = 23;
    for (const colourType of [2, 0] as const) {
      const perPixel = colourType === 2 ? 3 : 1;
      const samples = Array.from({ length: width * height * perPixel }, (_, i) => (i * 7919 + (i >> 5) * 31) % 256);
      const png = encodePng({ width, height, bitDepth: 8, colourType, samples, filters: [0, 1, 2, 3, 4, 4, 3, 1] });
      for (const channels of colourType === 2 ? [4, 3] as const : [1] as const) {
        const into = Buffer.alloc(width * height * channels);
        decodePngInto(png, into, channels);
        for (let p = 0; p < width * height; p++) {
          for (let c = 0; c < perPixel; c++) assert.equal(into[p * channels + c], samples[p * perPixel + c], `${channels} channels: pixel ${p} sample ${c}`);
          if (channels === 4) assert.equal(into[p * 4 + 3], 255);
        }
      }
    }
  });

  it('writes a JPEG of a PNG with no resize or steps from the decoded pixels, grey kept grey', async () => {
    for (const grey of [false, true]) {
      const input = await photoPng(500, 375, grey);
      const got = await throughLane(input, 'output:jpeg:90', grey, 'jpeg');
      // As close to the PNG as libvips' own JPEG of it, within half a dB (the encoders' DCTs differ).
      const original = await decode(input);
      const libvips = sharp(input).jpeg({ quality: 90 });
      const reference = psnr(await decode(await (grey ? libvips.toColourspace('b-w') : libvips).toBuffer()), original);
      const quality = psnr(got, original);
      assert.ok(quality > reference - 0.5, `${grey ? 'grey' : 'RGB'}: PSNR ${quality.toFixed(2)} dB against the PNG, libvips' JPEG ${reference.toFixed(2)} dB`);
    }
  });

  it('runs steps on pixels without a resize, from the decoded PNG: sharpened as libvips sharpens, grey kept grey', async () => {
    for (const grey of [false, true]) {
      const input = await photoPng(301, 199, grey);
      const got = await throughLane(input, 'sharpen,output:png', grey, 'png');
      // sharp writes a sharpened grey PNG as RGB unless told.
      const sharpened = sharp(input).sharpen({ sigma: 1 });
      const libvips = await decode(await (grey ? sharpened.toColourspace('b-w') : sharpened).png().toBuffer());
      assert.deepEqual([got.width, got.height, got.channels], [libvips.width, libvips.height, libvips.channels]);
      let worst = 0;
      let changed = 0;
      const before = await decode(input);
      for (let i = 0; i < got.data.length; i++) {
        worst = Math.max(worst, Math.abs(got.data[i] - libvips.data[i]));
        if (got.data[i] !== before.data[i]) changed++;
      }
      assert.ok(worst <= 1, `${grey ? 'grey' : 'RGB'}: off by up to ${worst} from libvips' sharpen`);
      assert.ok(changed > got.data.length / 10, 'the image was sharpened');
    }
  });

  it('resizes plain PNGs with sharp\'s sizes, and pixels close to libvips\' resize (a cover: to Pillow\'s)', async () => {
    const cases: Array<[string, ResizeOptions]> = [
      ['resize:200:200:fit=cover', { width: 200, height: 200, fit: 'cover' }],
      ['resize:256:256', { width: 256, height: 256, fit: 'inside' }],
      ['resize:300:120:fit=fill:kernel=cubic', { width: 300, height: 120, fit: 'fill', kernel: 'cubic' }],
      ['resize:300:300:fit=contain:background=00ff00', { width: 300, height: 300, fit: 'contain', background: '#00ff00' }],
      ['resize:width=333', { width: 333 }],
    ];
    for (const [name, input] of [['RGB', await photoPng(500, 375)], ['RGB, unfiltered', await photoPng(375, 500, false, false)], ['grey', await photoPng(500, 333, true)]] as const) {
      for (const [text, options] of cases) {
        if (name === 'grey' && text.includes('contain')) continue;
        const result = await processImage(input, pipeline(`${text},output:png`));
        assert.equal(result.stats.path, 'png-zlib', `${name} ${text}`);
        assert.ok(result.kind === 'image');
        const got = await decode(result.data);
        // sharp writes a resized grey PNG as RGB unless told; imgfleet keeps it grey in every lane.
        const resized = sharp(input).resize(options);
        const libvips = await decode(await (name === 'grey' ? resized.toColourspace('b-w') : resized).png().toBuffer());
        assert.equal(result.channels, name === 'grey' ? 1 : 3);
        assert.deepEqual([got.width, got.height], [libvips.width, libvips.height], `${name} ${text}: sharp's size`);
        // A cover is cut as Pillow cuts it (test/lanes.test.ts).
        const cover = options.fit === 'cover';
        const quality = psnr(got, cover ? await pillowCover(input, options.width!, options.height!) : libvips);
        assert.ok(quality > 35, `${name} ${text}: PSNR ${quality.toFixed(1)} dB against ${cover ? 'Pillow' : 'sharp'}`);
      }
    }
  });

  it('writes JPEG and WebP from the resampler, of the size and channels libvips would', async () => {
    for (const grey of [false, true]) {
      const input = await photoPng(500, 375, grey);
      for (const format of ['jpeg', 'webp'] as const) {
        const result = await processImage(input, pipeline(`resize:200:200:fit=cover,output:${format}:80`));
        assert.equal(result.stats.path, 'png-zlib');
        const meta = await sharp(result.kind === 'image' ? result.data : Buffer.alloc(0)).metadata();
        assert.deepEqual([meta.format, meta.width, meta.height], [format, 200, 200]);
        // WebP has no grey: libvips writes grey as colour, from either lane.
        if (format === 'jpeg') assert.equal(meta.channels, grey ? 1 : 3);
      }
    }
  });

  it('leaves to libvips every PNG whose pixels mean more than their samples, and one only written again as PNG or WebP', async () => {
    const plain = await photoPng(120, 90);
    const rgb = (w: number, h: number) => Array.from({ length: w * h * 3 }, (_, i) => i % 251);
    const cases: Array<[string, Buffer, string]> = [
      ['plain', plain, 'resize:60,output:png'],
      ['gAMA', withChunk(plain, pngChunk('gAMA', Buffer.from([0, 0, 0xb1, 0x8f]))), 'resize:60,output:png'],
      ['sRGB', withChunk(plain, pngChunk('sRGB', Buffer.from([0]))), 'resize:60,output:png'],
      ['tRNS', withChunk(plain, pngChunk('tRNS', Buffer.from([0, 1, 0, 2, 0, 3]))), 'resize:60,output:png'],
      ['ICC profile', await sharp(plain).withIccProfile('p3').png().toBuffer(), 'resize:60,output:png'],
      ['16-bit', encodePng({ width: 40, height: 30, bitDepth: 16, colourType: 2, samples: rgb(40, 30).map((v) => v * 257) }), 'resize:20,output:png'],
      ['interlaced', encodePng({ width: 40, height: 30, bitDepth: 8, colourType: 2, samples: rgb(40, 30), interlaced: true }), 'resize:20,output:png'],
      ['RGBA', await sharp(plain).ensureAlpha(0.5).png().toBuffer(), 'resize:60,output:png'],
      ['palette', await sharp(plain).png({ palette: true }).toBuffer(), 'resize:60,output:png'],
      ['over 1 MP', await photoPng(1200, 900), 'resize:60,output:png'],
      ['no resize, to WebP', plain, 'output:webp'],
      ['no resize, to PNG', plain, 'output:png'],
      ['plain, to JPEG', plain, 'output:jpeg:80'],
      ['plain, steps on pixels', plain, 'sharpen,output:webp'],
      ['AVIF', plain, 'resize:60,output:avif'],
    ];
    for (const [name, input, text] of cases) {
      const p = pipeline(text);
      const result = await processImage(input, p);
      assert.equal(laneFor(input.subarray(0, LANE_HEAD_BYTES), p), result.stats.path, name);
      assert.equal(result.stats.path, name.startsWith('plain') ? 'png-zlib' : 'libvips', name);
    }
  });

  it('refuses a cut or corrupted PNG itself, and libvips then says in one line what is wrong', async () => {
    const input = await photoPng(500, 375);
    const cut = input.subarray(0, Math.floor(input.length / 2));
    assert.throws(() => decodePngInto(cut, Buffer.alloc(500 * 375 * 4), 4), PngRefused);
    for (const text of ['resize:200:200:fit=cover,output:jpeg', 'sharpen,output:jpeg']) {
      const error = await processImage(cut, pipeline(text)).then(() => undefined, (e: unknown) => e as { code: string; message: string });
      assert.equal(error?.code, 'CORRUPT_IMAGE', text);
      assert.ok(!error.message.includes('\n'), error.message);
    }

    // One byte changed anywhere: an image (from either lane) or a coded, one-line refusal, never a crash.
    const small = await photoPng(90, 70);
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    // Every other one through a pipeline with no resize, whose pixels come straight from the decoder.
    for (let i = 0; i < 200; i++) {
      const changed = Buffer.from(small);
      changed[Math.floor(random() * changed.length)] = Math.floor(random() * 256);
      const [text, width] = i % 2 === 0 ? ['resize:40:40:fit=cover,output:jpeg', 40] : ['sharpen,output:jpeg', 90];
      await processImage(changed, pipeline(text)).then(
        (result) => assert.ok(result.kind === 'image' && result.width === width, text),
        (e: { code?: string; message: string }) => assert.ok(e.code && !e.message.includes('\n'), `${e.code}: ${e.message}`),
      );
    }

    // A byte of the image data changed: the checksum no longer matches.
    const flipped = Buffer.from(input);
    flipped[input.length - 100] ^= 0xff;
    assert.throws(() => decodePngInto(flipped, Buffer.alloc(500 * 375 * 4), 4), PngRefused);
  });
});
