import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { RawImage } from '../src/image/frame.js';
import { decode, photo, runPipeline } from './helpers.js';

/**
 * A flat grey canvas with one detailed patch of a real photo (gravel) at one end: cover has to
 * cut the canvas along its long side, and the busy, eye-catching part is the patch.
 */
async function canvasWithPatch(width: number, height: number, patch: { left: number; top: number }): Promise<Buffer> {
  const detail = await sharp(photo('gravel.png')).resize(200, 200, { fit: 'cover' }).removeAlpha().toBuffer();
  return sharp({ create: { width, height, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .composite([{ input: detail, ...patch }]).png().toBuffer();
}

/** The expected crop, made independently: scale with sharp to `scaled`, cut `region` out of it. */
async function expected(input: Buffer, scaled: { width: number; height: number }, region: { left: number; top: number }): Promise<RawImage> {
  return decode(await sharp(input).resize(scaled.width, scaled.height, { fit: 'fill' })
    .extract({ ...region, width: 100, height: 100 }).png().toBuffer());
}

function meanDifference(a: RawImage, b: RawImage): number {
  assert.deepEqual([a.width, a.height, a.channels], [b.width, b.height, b.channels]);
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i] - b.data[i]);
  return sum / a.data.length;
}

/** Columns (or rows) with any pixel away from the canvas' grey: the ones that show the patch. */
function detailedLines(image: RawImage, along: 'columns' | 'rows'): number {
  const { width, height, channels, data } = image;
  const lines = along === 'columns' ? width : height;
  let detailed = 0;
  for (let line = 0; line < lines; line++) {
    const length = along === 'columns' ? height : width;
    let busy = false;
    for (let i = 0; i < length && !busy; i++) {
      const [x, y] = along === 'columns' ? [line, i] : [i, line];
      for (let c = 0; c < Math.min(3, channels); c++) if (Math.abs(data[(y * width + x) * channels + c] - 128) > 3) busy = true;
    }
    if (busy) detailed += 1;
  }
  return detailed;
}

async function crop(pipeline: string, input: Buffer): Promise<RawImage> {
  const result = await runPipeline(`${pipeline},output:png`, input);
  assert.ok(result.kind === 'image');
  return decode(result.data);
}

describe('resize fit=cover position (smart crop)', () => {
  let wide: Buffer;
  let tall: Buffer;
  before(async () => {
    // 600×200 with the patch at the east end; 200×600 with it at the south end. Both scale to
    // 300×100 (100×300), of which cover keeps 100×100.
    wide = await canvasWithPatch(600, 200, { left: 400, top: 0 });
    tall = await canvasWithPatch(200, 600, { left: 0, top: 400 });
  });

  // Attention centres its window on the point that draws the eye, so it may keep a sliver of the grey beside the patch.
  for (const position of ['attention', 'entropy']) {
    it(`${position} keeps the detailed patch, wherever it lies, where center keeps flat grey`, async () => {
      const got = await crop(`resize:100:100:fit=cover:position=${position}`, wide);
      assert.ok(detailedLines(got, 'columns') >= 90, `${detailedLines(got, 'columns')} of 100 columns show the patch`);
      const center = await crop('resize:100:100:fit=cover', wide);
      // The resampling filter reaches a pixel or two past the patch's edge.
      assert.ok(detailedLines(center, 'columns') <= 3);
      const gotTall = await crop(`resize:100:100:fit=cover:position=${position}`, tall);
      assert.ok(detailedLines(gotTall, 'rows') >= 90, `${detailedLines(gotTall, 'rows')} of 100 rows show the patch`);
      assert.ok(detailedLines(await crop('resize:100:100:fit=cover', tall), 'rows') <= 3);
    });
  }

  it('sides and corners keep that side: east and southeast the east end, west and northwest the west end', async () => {
    const east = await expected(wide, { width: 300, height: 100 }, { left: 200, top: 0 });
    const west = await expected(wide, { width: 300, height: 100 }, { left: 0, top: 0 });
    for (const position of ['east', 'southeast', 'northeast']) assert.ok(meanDifference(await crop(`resize:100:100:fit=cover:position=${position}`, wide), east) < 2, position);
    for (const position of ['west', 'northwest', 'southwest']) assert.ok(meanDifference(await crop(`resize:100:100:fit=cover:position=${position}`, wide), west) < 2, position);
    const north = await expected(tall, { width: 100, height: 300 }, { left: 0, top: 0 });
    const south = await expected(tall, { width: 100, height: 300 }, { left: 0, top: 200 });
    assert.ok(meanDifference(await crop('resize:100:100:fit=cover:position=north', tall), north) < 2);
    assert.ok(meanDifference(await crop('resize:100:100:fit=cover:position=south', tall), south) < 2);
  });

  it('an enlargement keeps the position too (the resampler cuts the middle only, so it steps aside)', async () => {
    const small = await sharp(wide).resize(60, 20).png().toBuffer();
    const got = await crop('resize:300:300:fit=cover:position=east', small);
    const east = decode(await sharp(small).resize(900, 300, { fit: 'fill' }).extract({ left: 600, top: 0, width: 300, height: 300 }).png().toBuffer());
    const middle = decode(await sharp(small).resize(900, 300, { fit: 'fill' }).extract({ left: 300, top: 0, width: 300, height: 300 }).png().toBuffer());
    assert.ok(meanDifference(got, await east) < meanDifference(got, await middle));
  });

  it('the libjpeg-turbo lane takes cover at the center only; other positions run in libvips and keep their meaning', async () => {
    const jpeg = await sharp(wide).jpeg({ quality: 95 }).toBuffer();
    const center = await runPipeline('resize:100:100:fit=cover', jpeg);
    assert.equal(center.stats.path, 'jpeg-turbo');
    const smart = await runPipeline('resize:100:100:fit=cover:position=entropy,output:png', jpeg);
    assert.equal(smart.stats.path, 'libvips');
    assert.ok(smart.kind === 'image');
    const east = await expected(jpeg, { width: 300, height: 100 }, { left: 200, top: 0 });
    assert.ok(meanDifference(await decode(smart.data), east) < 2);
  });

  it('a position without fit=cover is refused, naming the field', async () => {
    await assert.rejects(runPipeline('resize:100:100:position=north', wide), /steps\[0\]\.position: only fit=cover crops/);
    await assert.rejects(runPipeline('resize:100:100:fit=cover:position=middle', wide), /steps\[0\]\.position: expected one of center, north/);
  });
});
