import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import type { RawImage } from '../src/image/frame.js';
import { rgbFromRgbx } from '../src/image/resample/resize-pixels.js';
import { resample, resampleInPlace, type SourceBox } from '../src/image/resample/wasm-resampler.js';
import { decode, photo, runPipeline, synthetic } from './helpers.js';

/** Keys' cubic, a = −0.5, written from the formula. */
function keys(x: number): number {
  const t = Math.abs(x);
  return t < 1 ? 1.5 * t ** 3 - 2.5 * t ** 2 + 1 : t < 2 ? -0.5 * t ** 3 + 2.5 * t ** 2 - 4 * t + 2 : 0;
}

/**
 * Weights of the source samples for output sample o, the part of the axis from `from` spanning
 * `span` making the output: centres at from + (o + ½)·scale, kernel widened when shrinking.
 */
function weightsFor(o: number, inSize: number, outSize: number, from = 0, span = inSize): Map<number, number> {
  const scale = span / outSize;
  const stretch = Math.max(1, scale);
  const centre = from + (o + 0.5) * scale;
  const weights = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < inSize; i++) {
    const w = keys((i + 0.5 - centre) / stretch);
    if (w !== 0) { weights.set(i, w); total += w; }
  }
  for (const [i, w] of weights) weights.set(i, w / total);
  return weights;
}

/**
 * The two passes in float, written from the definition: rows first, stored as 8-bit (as
 * Pillow does between passes), then columns.
 */
function reference(src: RawImage, width: number, height: number, box?: SourceBox): Float64Array {
  const clamp = (v: number) => Math.min(255, Math.max(0, v));
  const rows = new Float64Array(width * src.height * 4);
  for (let x = 0; x < width; x++) {
    const wx = weightsFor(x, src.width, width, box?.left, box?.width);
    for (let y = 0; y < src.height; y++) for (let c = 0; c < 4; c++) {
      let v = 0;
      for (const [i, a] of wx) v += a * src.data[(y * src.width + i) * 4 + c];
      rows[(y * width + x) * 4 + c] = Math.round(clamp(v));
    }
  }
  const out = new Float64Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const wy = weightsFor(y, src.height, height, box?.top, box?.height);
    for (let x = 0; x < width; x++) for (let c = 0; c < 4; c++) {
      let v = 0;
      for (const [j, a] of wy) v += a * rows[(j * width + x) * 4 + c];
      out[(y * width + x) * 4 + c] = clamp(v);
    }
  }
  return out;
}

const rgbx = async (file: string, w: number, h: number): Promise<RawImage> => {
  const { data, info } = await sharp(file).resize(w, h, { fit: 'fill' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 4 };
};

describe('SIMD resampler', () => {
  for (const [from, to] of [[[60, 45], [64, 64]], [[80, 60], [33, 47]], [[40, 40], [40, 40]]] as const) {
    it(`matches the float formula within ±1.5 for ${from.join('×')} → ${to.join('×')}`, async () => {
      const src = await rgbx(photo('coffee.png'), from[0], from[1]);
      const got = resample(src, to[0], to[1], 'cubic');
      const expected = reference(src, to[0], to[1]);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(got.data[i] - expected[i]));
      assert.ok(worst <= 1.5, `worst difference ${worst}`);
    });
  }

  it('resamples a box of the source with fractional edges within ±1.5 of the float formula', async () => {
    const src = await rgbx(photo('coffee.png'), 80, 60);
    for (const [box, to] of [[{ left: 10.5, top: 0, width: 60, height: 60 }, [48, 48]], [{ left: 0, top: 7.25, width: 80, height: 45.5 }, [100, 57]]] as const) {
      const got = resampleInPlace(src.width, src.height, { width: to[0], height: to[1] }, box, 'cubic', 4, (into) => into.set(src.data), (out) => Buffer.from(out));
      const expected = reference(src, to[0], to[1], box);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]));
      assert.ok(worst <= 1.5, `${JSON.stringify(box)} → ${to.join('×')}: worst difference ${worst}`);
    }
  });

  it('resamples grey on one channel to exactly the values of the same grey in four', async () => {
    const { data, info } = await sharp(photo('coffee.png')).resize(97, 61, { fit: 'fill' }).greyscale().raw().toBuffer({ resolveWithObject: true });
    const grey: RawImage = { data, width: info.width, height: info.height, channels: 1 };
    const four: RawImage = { ...grey, channels: 4, data: Buffer.alloc(data.length * 4) };
    for (let i = 0; i < data.length; i++) four.data.fill(data[i], i * 4, i * 4 + 3);
    // Shrinks and enlargements by several factors give windows of 2 to 20 taps, so every remainder of the 8-tap groups.
    for (const [w, h] of [[97, 61], [200, 130], [48, 30], [31, 20], [13, 9], [64, 7]]) {
      for (const kernel of ['linear', 'cubic', 'lanczos3'] as const) {
        const one = resample(grey, w, h, kernel);
        const expected = resample(four, w, h, kernel);
        assert.equal(one.channels, 1);
        assert.equal(one.data.length, w * h);
        for (let i = 0; i < w * h; i++) assert.equal(one.data[i], expected.data[i * 4], `${w}×${h} ${kernel} at ${i}`);
      }
    }
  });

  it('keeps a flat image exactly flat with every kernel', () => {
    const flat = synthetic(50, 30, 4, (_x, _y, c) => [200, 17, 99, 255][c]);
    for (const kernel of ['linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3'] as const) {
      const out = resample(flat, 77, 41, kernel);
      for (let i = 0; i < out.data.length; i++) assert.equal(out.data[i], [200, 17, 99, 255][i % 4], kernel);
    }
  });

  it('turns RGBX into RGB byte for byte, whatever the count of pixels and wherever the buffer starts', () => {
    for (const [width, height] of [[1, 1], [3, 1], [4, 1], [7, 3], [257, 5]]) {
      const n = width * height;
      const bytes = Buffer.alloc(4 * n + 1);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 97 + 13) & 255;
      for (const data of [bytes.subarray(0, 4 * n), bytes.subarray(1)]) {
        const out = rgbFromRgbx({ data, width, height, channels: 4 });
        const expected = Buffer.from(data.filter((_, i) => i % 4 !== 3));
        assert.equal(out.channels, 3);
        assert.deepEqual(out.data, expected, `${width}×${height}, buffer at ${data.byteOffset}`);
      }
    }
  });
});

describe('JPEG fast lane', () => {
  const jpeg = () => sharp(photo('coffee.png')).resize(500, 375, { fit: 'fill' }).jpeg({ quality: 92 }).toBuffer();

  it('takes JPEG → exact size → JPEG and matches the reference resize closely', async () => {
    const input = await jpeg();
    const result = await runPipeline('resize:512:512:fit=fill:kernel=cubic,output:jpeg:90', input);
    assert.equal(result.kind === 'image' && result.stats.path, 'jpeg-turbo');
    const got = await decode(result.kind === 'image' ? result.data : Buffer.alloc(0));
    assert.deepEqual([got.width, got.height], [512, 512]);
    const source = await decode(input);
    const rgbxSource = { ...source, channels: 4 as const, data: Buffer.alloc(source.width * source.height * 4) };
    for (let i = 0; i < source.width * source.height; i++) source.data.copy(rgbxSource.data, i * 4, i * 3, i * 3 + 3);
    const expected = reference(rgbxSource, 512, 512);
    let squared = 0;
    for (let i = 0; i < 512 * 512; i++) for (let c = 0; c < 3; c++) squared += (got.data[i * 3 + c] - expected[i * 4 + c]) ** 2;
    const psnr = 10 * Math.log10((255 * 255) / (squared / (512 * 512 * 3)));
    assert.ok(psnr > 35, `PSNR ${psnr.toFixed(1)} dB`);
  });

  it('leaves other pipelines to libvips, and takes JPEGs with an ICC profile', async () => {
    const other = await runPipeline('resize:512:512:fit=fill,blur:1,output:jpeg', await jpeg());
    assert.equal(other.stats.path, 'libvips');
    // The profile is copied into the JPEG, WebP or PNG written (test/lanes.test.ts).
    for (const format of ['jpeg', 'png', 'webp']) {
      const result = await runPipeline(`resize:512:512:fit=fill,output:${format}`, photo('rocket.jpg'));
      assert.equal(result.stats.path, 'jpeg-turbo', format);
    }
  });

  it('still refuses a truncated JPEG', async () => {
    const cut = (await jpeg()).subarray(0, 9000);
    await assert.rejects(runPipeline('resize:512:512:fit=fill,output:jpeg', cut), { code: 'CORRUPT_IMAGE' });
  });
});
