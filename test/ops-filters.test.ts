import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { RawImage } from '../src/image/frame.js';
import sharp from 'sharp';
import { CORPUS, decode, maxDifference, photo, runToPixels, synthetic, toPng } from './helpers.js';

const at = (img: RawImage, x: number, y: number, c = 0) => img.data[(y * img.width + x) * img.channels + c];

function stddev(img: RawImage): number {
  let sum = 0;
  let sq = 0;
  for (const v of img.data) { sum += v; sq += v * v; }
  const mean = sum / img.data.length;
  return Math.sqrt(sq / img.data.length - mean * mean);
}

/** A grey image, dark (20) left of column 32 and light (20 + step) from it. */
const stepEdge = (step: number) => toPng(synthetic(64, 16, 1, (x) => (x < 32 ? 20 : 20 + step)));

describe('neighbourhood filters', () => {
  it('sobel gives √(gx²+gy²) along a step edge and 0 elsewhere', async () => {
    // Across a step of 50 the horizontal kernel sums (1+2+1)·50 = 200 on both sides of the edge.
    const out = await runToPixels('edges,output:png', await stepEdge(50));
    assert.equal(out.channels, 1);
    for (let y = 0; y < out.height; y++) {
      for (let x = 0; x < out.width; x++) {
        assert.equal(at(out, x, y), x === 31 || x === 32 ? 200 : 0, `at (${x}, ${y})`);
      }
    }
  });

  it('canny marks one thin line on a step edge, with hysteresis thresholds', async () => {
    const out = await runToPixels('edges:canny:low=100:high=150,output:png', await stepEdge(50));
    for (let y = 0; y < out.height; y++) {
      const edgeColumns = [...Array(out.width).keys()].filter((x) => at(out, x, y) === 255);
      assert.equal(edgeColumns.length, 1, `row ${y}: ${edgeColumns}`);
      assert.ok(edgeColumns[0] === 31 || edgeColumns[0] === 32);
    }
    const none = await runToPixels('edges:canny:low=250:high=300,output:png', await stepEdge(50));
    assert.ok(none.data.every((v) => v === 0), 'a 200 gradient is below a 300 threshold');
  });

  it('edges overlay draws the edge colour over the half-bright original', async () => {
    const out = await runToPixels('edges:canny:low=100:high=150:overlay=ff0000,output:png', await stepEdge(50));
    assert.equal(out.channels, 3);
    const edgeX = at(out, 31, 5, 0) === 255 ? 31 : 32;
    assert.deepEqual([at(out, edgeX, 5, 0), at(out, edgeX, 5, 1), at(out, edgeX, 5, 2)], [255, 0, 0]);
    assert.deepEqual([at(out, 5, 5, 0), at(out, 5, 5, 1)], [10, 10], 'dark side halved: 20 → 10');
    assert.deepEqual([at(out, 60, 5, 0), at(out, 60, 5, 1)], [35, 35], 'light side halved: 70 → 35');
  });

  it('blur spreads a step edge symmetrically and keeps flat areas', async () => {
    const out = await runToPixels('blur:2,output:png', await stepEdge(200));
    assert.equal(at(out, 2, 8), 20);
    assert.equal(at(out, 61, 8), 220);
    // Gaussian CDF: the two pixels either side of the edge sit near 20 + 200·Φ(∓0.25).
    assert.ok(Math.abs(at(out, 31, 8) - (20 + 200 * 0.401)) <= 3, `left of edge ${at(out, 31, 8)}`);
    assert.ok(Math.abs(at(out, 32, 8) - (20 + 200 * 0.599)) <= 3, `right of edge ${at(out, 32, 8)}`);
    assert.equal(at(out, 31, 8) + at(out, 32, 8), 240, 'symmetric about the edge');
  });

  it('sharpen raises contrast at an edge and leaves flat areas', async () => {
    const out = await runToPixels('sharpen:sigma=1:amount=2,output:png', await stepEdge(100));
    assert.equal(at(out, 2, 8), 20);
    assert.ok(at(out, 31, 8) < 20, `undershoot on the dark side: ${at(out, 31, 8)}`);
    assert.ok(at(out, 32, 8) > 120, `overshoot on the light side: ${at(out, 32, 8)}`);
  });

  it('sharpen gives libvips’ unsharp mask on lightness, to within one level, on colour, grey and alpha photos, and exactly from 2 MP', async () => {
    const cases: [string, string, { sigma: number; m1: number; m2: number }][] = [
      ['Garden.jpg', 'sharpen', { sigma: 1, m1: 1, m2: 2 }],
      ['Dune.jpg', 'sharpen:2.5:3', { sigma: 2.5, m1: 3, m2: 6 }],
      ['camera.png', 'sharpen:0.5:0.5', { sigma: 0.5, m1: 0.5, m2: 1 }],
      ['moon.png', 'sharpen', { sigma: 1, m1: 1, m2: 2 }],
      ['coffee.png', 'sharpen:1.5:2', { sigma: 1.5, m1: 2, m2: 4 }],
    ];
    const inputs = [...cases.map(([name, text, settings]) => [photo(name), text, settings] as const),
      [join(CORPUS, 'odd', 'logo.png'), 'sharpen', { sigma: 1, m1: 1, m2: 2 }] as const];
    for (const [file, text, settings] of inputs) {
      const source = await decode(file);
      const { width, height, channels } = source;
      let reference = sharp(source.data, { raw: { width, height, channels } });
      if (channels <= 2) reference = reference.toColourspace('b-w');
      // Grey + alpha comes out of sharp as RGBA; the pixels compared are RGBA then.
      const expected = await decode(await reference.sharpen(settings).png().toBuffer());
      const out = await runToPixels(`${text},output:png`, await toPng(source));
      assert.deepEqual([out.width, out.height, out.channels], [width, height, expected.channels], file);
      let differing = 0;
      for (let i = 0; i < out.data.length; i++) if (out.data[i] !== expected.data[i]) differing++;
      assert.ok(maxDifference(out, expected) <= 1, `${text} on ${file}: off by up to ${maxDifference(out, expected)}`);
      assert.ok(differing / out.data.length < 0.001, `${text} on ${file}: ${differing} of ${out.data.length} samples differ`);
      assert.ok(maxDifference(out, source) > 20, `${text} on ${file} changed the image`);
      // From 2 MP (Garden.jpg, 2560×1600) libvips sharpens the image itself.
      if (width * height >= 2_000_000) assert.equal(maxDifference(out, expected), 0, `${text} on ${file}`);
    }
  });

  it('sharpen agrees with libvips to within one level on sizes whose pixels do not come in fours', async () => {
    // The WebAssembly sharpen works on four pixels at a time; these sizes leave one, two or three over in a strip.
    const settings = { sigma: 1, m1: 1, m2: 2 };
    for (const [width, height, channels] of [[301, 199, 3], [97, 33, 3], [255, 3, 1], [7, 5, 3]] as const) {
      const source = await decode(await sharp(photo('coffee.png')).resize(width, height, { fit: 'fill' })
        .toColourspace(channels === 1 ? 'b-w' : 'srgb').png().toBuffer());
      assert.equal(source.channels, channels);
      let reference = sharp(source.data, { raw: { width, height, channels } });
      if (channels === 1) reference = reference.toColourspace('b-w');
      const expected = await decode(await reference.sharpen(settings).png().toBuffer());
      const out = await runToPixels('sharpen,output:png', await toPng(source));
      assert.deepEqual([out.width, out.height, out.channels], [width, height, channels]);
      assert.ok(maxDifference(out, expected) <= 1, `${width}×${height}: off by up to ${maxDifference(out, expected)}`);
      assert.ok(maxDifference(out, source) > 10, `${width}×${height} changed`);
    }
  });

  it('clahe raises local contrast of a dull photo', async () => {
    const src = await decode(photo('moon.png'));
    const out = await runToPixels('clahe,output:png', photo('moon.png'));
    assert.deepEqual([out.width, out.height], [src.width, src.height]);
    assert.ok(stddev(out) > stddev(src) * 1.2, `${stddev(out)} vs ${stddev(src)}`);
  });
});

describe('resize', () => {
  it('fill gives exactly width×height', async () => {
    const out = await runToPixels('resize:512:512:fit=fill,output:png', photo('rocket.jpg'));
    assert.deepEqual([out.width, out.height], [512, 512]);
  });

  it('inside keeps the aspect ratio; one side alone scales the other', async () => {
    const inside = await runToPixels('resize:320:320,output:png', photo('rocket.jpg'));
    assert.deepEqual([inside.width, inside.height], [320, 214]);
    const byHeight = await runToPixels('resize:height=100,output:png', photo('coffee.png'));
    assert.deepEqual([byHeight.width, byHeight.height], [150, 100]);
  });

  it('enlarge=false never makes the image bigger', async () => {
    const out = await runToPixels('resize:2000:enlarge=false,output:png', photo('coffee.png'));
    assert.deepEqual([out.width, out.height], [600, 400]);
  });

  it('contain pads with the background colour', async () => {
    const out = await runToPixels('resize:200:200:fit=contain:background=00ff00,output:png', photo('coffee.png'));
    assert.deepEqual([out.width, out.height], [200, 200]);
    assert.deepEqual([at(out, 0, 0, 0), at(out, 0, 0, 1), at(out, 0, 0, 2)], [0, 255, 0]);
  });

  it('nearest doubles a checkerboard into exact 2×2 blocks', async () => {
    const src = synthetic(4, 4, 1, (x, y) => ((x + y) % 2 ? 255 : 0));
    const out = await runToPixels('resize:8:8:kernel=nearest,output:png', await toPng(src));
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) assert.equal(at(out, x, y), at(src, x >> 1, y >> 1));
  });
});

describe('watermark', () => {
  it('draws text in the bottom-right corner and leaves the rest untouched', async () => {
    const src = await decode(photo('coffee.png'));
    const out = await runToPixels('watermark:imgfleet:opacity=1:size=40,output:png', photo('coffee.png'));
    let changedInCorner = 0;
    let changedElsewhere = 0;
    for (let y = 0; y < src.height; y++) for (let x = 0; x < src.width; x++) {
      const changed = at(out, x, y, 0) !== at(src, x, y, 0) || at(out, x, y, 1) !== at(src, x, y, 1);
      if (x >= src.width / 2 && y >= src.height - 60) changedInCorner += changed ? 1 : 0;
      else changedElsewhere += changed ? 1 : 0;
    }
    assert.ok(changedInCorner > 500, `text pixels: ${changedInCorner}`);
    assert.equal(changedElsewhere, 0);
  });

  it('opacity 0.5 blends white text half-way', async () => {
    const black = await toPng(synthetic(300, 100, 3, () => 0));
    const out = await runToPixels('watermark:text=MMMM:opacity=0.5:size=60:position=center,output:png', black);
    assert.equal(Math.max(...out.data), 128, 'fully covered pixels reach 255·0.5');
  });

  it('composites a logo with its alpha', async () => {
    const logo = join(CORPUS, 'odd', 'logo.png');
    const black = await toPng(synthetic(400, 400, 3, () => 0));
    const out = await runToPixels({ steps: [{ op: 'watermark', image: logo, opacity: 1, size: 200, position: 'top-left', margin: 0 }], output: { format: 'png' } }, black);
    const logoPixels = await decode(await (await import('sharp')).default(await readFile(logo)).resize({ width: 200 }).png().toBuffer());
    let lit = 0;
    for (let y = 0; y < 200; y++) for (let x = 0; x < 200; x++) if (at(out, x, y, 0) + at(out, x, y, 1) + at(out, x, y, 2) > 0) lit++;
    let opaque = 0;
    for (let i = 3; i < logoPixels.data.length; i += 4) if (logoPixels.data[i] > 0) opaque++;
    assert.ok(lit > 0 && Math.abs(lit - opaque) / opaque < 0.05, `lit ${lit}, logo opaque ${opaque}`);
    assert.equal(at(out, 399, 399, 0), 0, 'outside the logo stays black');
  });
});

describe('more geometry and colour', () => {
  it('rotate by 45° grows the canvas and fills the corners with the background', async () => {
    const out = await runToPixels('rotate:45:background=ff0000,output:png', await toPng(synthetic(100, 100, 3, () => 40)));
    // A 100×100 square turned 45° needs 100·√2 ≈ 141.4 pixels a side.
    assert.ok(Math.abs(out.width - 141.4) <= 2 && Math.abs(out.height - 141.4) <= 2, `${out.width}×${out.height}`);
    assert.deepEqual([at(out, 0, 0, 0), at(out, 0, 0, 1)], [255, 0], 'corner is background');
    const c = Math.floor(out.width / 2);
    assert.deepEqual([at(out, c, c, 0), at(out, c, c, 1)], [40, 40], 'centre is the image');
  });

  it('pad adds exact borders of the colour', async () => {
    const src = await decode(photo('coins.png'));
    const out = await runToPixels('pad:1:2:3:4:background=ffffff,output:png', photo('coins.png'));
    assert.deepEqual([out.width, out.height], [src.width + 6, src.height + 4]);
    assert.equal(at(out, 0, 0), 255);
    assert.equal(at(out, 4, 1), at(src, 0, 0), 'the image starts after the left and top borders');
    assert.equal(at(out, out.width - 1, out.height - 1), 255);
  });

  it('saturate 0 removes colour and 1 changes nothing', async () => {
    const grey = await runToPixels('saturate:0,output:png', photo('coffee.png'));
    let spread = 0;
    for (let i = 0; i < grey.data.length; i += 3) spread = Math.max(spread, Math.max(grey.data[i], grey.data[i + 1], grey.data[i + 2]) - Math.min(grey.data[i], grey.data[i + 1], grey.data[i + 2]));
    assert.ok(spread <= 3, `channels differ by up to ${spread}`);
    const same = await runToPixels('saturate:1,output:png', photo('coffee.png'));
    assert.ok(same.data.equals((await decode(photo('coffee.png'))).data));
  });
});
