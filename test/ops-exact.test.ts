import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RawImage } from '../src/image/frame.js';
import { decode, photo, runPipeline, runToPixels, synthetic, toPng } from './helpers.js';

const at = (img: RawImage, x: number, y: number, c: number) => img.data[(y * img.width + x) * img.channels + c];

/** Asserts out(x, y) = src(map(x, y)) for every pixel and channel. */
function assertMapped(out: RawImage, src: RawImage, map: (x: number, y: number) => [number, number]) {
  let wrong = 0;
  for (let y = 0; y < out.height; y++) for (let x = 0; x < out.width; x++) {
    const [sx, sy] = map(x, y);
    for (let c = 0; c < out.channels; c++) if (at(out, x, y, c) !== at(src, sx, sy, c)) wrong++;
  }
  assert.equal(wrong, 0, `${wrong} samples differ`);
}

describe('geometry and per-pixel operations are exact', () => {
  it('negate gives 255 − value for every sample of a colour photo', async () => {
    const src = await decode(photo('coffee.png'));
    const out = await runToPixels('negate,output:png', photo('coffee.png'));
    assert.equal(out.data.length, src.data.length);
    for (let i = 0; i < src.data.length; i++) if (out.data[i] !== 255 - src.data[i]) assert.fail(`sample ${i}`);
  });

  it('negate leaves alpha untouched', async () => {
    const src = synthetic(3, 2, 4, (x, y, c) => (c === 3 ? 40 * x + 100 * y : 10 + c * 50 + x));
    const out = await runToPixels('negate,output:png', await toPng(src));
    assertMapped({ ...out, channels: 4 }, { ...src, data: Buffer.from(src.data.map((v, i) => (i % 4 === 3 ? v : 255 - v))) }, (x, y) => [x, y]);
  });

  it('flip horizontal mirrors left and right', async () => {
    const src = await decode(photo('chelsea.png'));
    assertMapped(await runToPixels('flip,output:png', photo('chelsea.png')), src, (x, y) => [src.width - 1 - x, y]);
  });

  it('flip vertical and both', async () => {
    const src = await decode(photo('chelsea.png'));
    assertMapped(await runToPixels('flip:vertical,output:png', photo('chelsea.png')), src, (x, y) => [x, src.height - 1 - y]);
    assertMapped(await runToPixels('flip:both,output:png', photo('chelsea.png')), src,
      (x, y) => [src.width - 1 - x, src.height - 1 - y]);
  });

  it('rotate 90 turns clockwise without loss', async () => {
    const src = await decode(photo('chelsea.png'));
    const out = await runToPixels('rotate:90,output:png', photo('chelsea.png'));
    assert.deepEqual([out.width, out.height], [src.height, src.width]);
    // Clockwise: the output's top row is the source's left column read bottom to top.
    assertMapped(out, src, (x, y) => [y, src.height - 1 - x]);
  });

  it('crop cuts exactly the region', async () => {
    const src = await decode(photo('coffee.png'));
    const out = await runToPixels('crop:100:50:200:120,output:png', photo('coffee.png'));
    assert.deepEqual([out.width, out.height], [200, 120]);
    assertMapped(out, src, (x, y) => [x + 100, y + 50]);
  });

  it('crop outside the image is a clear error', async () => {
    await assert.rejects(runPipeline('crop:500:300:200:200', photo('coffee.png')),
      { code: 'BAD_REGION', message: /reaches outside the 600×400 image/ });
  });

  it('steps run in the order written (crop then flip ≠ flip then crop)', async () => {
    const src = await decode(photo('coffee.png'));
    assertMapped(await runToPixels('crop:0:0:100:100,flip,output:png', photo('coffee.png')), src, (x, y) => [99 - x, y]);
    assertMapped(await runToPixels('flip,crop:0:0:100:100,output:png', photo('coffee.png')), src, (x, y) => [src.width - 1 - x, y]);
  });

  it('sepia follows the standard matrix, clipped, within ±1', async () => {
    const src = await decode(photo('coffee.png'));
    const out = await runToPixels('sepia,output:png', photo('coffee.png'));
    const m = [[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]];
    let worst = 0;
    for (let i = 0; i < src.data.length; i += 3) {
      for (let c = 0; c < 3; c++) {
        const expected = Math.min(255, m[c][0] * src.data[i] + m[c][1] * src.data[i + 1] + m[c][2] * src.data[i + 2]);
        worst = Math.max(worst, Math.abs(out.data[i + c] - expected));
      }
    }
    assert.ok(worst <= 1, `worst difference ${worst}`);
  });

  it('grayscale amount 0.5 is halfway between the photo and its luma', async () => {
    const src = await decode(photo('coffee.png'));
    const out = await runToPixels('grayscale:0.5,output:png', photo('coffee.png'));
    assert.equal(out.channels, 3);
    for (let i = 0; i < src.data.length; i += 3) {
      const luma = 0.299 * src.data[i] + 0.587 * src.data[i + 1] + 0.114 * src.data[i + 2];
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(out.data[i + c] - (src.data[i + c] + luma) / 2) <= 1);
    }
  });
});
