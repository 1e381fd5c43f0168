import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { describe, it } from 'node:test';
import sharp, { type ResizeOptions } from 'sharp';
import type { RawImage } from '../src/image/frame.js';
import { readHead } from '../src/io/read-head.js';
import { headerSize } from '../src/runner/source-facts.js';
import { laneFor, LANE_HEAD_BYTES, workInLibvips } from '../src/pipeline/lane.js';
import { parsePipelineText } from '../src/pipeline/load.js';
import { processImage } from '../src/pipeline/process.js';
import { resizeRoute, type ResizeParams } from '../src/ops/resize.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { CORPUS, decode, outputsByLane, photo, pillowCover, psnr, tempDir, withoutIccSegments } from './helpers.js';

const pipeline = (text: string) => validatePipeline(parsePipelineText(text));
const jpeg = (width: number, height: number) => sharp(photo('coffee.png')).resize(width, height, { fit: 'fill' }).jpeg({ quality: 92 }).toBuffer();

/** The same resize by plain sharp (libvips), turned upright, as a user of sharp writes it. */
async function bySharp(input: Buffer, options: ResizeOptions): Promise<RawImage> {
  return decode(await sharp(input).rotate().resize(options).png().toBuffer());
}

describe('libjpeg-turbo lane', () => {
  // Enlarging, libvips samples half a pixel away from Pillow's grid, which this lane follows.
  const enlarging: Array<[string, ResizeOptions]> = [
    ['resize:512:512:fit=fill:kernel=cubic', { width: 512, height: 512, fit: 'fill', kernel: 'cubic' }],
    ['resize:400:400:fit=cover', { width: 400, height: 400, fit: 'cover' }],
  ];
  const fits: Array<[string, ResizeOptions]> = [
    ['resize:200:200:fit=cover', { width: 200, height: 200, fit: 'cover' }],
    ['resize:300:120:fit=cover:kernel=linear', { width: 300, height: 120, fit: 'cover', kernel: 'linear' }],
    ['resize:300:300:fit=contain:background=00ff00', { width: 300, height: 300, fit: 'contain', background: '#00ff00' }],
    ['resize:256:256', { width: 256, height: 256, fit: 'inside' }],
    ['resize:256:256:fit=outside', { width: 256, height: 256, fit: 'outside' }],
    ['resize:width=333', { width: 333 }],
    ['resize:height=90:kernel=mitchell', { height: 90, kernel: 'mitchell' }],
    ['resize:900:900:enlarge=false', { width: 900, height: 900, withoutEnlargement: true }],
  ];
  for (const [width, height] of [[500, 375], [375, 500]]) {
    for (const [text, options] of [...enlarging, ...fits]) {
      it(`${text} on ${width}×${height}: sharp's size, crop and padding`, async () => {
        const input = await jpeg(width, height);
        const result = await processImage(input, pipeline(`${text},output:png`));
        assert.equal(result.stats.path, 'jpeg-turbo');
        assert.ok(result.kind === 'image');
        const got = await decode(result.data);
        const libvips = await bySharp(input, options);
        assert.deepEqual([got.width, got.height], [libvips.width, libvips.height], 'sharp\'s size');
        // A cover is cut as Pillow cuts it (the test above).
        const cover = options.fit === 'cover';
        const expected = cover ? await pillowCover(input, options.width!, options.height!) : libvips;
        // A crop or padding a pixel off costs far more than the two resamplers differ by.
        const least = enlarging.some(([t]) => t === text) ? 26 : 31;
        assert.ok(psnr(got, expected) > least, `PSNR ${psnr(got, expected).toFixed(1)} dB against ${cover ? 'Pillow' : 'sharp'}`);
        if (options.fit === 'contain') {
          const corner = [...got.data.subarray(0, 3)];
          assert.deepEqual(corner, [0, 255, 0], 'padding is the background colour');
        }
      });
    }
  }

  it('cuts a cover from the source as Pillow\'s ImageOps.fit does, where libvips is up to half a pixel off; in the libvips lane too', async () => {
    // Small JPEGs in the libvips lane: their covers are cut from the box there.
    const withIcc = async (width: number, height: number) => sharp(await jpeg(width, height)).withIccProfile('srgb').jpeg({ quality: 95 }).toBuffer();
    // Larger ones, where libvips shrinks on load first: the resampler makes the last part of the resize.
    const volna = (width: number, height: number) => sharp(join(CORPUS, 'large', 'volna-5120x2880.jpg')).resize(width, height, { fit: 'fill' });
    const largeWithIcc = (width: number, height: number) => volna(width, height).withIccProfile('srgb').jpeg({ quality: 95 }).toBuffer();
    const largeWebp = (width: number, height: number) => volna(width, height).webp({ quality: 90 }).toBuffer();
    const largeJpeg = (width: number, height: number) => volna(width, height).jpeg({ quality: 95 }).toBuffer();
    const largePng = (width: number, height: number) => volna(width, height).png().toBuffer();
    // Stored turned a quarter, its EXIF orientation (8) turning it back: the stored partial last
    // column is the top row.
    const largeTurnedWithIcc = async (width: number, height: number) => sharp(await volna(width, height).png().toBuffer()).rotate(90).withMetadata({ orientation: 8 }).jpeg({ quality: 95 }).toBuffer();
    const largeTurned = async (width: number, height: number) => withoutIccSegments(await largeTurnedWithIcc(width, height));
    const cases = [
      [jpeg, 'jpeg-turbo', 500, 375, 400, 400], [jpeg, 'jpeg-turbo', 375, 500, 200, 200], [jpeg, 'jpeg-turbo', 500, 375, 300, 120],
      [withIcc, 'libvips', 500, 375, 300, 200], [withIcc, 'libvips', 500, 375, 400, 400],
      [largeWithIcc, 'libvips', 1600, 1200, 400, 400], [largeWebp, 'libvips', 1600, 1200, 300, 200],
      // libvips decodes every pixel of a PNG anyway: the box is cut first, in whole pixels.
      [largePng, 'libvips', 1600, 1200, 400, 400], [largePng, 'libvips', 1603, 1201, 300, 200],
      // libvips' first pass makes 166×125 of it, each side at its own scale (sides that are
      // multiples of 8: libvips' shrink on load keeps every row).
      [largeWithIcc, 'libvips', 2000, 1504, 100, 100],
      // Decoded at 1/4, 1067 rows hold 266.75 rows of the photo: mapped exactly, not stretched from 266.
      [largeJpeg, 'jpeg-turbo', 1600, 1067, 300, 200],
      // libvips decodes it at 1/4 to 266 whole rows and sharp stretches them over all 1067: the
      // resampler maps the box onto the whole blocks of libvips' first pass instead.
      [largeWithIcc, 'libvips', 1600, 1067, 300, 200], [largeTurnedWithIcc, 'libvips', 1600, 1067, 300, 200],
      // The libjpeg-turbo lane resizes the stored pixels and turns the result.
      [largeTurned, 'jpeg-turbo', 1600, 1067, 300, 200],
    ] as const;
    for (const [make, path, width, height, w, h] of cases) {
      const input = await make(width, height);
      const expected = await pillowCover(input, w, h);
      // Written as TIFF, which no pixel lane writes, an image is libvips' all the way.
      const result = await processImage(input, pipeline(`resize:${w}:${h}:fit=cover,output:${path === 'libvips' ? 'tiff' : 'png'}`));
      assert.equal(result.stats.path, path);
      assert.ok(result.kind === 'image');
      const got = psnr(await decode(result.data), expected);
      const libvips = psnr(await bySharp(input, { width: w, height: h, fit: 'cover' }), expected);
      // Measured 46–80 dB on the small ones and 50.9–55.4 on the large; a stretch or a box mapped onto the wrong side of a copy gives 47 or less.
      assert.ok(got > (width >= 1600 ? 50 : 45), `${path}, ${width}×${height} → ${w}×${h}: PSNR ${got.toFixed(1)} dB against Pillow`);
      assert.ok(got > libvips + 1, `${path}, ${width}×${height} → ${w}×${h}: ${got.toFixed(1)} dB, sharp ${libvips.toFixed(1)} dB`);
    }
  });

  it('takes JPEGs stored turned or mirrored by any EXIF orientation, and turns them as libvips does', async () => {
    const volna = (width: number, height: number) => sharp(join(CORPUS, 'large', 'volna-5120x2880.jpg')).resize(width, height, { fit: 'fill' });
    // Odd sides, so that a crop or padding mirrored the wrong way lands a pixel off. Steps on
    // pixels come after the turn: with no resize, every decoded pixel is turned.
    const stored = { small: await volna(501, 377).png().toBuffer(), large: await volna(1600, 1067).png().toBuffer() };
    const grey = await volna(501, 377).toColourspace('b-w').png().toBuffer();
    const fits: Array<[string, ResizeOptions]> = [
      ['resize:300:200:fit=cover', { width: 300, height: 200, fit: 'cover' }],
      ['resize:301:300:fit=contain:background=00ff00', { width: 301, height: 300, fit: 'contain', background: '#00ff00' }],
      ['resize:256:256', { width: 256, height: 256, fit: 'inside' }],
      ['resize:200:150:fit=fill', { width: 200, height: 150, fit: 'fill' }],
    ];
    for (let orientation = 1; orientation <= 8; orientation++) {
      const turned = async (png: Buffer) => withoutIccSegments(await sharp(png).withMetadata({ orientation }).jpeg({ quality: 92 }).toBuffer());
      for (const [size, png] of Object.entries(stored)) {
        const input = await turned(png);
        for (const [text, options] of fits) {
          const result = await processImage(input, pipeline(`${text},output:png`));
          assert.ok(result.kind === 'image');
          assert.equal(result.stats.path, 'jpeg-turbo', `${size}, orientation ${orientation}, ${text}`);
          const got = await decode(result.data);
          const cover = options.fit === 'cover';
          const expected = cover ? await pillowCover(input, options.width!, options.height!) : await bySharp(input, options);
          assert.deepEqual([got.width, got.height], [expected.width, expected.height], `${size}, orientation ${orientation}, ${text}: the size shown upright`);
          // Measured 42–83 dB; with 2 and 4, 6 and 8 swapped, 11–13.
          assert.ok(psnr(got, expected) > 40, `${size}, orientation ${orientation}, ${text}: PSNR ${psnr(got, expected).toFixed(1)} dB against ${cover ? 'Pillow' : 'sharp'}`);
        }
      }
      // Turned a quarter, 501×377 is shown 377×501: a 377×300 cover of it is cut in whole pixels, as sharp cuts it.
      if (orientation >= 5) {
        const input = await turned(stored.small);
        const result = await processImage(input, pipeline('resize:377:300:fit=cover,output:png'));
        assert.ok(result.kind === 'image' && result.stats.path === 'jpeg-turbo');
        const expected = await bySharp(input, { width: 377, height: 300, fit: 'cover' });
        assert.ok(psnr(await decode(result.data), expected) > 40, `unscaled cover, orientation ${orientation}: PSNR ${psnr(await decode(result.data), expected).toFixed(1)} dB against sharp`);
      }
      // A grey JPEG (one component) with the EXIF segment of a colour one: sharp writes grey as colour once it writes a profile.
      const exif = (await turned(stored.small)).subarray(2, 2 + 2 + (await turned(stored.small)).readUInt16BE(4));
      assert.equal(exif[1], 0xe1);
      const greyJpeg = await sharp(grey).toColourspace('b-w').jpeg({ quality: 92 }).toBuffer();
      const greyInput = Buffer.concat([greyJpeg.subarray(0, 2), exif, greyJpeg.subarray(2)]);
      const greyCover = await processImage(greyInput, pipeline('resize:300:200:fit=cover,output:png'));
      assert.ok(greyCover.kind === 'image' && greyCover.stats.path === 'jpeg-turbo' && greyCover.channels === 1);
      assert.ok(psnr(await decode(greyCover.data), await pillowCover(greyInput, 300, 200)) > 40, `grey, orientation ${orientation}`);
      const input = await turned(stored.small);
      const steps = await processImage(input, pipeline('grayscale,output:png'));
      assert.ok(steps.kind === 'image' && steps.stats.path === 'jpeg-turbo');
      assert.deepEqual([steps.stats.input.width, steps.stats.input.height], orientation >= 5 ? [377, 501] : [501, 377]);
      const expected = await decode(await sharp(input).rotate().toColourspace('b-w').png().toBuffer());
      // libvips' grey weighs the channels a little otherwise: 38 dB upright.
      assert.ok(psnr(await decode(steps.data), expected) > 35, `grayscale, orientation ${orientation}: PSNR ${psnr(await decode(steps.data), expected).toFixed(1)} dB against sharp`);
    }
  });

  it('carries a JPEG\'s ICC profile into the JPEG, WebP or PNG it writes, pixels as stored; a grey JPEG or PNG leaves out its RGB profile', async () => {
    const rocket = readFileSync(photo('rocket.jpg'));
    const profile = (await sharp(rocket).metadata()).icc!;
    const bare = withoutIccSegments(rocket);
    assert.equal((await sharp(bare).metadata()).icc, undefined);
    const colour = ['resize:300:200:fit=cover,output:jpeg', 'resize:200,sharpen,output:jpeg:90', 'output:jpeg', 'resize:300:200:fit=cover,output:webp', 'grayscale,output:webp',
      'resize:300:200:fit=cover,output:png', 'resize:200,sharpen,output:png'];
    for (const text of [...colour, 'grayscale,output:jpeg', 'grayscale,output:png']) {
      const kept = await processImage(rocket, pipeline(text));
      const none = await processImage(bare, pipeline(text));
      assert.ok(kept.kind === 'image' && none.kind === 'image');
      assert.equal(kept.stats.path, 'jpeg-turbo', text);
      assert.equal(none.stats.path, 'jpeg-turbo', text);
      const icc = (await sharp(kept.data).metadata()).icc;
      if (colour.includes(text)) assert.ok(icc?.equals(profile), `${text}: the input's profile`);
      else assert.equal(icc, undefined, `${text}: an RGB profile does not fit grey pixels`);
      const pixels = async (data: Buffer) => sharp(data, { ignoreIcc: true }).raw().toBuffer();
      assert.ok((await pixels(kept.data)).equals(await pixels(none.data)), `${text}: the pixels as without a profile`);
    }
  });

  it('leaves to libvips the covers it cuts in the centre or that would hold too much memory, and starts the rest from a smaller copy', () => {
    const cover = (width: number, height: number): ResizeParams => ({ width, height, fit: 'cover', kernel: 'lanczos3', enlarge: true, background: '#000000', position: 'center', dpr: 1 });
    // A WebP, which libwebp shrinks on load: 1600×1200 → 400×400, libvips' crop 67 against 66.67 pixels from the left.
    const webp = { by: 'averaging' } as const;
    assert.deepEqual(resizeRoute({ width: 1600, height: 1200 }, cover(400, 400), 3, true, webp), { by: 'resampler', from: { width: 667, height: 500 }, kernel: 'lanczos3' });
    // An image libvips decodes whole anyway (a PNG, say): the box is cut first, in whole pixels
    // (3428.57 rows centred, 1285.71 from the top: 3429 from 1286).
    assert.deepEqual(resizeRoute({ width: 1600, height: 1200 }, cover(400, 400), 3, true), { by: 'box-then-libvips', region: { left: 200, top: 0, width: 1200, height: 1200 } });
    assert.deepEqual(resizeRoute({ width: 8000, height: 6000 }, cover(7000, 3000), 3, true), { by: 'box-then-libvips', region: { left: 0, top: 1286, width: 8000, height: 3429 } });
    // After other steps, as a WebP's: 1600×1200 → 300×300, the crop's offset of 50 is exact.
    assert.deepEqual(resizeRoute({ width: 1600, height: 1200 }, cover(300, 300), 3, false), { by: 'libvips' });
    assert.deepEqual(resizeRoute({ width: 1600, height: 1200 }, cover(300, 300), 3, true, webp), { by: 'libvips' });
    // Unscaled, every lane cuts whole pixels.
    assert.deepEqual(resizeRoute({ width: 4000, height: 3001 }, cover(4000, 2000), 3, true, webp), { by: 'libvips' });
    // 1000×999 → 900×700: 1.25 times its scale is nearly all of it, so from the whole pixels.
    assert.deepEqual(resizeRoute({ width: 1000, height: 999 }, cover(900, 700), 3, true, webp), { by: 'resampler', from: { width: 1000, height: 999 }, kernel: 'lanczos3' });
    // 8000×6000 → 7000×3000: the whole 48 MP would be the resampler's.
    assert.deepEqual(resizeRoute({ width: 8000, height: 6000 }, cover(7000, 3000), 3, true, webp), { by: 'libvips' });
    // A JPEG of 1600×1067 → 300×200, which libvips shrinks on load by 4: 1064 of its 1067 rows
    // (a crop at 0.03 pixel from the centre, as a WebP's, is libvips').
    const jpegBlocks = { by: 'whole-blocks', orientation: 1 } as const;
    assert.deepEqual(resizeRoute({ width: 1600, height: 1067 }, cover(300, 200), 3, true, jpegBlocks), { by: 'resampler', from: { width: 375, height: 250 }, kernel: 'lanczos3' });
    assert.deepEqual(resizeRoute({ width: 1600, height: 1067 }, cover(300, 200), 3, true, webp), { by: 'libvips' });
    assert.deepEqual(resizeRoute({ width: 1600, height: 1067 }, { ...cover(300, 200), fit: 'fill' }, 3, true, jpegBlocks), { by: 'resampler', from: { width: 375, height: 250 }, kernel: 'lanczos3' });
    // Sides that are multiples of the shrink (1600×1200 at 1/4) and fits whose size libvips decides stay libvips'.
    assert.deepEqual(resizeRoute({ width: 1600, height: 1200 }, cover(300, 300), 3, true, jpegBlocks), { by: 'libvips' });
    assert.deepEqual(resizeRoute({ width: 1600, height: 1067 }, { ...cover(300, 200), fit: 'inside' }, 3, true, jpegBlocks), { by: 'libvips' });
    // An enlargement is the resampler's, up to 4 MP: more would stay in its memory.
    const enlarge = (width: number, height: number): ResizeParams => ({ ...cover(width, height), fit: 'inside' });
    assert.deepEqual(resizeRoute({ width: 500, height: 375 }, enlarge(1600, 1200), 3, true), { by: 'resampler', from: { width: 500, height: 375 }, kernel: 'lanczos3' });
    assert.deepEqual(resizeRoute({ width: 1000, height: 800 }, enlarge(3000, 2400), 3, true), { by: 'libvips' });
    // With alpha, another position or the nearest pixel: libvips.
    assert.deepEqual(resizeRoute({ width: 1600, height: 1200 }, cover(400, 400), 4, true), { by: 'libvips' });
    assert.deepEqual(resizeRoute({ width: 1600, height: 1200 }, { ...cover(400, 400), position: 'north' }, 3, true), { by: 'libvips' });
    assert.deepEqual(resizeRoute({ width: 1600, height: 1200 }, { ...cover(400, 400), kernel: 'nearest' }, 3, true), { by: 'libvips' });
  });

  it('runs steps that work on pixels, and writes JPEG, PNG and WebP', async () => {
    const input = await jpeg(500, 375);
    const grey = await processImage(input, pipeline('grayscale,output:png'));
    assert.equal(grey.stats.path, 'jpeg-turbo');
    assert.ok(grey.kind === 'image' && grey.channels === 1);
    assert.equal((await sharp(grey.data).metadata()).channels, 1);
    for (const format of ['jpeg', 'png', 'webp'] as const) {
      const result = await processImage(input, pipeline(`resize:200:200:fit=cover,sepia,output:${format}`));
      assert.equal(result.stats.path, 'jpeg-turbo');
      const meta = await sharp(result.kind === 'image' ? result.data : Buffer.alloc(0)).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], [format, 200, 200, 3]);
    }
  });

  it('keeps a grey JPEG grey: one channel out, sharp\'s size, the pixels of libvips\' resize (a cover: of Pillow\'s)', async () => {
    const grey = await sharp(photo('coffee.png')).resize(500, 375, { fit: 'fill' }).toColourspace('b-w').jpeg({ quality: 92 }).toBuffer();
    assert.equal((await sharp(grey).metadata()).channels, 1);
    const cases: Array<[string, ResizeOptions]> = [
      ['resize:256:256', { width: 256, height: 256, fit: 'inside' }],
      ['resize:200:200:fit=cover', { width: 200, height: 200, fit: 'cover' }],
      ['resize:300:100:fit=fill', { width: 300, height: 100, fit: 'fill' }],
    ];
    for (const [text, options] of cases) {
      for (const format of ['jpeg', 'png'] as const) {
        const result = await processImage(grey, pipeline(`${text},output:${format}`));
        assert.equal(result.stats.path, 'jpeg-turbo', text);
        assert.ok(result.kind === 'image' && result.channels === 1);
        const meta = await sharp(result.data).metadata();
        assert.deepEqual([meta.format, meta.channels], [format, 1], `${text} as ${format}`);
        if (format === 'png') {
          const cover = options.fit === 'cover';
          const expected = cover ? await pillowCover(grey, options.width!, options.height!) : await decode(await sharp(grey).resize(options).toColourspace('b-w').png().toBuffer());
          const got = await decode(result.data);
          assert.ok(psnr(got, expected) > 35, `${text}: PSNR ${psnr(got, expected).toFixed(1)} dB against ${cover ? 'Pillow' : 'sharp'}`);
        }
      }
    }
    // Padding a grey image with a colour is left to libvips, which decides what that makes.
    assert.equal((await processImage(grey, pipeline('resize:300:300:fit=contain:background=ff0000,output:png'))).stats.path, 'libvips');
  });

  it('laneFor predicts the lane processImage takes, from the first bytes alone', async () => {
    const small = await jpeg(500, 375);
    // Comment segments before the frame header push it past the bytes laneFor reads.
    const comment = Buffer.alloc(4 + 40_000, 0x20);
    comment.writeUInt16BE(0xfffe, 0);
    comment.writeUInt16BE(comment.length - 2, 2);
    const lateHeader = Buffer.concat([small.subarray(0, 2), comment, comment, small.subarray(2)]);
    const coffee = await readFile(photo('coffee.png'));
    const cases: Array<[Buffer, string, string]> = [
      [small, 'resize:400:400:fit=cover,output:jpeg:80', 'jpeg-turbo'],
      [small, 'grayscale,output:png', 'jpeg-turbo'],
      [small, 'resize:200,blur:1', 'libvips'],
      [small, 'resize:200:kernel=nearest', 'libvips'],
      [small, 'resize:300:300:fit=contain:background=00000080,output:png', 'libvips'],
      [small, 'resize:200,output:avif', 'libvips'],
      [small, 'histogram', 'libvips'],
      [lateHeader, 'resize:200', 'libvips'],
      // An ICC profile goes into the JPEG, WebP or PNG the lane writes.
      [await readFile(photo('rocket.jpg')), 'resize:200,output:png', 'jpeg-turbo'],
      // A plain RGB PNG takes the PNG lane (test/png-lane.test.ts), a large JPEG decoded small this lane.
      [coffee, 'resize:200', 'png-zlib'],
      [await readFile(join(CORPUS, 'large', 'volna-5120x2880.jpg')), 'resize:512:512', 'jpeg-turbo'],
    ];
    for (const [input, text, lane] of cases) {
      const p = pipeline(text);
      const result = await processImage(input, p);
      assert.equal(laneFor(input.subarray(0, LANE_HEAD_BYTES), p), result.stats.path, `${text} (${input.length} bytes)`);
      assert.equal(result.stats.path, lane, text);
    }
  });

  it('lets a task start from any thread when its steps on pixels are light at their size', async () => {
    // 5120×2880: a thumbnail of it is 256×144 (37 k pixels), a 400-pixel-wide copy 400×225.
    const head = readFileSync(join(CORPUS, 'large', 'volna-5120x2880.jpg')).subarray(0, LANE_HEAD_BYTES);
    const cases: Array<[string, boolean]> = [
      ['resize:512:512,output:jpeg', true],
      // The lane cuts the cover's box itself, from the pixels decoded at 1/8.
      ['resize:300:300:fit=cover,output:jpeg', true],
      ['resize:256:256,sharpen,output:webp', true],
      ['resize:400,blur:1.5,watermark:hi,output:webp', true],
      // At full size libvips sharpens it; at 1200×675 the WebAssembly sharpen takes about 30 ms.
      ['sharpen,output:webp', true],
      ['resize:1200,sharpen', false],
      ['resize:400,edges', false],
      ['resize:256,histogram', false],
    ];
    assert.deepEqual(cases.map(([text]) => workInLibvips(head, pipeline(text))), cases.map(([, light]) => (light ? { pixels: 5120 * 2880 } : undefined)));
    // A server's thread keeps none of the lanes' resizes or steps on pixels: only work all in libvips.
    const served = [...cases.map(([text]) => text), 'blur:2,output:jpeg'];
    const allInLibvips = new Set(['sharpen,output:webp', 'blur:2,output:jpeg']);
    assert.deepEqual(served.map((text) => workInLibvips(head, pipeline(text), 'serving')), served.map((text) => (allInLibvips.has(text) ? { pixels: 5120 * 2880 } : undefined)));
    // A JPEG with an ICC profile takes the libvips lane: its cover is finished by the resampler
    // from libvips' 667×500 copy, light enough; an enlargement resamples every pixel.
    const withIcc = (await sharp(join(CORPUS, 'large', 'volna-5120x2880.jpg')).resize(1600, 1200, { fit: 'fill' }).withIccProfile('srgb').jpeg().toBuffer()).subarray(0, LANE_HEAD_BYTES);
    assert.deepEqual(workInLibvips(withIcc, pipeline('resize:400:400:fit=cover,output:jpeg')), { pixels: 1600 * 1200 });
    assert.equal(workInLibvips(withIcc, pipeline('resize:400:400:fit=cover,output:jpeg'), 'serving'), undefined);
    assert.equal(workInLibvips(withIcc, pipeline('resize:1700:1300:fit=cover,output:jpeg')), undefined);
    // One to more than 4 MP is libvips' own.
    assert.deepEqual(workInLibvips(withIcc, pipeline('resize:2000:2000:fit=cover,output:jpeg')), { pixels: 1600 * 1200 });
  });

  it('knows a still WebP from its first bytes, so its work in libvips starts from any thread; an animation takes a thread', async () => {
    // Larger than the WebP lane takes (src/pipeline/webp-lane.ts), which works on its own thread.
    const still = await sharp(photo('rocket.jpg')).resize(1600).webp().toBuffer();
    const animated = await sharp(join(CORPUS, 'odd', 'no_time_for_that_tiny.gif'), { animated: true }).webp().toBuffer();
    assert.ok((await sharp(animated).metadata()).pages! > 1);
    const resize = pipeline('resize:256:256,output:jpeg');
    const stillSize = await sharp(still).metadata();
    assert.deepEqual([still, animated].map((input) => workInLibvips(input.subarray(0, LANE_HEAD_BYTES), resize)), [{ pixels: stillSize.width! * stillSize.height! }, undefined]);
    // The size the runner tiles by: from the first bytes for the still one, from libvips for the animation.
    for (const input of [still, animated]) {
      const { width, height, pages } = await sharp(input).metadata();
      const size = await headerSize({ kind: 'bytes', bytes: input }, input.subarray(0, LANE_HEAD_BYTES));
      assert.deepEqual(size, { width, height, format: 'webp', frames: pages ?? 1 });
    }
  });

  it('reads as much of a file as its header takes: a header past the first few KiB still chooses the lane the whole file does', async (t) => {
    const dir = tempDir(t);
    const small = await jpeg(500, 375);
    const segment = (marker: number, body: Buffer) => {
      const head = Buffer.alloc(4);
      head.writeUInt16BE(marker, 0);
      head.writeUInt16BE(body.length + 2, 2);
      return Buffer.concat([head, body]);
    };
    const coffee = readFileSync(photo('coffee.png'));
    const ihdrEnd = 8 + 12 + 13;
    const pngChunk = (type: string, body: Buffer) => {
      const chunk = Buffer.alloc(12 + body.length);
      chunk.writeUInt32BE(body.length, 0);
      chunk.write(type, 4, 'latin1');
      body.copy(chunk, 8);
      chunk.writeUInt32BE(zlib.crc32(chunk.subarray(4, 8 + body.length)), 8 + body.length);
      return chunk;
    };
    const files: Array<[string, Buffer]> = [
      ['plain.jpg', small],
      // 6 and 30 KB of comments before the frame header, and a grey JPEG's.
      ['comment-6k.jpg', Buffer.concat([small.subarray(0, 2), segment(0xfffe, Buffer.alloc(6000, 0x20)), small.subarray(2)])],
      ['comment-30k.jpg', Buffer.concat([small.subarray(0, 2), segment(0xfffe, Buffer.alloc(30_000, 0x20)), small.subarray(2)])],
      ['grey.jpg', await sharp(small).grayscale().jpeg().toBuffer()],
      // A PNG with 10 KB of text before its image data.
      ['text.png', Buffer.concat([coffee.subarray(0, ihdrEnd), pngChunk('tEXt', Buffer.from(`Comment\0${'x'.repeat(10_000)}`, 'latin1')), coffee.subarray(ihdrEnd)])],
      ['coffee.png', coffee],
    ];
    const p = pipeline('resize:200:200:fit=cover,output:jpeg');
    for (const [name, bytes] of files) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      const expected = name.endsWith('.png') ? 'png-zlib' : 'jpeg-turbo';
      assert.equal((await processImage(bytes, p)).stats.path, expected, `${name}, from its bytes`);
      assert.equal((await processImage(path, p)).stats.path, expected, `${name}, from its file`);
      assert.equal(laneFor(readHead(path), p), expected, `${name}, from its head`);
    }
  });

  describe('on large JPEGs, decoded small in libuv\'s pool as libvips shrinks them on load', () => {
    const volna = () => readFile(join(CORPUS, 'large', 'volna-5120x2880.jpg'));
    // Sides that are not multiples of 8: libjpeg decodes a partial last column and row, which libvips leaves out.
    const odd = async () => sharp(await volna()).resize(4003, 3005, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
    const grey = async () => sharp(await volna()).resize(3001, 2003, { fit: 'fill' }).grayscale().jpeg({ quality: 90 }).toBuffer();
    const cases: Array<[string, () => Promise<Buffer>, string, ResizeOptions]> = [
      ['5120×2880', volna, 'resize:300:300:fit=cover', { width: 300, height: 300, fit: 'cover' }],
      ['5120×2880', volna, 'resize:512:512', { width: 512, height: 512, fit: 'inside' }],
      ['5120×2880', volna, 'resize:400:400:fit=contain:background=ff0000', { width: 400, height: 400, fit: 'contain', background: '#ff0000' }],
      ['5120×2880', volna, 'resize:1000:300:fit=fill:kernel=cubic', { width: 1000, height: 300, fit: 'fill', kernel: 'cubic' }],
      ['4003×3005', odd, 'resize:300:300:fit=cover', { width: 300, height: 300, fit: 'cover' }],
      ['4003×3005', odd, 'resize:width=700:fit=outside', { width: 700, fit: 'outside' }],
      ['3001×2003 grey', grey, 'resize:256:256', { width: 256, height: 256, fit: 'inside' }],
    ];
    for (const [name, input, text, options] of cases) {
      it(`${text} on ${name}: sharp's size and pixels`, async () => {
        const bytes = await input();
        const result = await processImage(bytes, pipeline(`${text},output:png`));
        assert.equal(result.stats.path, 'jpeg-turbo');
        const got = await decode((result as { data: Buffer }).data);
        const libvips = await bySharp(bytes, options);
        assert.deepEqual([got.width, got.height, got.channels], [libvips.width, libvips.height, libvips.channels], 'sharp\'s size');
        // Both decode the same DCT-scaled pixels and differ by their resamplers only; rows taken
        // at the wrong stride, or a cover cut a pixel off, fall far below this.
        assert.ok(psnr(got, libvips) > 38, `PSNR ${psnr(got, libvips).toFixed(1)} dB against sharp`);
        if (options.fit === 'contain') assert.deepEqual([...got.data.subarray(0, 3)], [255, 0, 0], 'padding is the background colour');
      });
    }

    it('without the binding (IMGFLEET_JPEG_TURBO=off), libvips shrinks it on load to the same size and pixels', async (t) => {
      const dir = tempDir(t);
      const input = join(dir, 'large.jpg');
      writeFileSync(input, await odd());
      const outputs = await outputsByLane(input, 'resize:300:300:fit=cover,output:png', [[{}, 'jpeg-turbo'], [{ IMGFLEET_JPEG_TURBO: 'off' }, 'libvips']]);
      assert.deepEqual([outputs[0].width, outputs[0].height], [outputs[1].width, outputs[1].height]);
      assert.ok(psnr(outputs[0], outputs[1]) > 38, `PSNR ${psnr(outputs[0], outputs[1]).toFixed(1)} dB between the lanes`);
    });

    it('a large JPEG cut short falls back to libvips, which explains it', async () => {
      const cut = (await volna()).subarray(0, 200_000);
      await assert.rejects(processImage(cut, pipeline('resize:300:300:fit=cover')), { code: 'CORRUPT_IMAGE', message: /VipsJpeg/ });
    });

    it('runs many at once, each decode with a handle and memory of its own, to the same pixels as one at a time', async () => {
      // Different images, sizes and layouts in turn: the memory of one image's decode is reused for the next.
      const inputs = await Promise.all([odd(), volna(), grey()]);
      const p = pipeline('resize:256:256,output:png');
      const alone = [];
      for (const bytes of inputs) alone.push(await decode((await processImage(bytes, p) as { data: Buffer }).data));
      const order = Array.from({ length: 9 }, (_, i) => i % inputs.length);
      const together = await Promise.all(order.map((i) => processImage(inputs[i], p)));
      for (const [n, result] of together.entries()) assert.deepEqual(await decode((result as { data: Buffer }).data), alone[order[n]], `image ${n}`);
    });
  });

  it('reports a failure inside the lane instead of trying libvips after it', async () => {
    const logo = join(CORPUS, 'odd', 'logo.png');
    let calls = 0;
    const loadAsset = async () => {
      calls++;
      if (calls === 1) throw new Error('the logo store failed');
      return readFileSync(logo);
    };
    const p = validatePipeline({ steps: [{ op: 'watermark', image: logo }], output: { format: 'jpeg' } });
    await assert.rejects(processImage(await jpeg(500, 375), p, { loadAsset }), /the logo store failed/);
    assert.equal(calls, 1);
  });

  it('falls back to libvips when libjpeg-turbo refuses the file, which then explains it', async () => {
    const cut = (await jpeg(500, 375)).subarray(0, 9000);
    await assert.rejects(processImage(cut, pipeline('resize:400:400:fit=cover')), { code: 'CORRUPT_IMAGE', message: /VipsJpeg/ });
  });

  it('without the binding (IMGFLEET_JPEG_TURBO=off), libvips gives the same sizes, crop and padding', async (t) => {
    const dir = tempDir(t);
    const input = join(dir, 'in.jpg');
    writeFileSync(input, await jpeg(500, 375));
    for (const text of ['resize:300:200:fit=cover,output:png', 'resize:300:300:fit=contain:background=ff0000,output:png', 'resize:256,grayscale,output:png']) {
      const outputs = await outputsByLane(input, text, [[{}, 'jpeg-turbo'], [{ IMGFLEET_JPEG_TURBO: 'off' }, 'libvips']] as const);
      // The same part of the image at the same size; libvips cuts a cover in whole pixels of its
      // scaled image, up to two thirds of a pixel from the centre the pixel lanes cut at.
      const least = text.includes('cover') ? 26 : 32;
      assert.deepEqual([outputs[0].width, outputs[0].height], [outputs[1].width, outputs[1].height], `${text}: sizes`);
      assert.ok(psnr(outputs[0], outputs[1]) > least, `${text}: PSNR ${psnr(outputs[0], outputs[1]).toFixed(1)} dB between the lanes`);
    }
  });
});
