import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { LocalEngine } from '../src/engine/local/local-engine.js';
import { open, probe } from '../src/image/decode.js';
import type { RawImage } from '../src/image/frame.js';
import { resolveLimits } from '../src/limits.js';
import { parsePipelineText } from '../src/pipeline/load.js';
import { readAssetFile } from '../src/pipeline/process.js';
import type { ValidPipeline } from '../src/pipeline/spec.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { checkTileable, tileSizeFor } from '../src/tiling/choose.js';
import { tileGrid } from '../src/tiling/grid.js';
import { planTiling } from '../src/tiling/plan.js';
import { processTiledToPixels, type TileEvent } from '../src/tiling/run-tiled.js';
import { cli, CORPUS, decode, maxDifference, tempDir } from './helpers.js';

const LARGE = join(CORPUS, 'large', 'volna-5120x2880.jpg');
const BIG_LIMITS = { maxInputPixels: 200_000_000, maxOutputPixels: 200_000_000 };

const pipeline = (text: string) => validatePipeline(parsePipelineText(text));

/** The same pipeline run whole, through the same operations, to its pixels. */
async function untiled(input: Buffer, p: ValidPipeline): Promise<RawImage> {
  const limits = resolveLimits(BIG_LIMITS);
  let frame = open(input, await probe(input, limits), limits);
  for (const step of p.steps) {
    if (step.op.kind !== 'image') throw new Error('image steps only');
    frame = await step.op.apply(frame, step.params, { loadAsset: readAssetFile });
  }
  return frame.raw();
}

/** Neighbourhood filters may differ by one level; everything else must be equal. */
const CASES: Array<[name: string, pipeline: string, tolerance: number]> = [
  ['blur σ=10', 'blur:10', 1],
  ['sharpen', 'sharpen:2:1.5', 1],
  ['Sobel edges', 'edges', 1],
  ['a per-pixel chain', 'grayscale:0.5,sepia:0.8,brightness:1.3,negate,threshold:100', 0],
  ['a chain with resize', 'blur:3,sharpen,resize:1200', 1],
];

describe('tiling: plan', () => {
  it('sums the halos of the tiled steps and places geometry before and after', () => {
    const result = planTiling(pipeline('crop:10:10:4000:2000,blur:10,edges,sharpen:1,resize:800,watermark:hi'));
    assert.ok(result.ok);
    assert.deepEqual(result.plan.before.map((s) => s.op.name), ['crop']);
    assert.deepEqual(result.plan.tiled.map((s) => s.op.name), ['blur', 'edges', 'sharpen']);
    assert.deepEqual(result.plan.after.map((s) => s.op.name), ['resize', 'watermark']);
    assert.equal(result.plan.halo, 31 + 1 + 4);
  });

  it('refuses what needs the whole image, saying why', () => {
    const reasons = ['edges:canny', 'blur,histogram', 'blur,resize:100,blur', 'blur,contrast:1.5', 'watermark:hi,blur', 'resize:100']
      .map((text) => planTiling(pipeline(text)));
    for (const r of reasons) assert.equal(r.ok, false);
    const text = reasons.map((r) => (r.ok ? '' : r.reason));
    assert.match(text[0], /steps\[0\] \(edges\).*hysteresis/);
    assert.match(text[1], /histogram/);
    assert.match(text[2], /steps\[1\] \(resize\).*geometry between tiled steps/);
    assert.match(text[3], /steps\[1\] \(contrast\).*mean grey/);
    assert.match(text[4], /watermark/);
    assert.match(text[5], /no step works on tiles/);
  });

  it('tiles above the threshold, or always with a tile size', () => {
    const plan = (text: string) => {
      const planned = planTiling(pipeline(text));
      assert.ok(planned.ok);
      return planned.plan;
    };
    assert.equal(tileSizeFor({ width: 5120, height: 2880 }, plan('blur:2'), {}), undefined);
    assert.equal(tileSizeFor({ width: 5120, height: 4000 }, plan('blur:2'), {}), 2048);
    assert.equal(tileSizeFor({ width: 5120, height: 4000 }, plan('resize:1000,blur:2'), {}), undefined);
    assert.equal(tileSizeFor({ width: 100, height: 100 }, plan('blur:2'), { tileSize: 64 }), 64);
    assert.equal(planTiling(pipeline('edges:canny')).ok, false);
    assert.throws(() => checkTileable(pipeline('edges:canny'), { tileSize: 64 }), /NOT_TILEABLE|cannot run on tiles/);
    assert.doesNotThrow(() => checkTileable(pipeline('edges:canny'), {}));
  });

  it('covers the image exactly, with halos clipped at the true border', () => {
    const tiles = tileGrid(1000, 700, 300, 7);
    assert.equal(tiles.length, 4 * 3);
    const covered = new Uint8Array(1000 * 700);
    for (const { keep, read } of tiles) {
      for (let y = keep.top; y < keep.top + keep.height; y++) for (let x = keep.left; x < keep.left + keep.width; x++) covered[y * 1000 + x]++;
      assert.equal(read.left, Math.max(0, keep.left - 7));
      assert.equal(read.left + read.width, Math.min(1000, keep.left + keep.width + 7));
    }
    assert.ok(covered.every((n) => n === 1));
  });
});

describe('tiling: tiled equals untiled on the 14.7 MP photo', () => {
  let input: Buffer;
  let pool: LocalEngine;
  before(async () => {
    input = await readFile(LARGE);
    pool = new LocalEngine({ threads: 2 });
  });
  after(() => pool.close());

  for (const [name, text, tolerance] of CASES) {
    it(`${name} (${text}), tiles of 1000 px that do not divide 5120×2880, on the pool`, async () => {
      const p = pipeline(text);
      const reference = await untiled(input, p);
      const { image, stats } = await processTiledToPixels(input, p, { engine: pool, tileSize: 1000 });
      assert.equal(stats.tiles?.count, 6 * 3);
      assert.ok(maxDifference(image, reference) <= tolerance, `max difference ${maxDifference(image, reference)}`);
    });
  }

  it('CLAHE, contrast (mean grey measured first), crop and resize before the filters are exact', async () => {
    for (const text of ['crop:1000:700:2100:1500,clahe:16:16', 'contrast:1.7,saturate:1.5', 'crop:333:77:4000:2500,blur:4,edges:overlay=#ff0000', 'resize:3000,blur:2']) {
      const p = pipeline(text);
      const { image } = await processTiledToPixels(input, p, { engine: pool, tileSize: 777 });
      assert.equal(maxDifference(image, await untiled(input, p)), 0, text);
    }
  });

  it('one tile, and tiles reported as they go', async () => {
    const p = pipeline('blur:10');
    const events: TileEvent[] = [];
    const { image, stats } = await processTiledToPixels(input, p, { engine: pool, tileSize: 6000, onTile: (e) => events.push(e) });
    assert.equal(stats.tiles?.count, 1);
    assert.deepEqual(events.map((e) => `${e.status} ${e.done}/${e.total}`), ['running 0/1', 'done 1/1']);
    assert.ok(maxDifference(image, await untiled(input, p)) <= 1);
  });
});

describe('tiling: the command line', () => {
  it('process --tile writes what the whole run writes, and names the tiles', async (t) => {
    const dir = tempDir(t);
    const tiled = await cli(['process', LARGE, '-p', 'blur:4,resize:800,output:png', '--tile', '1500', '-o', join(dir, 'tiled.png')]);
    assert.equal(tiled.status, 0, tiled.stderr);
    assert.match(tiled.stdout, /as 8 tiles of 1500 px \(halo 13 px\)/);
    const whole = await cli(['process', LARGE, '-p', 'blur:4,resize:800,output:png', '-o', join(dir, 'whole.png')]);
    assert.equal(whole.status, 0, whole.stderr);
    assert.equal(maxDifference(await decode(join(dir, 'tiled.png')), await decode(join(dir, 'whole.png'))), 0);
  });

  it('process --tile and run --tile keep the input\'s ICC profile, and its pixels as stored', async (t) => {
    const dir = tempDir(t);
    const p3 = await sharp(LARGE).resize(1603, 1201, { fit: 'fill' }).withIccProfile('p3').png().toBuffer();
    const { data, info } = await sharp(p3, { ignoreIcc: true }).raw().toBuffer({ resolveWithObject: true });
    writeFileSync(join(dir, 'p3.png'), p3);
    await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }).png().toFile(join(dir, 'plain.png'));
    const profile = (await sharp(p3).metadata()).icc!;
    const pixels = async (file: string) => (await sharp(file, { ignoreIcc: true }).raw().toBuffer()).toString('base64');
    for (const name of ['p3', 'plain']) {
      const one = await cli(['process', join(dir, `${name}.png`), '-p', 'blur:2,output:jpeg', '--tile', '512', '-o', join(dir, `${name}-process.jpg`)]);
      assert.equal(one.status, 0, one.stderr);
      const batch = await cli(['run', join(dir, `${name}.png`), '-p', 'blur:2,output:jpeg', '--tile', '512', '-o', join(dir, `${name}-run`)]);
      assert.equal(batch.status, 0, batch.stderr);
    }
    for (const made of ['process.jpg', 'run/p3.jpg']) {
      const file = join(dir, `p3-${made}`);
      assert.ok((await sharp(file).metadata()).icc?.equals(profile), `${made}: the input's profile`);
      assert.equal(await pixels(file), await pixels(join(dir, made === 'process.jpg' ? 'plain-process.jpg' : 'plain-run/plain.jpg')), `${made}: the pixels as without a profile`);
    }
  });

  it('run takes large images in turns beside the small ones, each tiled, none lost', async (t) => {
    const dir = tempDir(t);
    const input = join(dir, 'in');
    mkdirSync(input);
    for (const name of ['a.jpg', 'b.jpg', 'c.jpg']) symlinkSync(LARGE, join(input, name));
    for (const name of ['astronaut.png', 'coffee.png', 'rocket.jpg', 'chelsea.png']) symlinkSync(join(CORPUS, 'photos', name), join(input, name));
    const run = await cli(['run', input, '-o', join(dir, 'out'), '-p', 'sharpen,resize:600', '--tile-threshold', '1', '--json']);
    assert.equal(run.status, 0, run.stderr);
    const items = JSON.parse(run.stdout).items as Array<{ status: string; stats: { tiles?: { count: number } } }>;
    assert.deepEqual(items.map((i) => i.status), Array(7).fill('done'));
    assert.equal(items.filter((i) => i.stats.tiles?.count === 3 * 2).length, 3);
  });

  it('run --tile-threshold tiles the large image of a batch; --tile refuses Canny with the reason', async (t) => {
    const dir = tempDir(t);
    const run = await cli(['run', LARGE, '-o', join(dir, 'out'), '-p', 'edges', '--tile-threshold', '10', '--json']);
    assert.equal(run.status, 0, run.stderr);
    const [item] = JSON.parse(run.stdout).items;
    assert.equal(item.stats.tiles.count, 3 * 2);
    const refused = await cli(['process', LARGE, '-p', 'edges:canny', '--tile', '1000', '-o', join(dir, 'x.png')]);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /cannot run on tiles: steps\[0\] \(edges\): edges:canny .*hysteresis/);
  });
});

describe('tiling: every input mode', () => {
  it('16-bit, palette, 1-bit, RGBA, grey + alpha and GIF inputs (its first frame) tile like they run whole', async () => {
    const odd = join(CORPUS, 'odd');
    // multipage_rgb.tif is unreadable by design (see inputs.test.ts).
    const inputs = await Promise.all(readdirSync(odd).filter((name) => name !== 'multipage_rgb.tif').map((name) => readFile(join(odd, name))));
    const greyAlpha = sharp(Buffer.from(Array.from({ length: 150 * 100 * 2 }, (_, i) => (i * 37) % 251)), { raw: { width: 150, height: 100, channels: 2 } });
    inputs.push(await greyAlpha.png().toBuffer());
    for (const [i, input] of inputs.entries()) {
      for (const text of ['blur:2,edges', 'sharpen,negate']) {
        // Tiles take an animated GIF's first frame only when asked to.
        const p = pipeline(`${text},output:frames=first`);
        const { image } = await processTiledToPixels(input, p, { tileSize: 37 });
        const reference = await untiled(input, p);
        assert.ok(maxDifference(image, reference) <= 1, `input ${i}, ${text}: ${maxDifference(image, reference)}`);
      }
    }
  });
});

describe('tiling: a generated 100 MP image', () => {
  let input: Buffer;
  let pool: LocalEngine;
  before(async () => {
    input = await generatedImage(10_000, 10_000);
    pool = new LocalEngine({ threads: 2 });
  });
  after(() => pool.close());

  for (const [name, text, tolerance] of CASES) {
    it(`${name} (${text}), tiles of 3000 px`, async () => {
      const p = pipeline(text);
      const reference = await untiled(input, p);
      const { image, stats } = await processTiledToPixels(input, p, { engine: pool, tileSize: 3000, limits: BIG_LIMITS });
      assert.equal(stats.tiles?.count, 16);
      assert.ok(maxDifference(image, reference) <= tolerance, `max difference ${maxDifference(image, reference)}`);
    });
  }
});

/**
 * A deterministic grey image of width × height: gradients, discs and a hashed texture, as a
 * JPEG. Grey keeps the 100 MP tests within the suite's time budget.
 */
async function generatedImage(width: number, height: number): Promise<Buffer> {
  const data = Buffer.allocUnsafe(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const disc = ((x % 1500) - 750) ** 2 + ((y % 1300) - 650) ** 2 < 400 ** 2 ? 90 : 0;
      const texture = (Math.imul(x * 73856093 ^ y * 19349663, 0x9e3779b1) >>> 24) & 31;
      data[y * width + x] = (((x + y) * 255) / (width + height) + disc + texture) & 255;
    }
  }
  return sharp(data, { raw: { width, height, channels: 1 }, limitInputPixels: false }).jpeg({ quality: 90 }).toBuffer();
}
