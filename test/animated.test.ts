import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { processImage } from '../src/pipeline/process.js';
import { parseCompact } from '../src/pipeline/compact.js';
import { parsePipelineText } from '../src/pipeline/load.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { processTiled } from '../src/tiling/run-tiled.js';
import type { Limits } from '../src/limits.js';
import { tighterLimits } from '../src/task/execute.js';
import { ClusterEngine } from '../src/engine/redis/cluster-engine.js';
import { clusterSettings } from '../src/engine/redis/cluster-settings.js';
import { readAnimation } from './animation-container.js';
import { REDIS_URL, startWorker, testPrefix } from './cluster-helpers.js';
import { testServer } from './server-helpers.js';
import { cli, CORPUS, photo, tempDir } from './helpers.js';

const DELAYS = [100, 200, 300, 400];
const LOOP = 3;
const FRAME = { width: 120, height: 90 };

/** Four frames cut from real photos (each unlike the others), as an animated GIF or WebP made by sharp alone. */
async function animation(format: 'gif' | 'webp'): Promise<Buffer> {
  const frames = await Promise.all(['coffee.png', 'chelsea.png', 'astronaut.png', 'rocket.jpg'].map((name) =>
    sharp(photo(name)).resize(FRAME.width, FRAME.height, { fit: 'fill' }).png().toBuffer()));
  const joined = sharp(frames, { join: { animated: true } });
  return (format === 'gif' ? joined.gif({ delay: DELAYS, loop: LOOP }) : joined.webp({ delay: DELAYS, loop: LOOP, lossless: true })).toBuffer();
}

async function run(pipeline: string, input: Buffer, limits?: Partial<Limits>) {
  const result = await processImage(input, validatePipeline(parsePipelineText(pipeline)), { limits });
  if (result.kind !== 'image') throw new Error('expected an image');
  return result;
}

/** Mean of each channel of one frame (page) of an animation, decoded by sharp. */
async function frameMeans(bytes: Buffer, page: number): Promise<number[]> {
  const { channels } = await sharp(bytes, { page }).removeAlpha().stats();
  return channels.map((c) => c.mean);
}

describe('animated GIF and WebP', () => {
  let gif: Buffer;
  let webp: Buffer;
  before(async () => {
    gif = await animation('gif');
    webp = await animation('webp');
    // The inputs are what the tests mean them to be.
    assert.deepEqual(readAnimation(gif), { format: 'gif', ...FRAME, frames: 4, delays: DELAYS, loop: LOOP });
    assert.deepEqual(readAnimation(webp), { format: 'webp', ...FRAME, frames: 4, delays: DELAYS, loop: LOOP });
  });

  for (const [input, out] of [['gif', 'gif'], ['gif', 'webp'], ['webp', 'webp'], ['webp', 'gif']] as const) {
    it(`${input} → ${out}: every frame resized, delays and loop count kept`, async () => {
      const source = input === 'gif' ? gif : webp;
      const result = await run(`resize:60,sharpen,output:${out}`, source);
      const facts = readAnimation(result.data);
      assert.deepEqual(facts, { format: out, width: 60, height: 45, frames: 4, delays: DELAYS, loop: LOOP });
      assert.equal(result.width, 60);
      assert.equal(result.height, 45);
      assert.equal(result.stats.frames, 4);
    });
  }

  it('each frame goes through the steps in its own place: frame k of the output is frame k of the input, flipped', async () => {
    const result = await run('flip:horizontal,output:webp:quality=100', webp);
    for (let page = 0; page < 4; page++) {
      const original = await sharp(webp, { page }).flop().raw().toBuffer();
      const made = await sharp(result.data, { page }).raw().toBuffer();
      let diff = 0;
      for (let i = 0; i < original.length; i++) diff += Math.abs(original[i] - made[i]);
      assert.ok(diff / original.length < 6, `frame ${page}: mean difference ${diff / original.length}`);
    }
    // The frames differ from each other, so a mix-up would show.
    const means = await Promise.all([0, 1, 2, 3].map((page) => frameMeans(result.data, page)));
    assert.equal(new Set(means.map((m) => m.map(Math.round).join())).size, 4);
  });

  it('a grey step on every frame: each frame of the output is grey', async () => {
    const result = await run('grayscale', gif);
    assert.equal(readAnimation(result.data).frames, 4);
    for (let page = 0; page < 4; page++) {
      const [r, g, b] = await frameMeans(result.data, page);
      assert.ok(Math.abs(r - g) < 1 && Math.abs(g - b) < 1, `frame ${page} is not grey: ${r} ${g} ${b}`);
    }
  });

  it('frames=first, or an output that cannot animate, takes the first frame only', async () => {
    const first = await run('resize:60,output:gif:frames=first', gif);
    assert.equal(readAnimation(first.data).frames, 1);
    const png = await run('resize:60,output:png', gif);
    const meta = await sharp(png.data).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.pages], ['png', 60, 45, undefined]);
    assert.equal(png.stats.frames, undefined);
  });

  it('the corpus’ animated GIF keeps its 24 frames of 70 ms and loops forever', async () => {
    const bytes = readFileSync(join(CORPUS, 'odd', 'no_time_for_that_tiny.gif'));
    const before = readAnimation(bytes);
    const result = await run('resize:28', bytes);
    const facts = readAnimation(result.data);
    assert.equal(facts.frames, before.frames);
    assert.equal(facts.frames, 24);
    assert.deepEqual(facts.delays, before.delays);
    assert.equal(facts.loop, 0);
    assert.equal(facts.width, 28);
  });

  it('the pixel limit counts every frame, from the header: refused as an animation, fine as its first frame', async () => {
    const limits = { maxInputPixels: FRAME.width * FRAME.height * 3 };
    await assert.rejects(run('resize:60', gif, limits), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'TOO_MANY_PIXELS');
      assert.match(error.message, /4 frames of 120×90/);
      assert.match(error.message, /frames=first/);
      return true;
    });
    assert.equal(readAnimation((await run('resize:60,output:frames=first', gif, limits)).data).frames, 1);
  });

  it('maxFrames refuses longer animations', async () => {
    await assert.rejects(run('resize:60', webp, { maxFrames: 3 }), /animation has 4 frames, over the limit of 3/);
    assert.equal(readAnimation((await run('resize:60', webp, { maxFrames: 4 })).data).frames, 4);
  });

  it('a step that cannot run frame by frame (trim) refuses an animation with a clear message', async () => {
    await assert.rejects(run('trim', gif), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'BAD_PIPELINE');
      assert.match(error.message, /^steps\[0\] \(trim\): cannot run on an animation: .*frames=first/);
      return true;
    });
    const first = await run('trim,output:frames=first', gif);
    assert.equal(readAnimation(first.data).frames, 1);
  });

  it('output maxBytes on an animation: the highest WebP quality that fits', async () => {
    const budget = 12_000;
    const result = await run(`resize:100,output:webp:maxBytes=${budget}`, webp);
    assert.ok(result.data.length <= budget);
    assert.equal(readAnimation(result.data).frames, 4);
    const quality = result.stats.quality!;
    assert.ok(quality >= 1 && quality < 100);
    const above = await run(`resize:100,output:webp:quality=${quality + 1}`, webp);
    assert.ok(above.data.length > budget, `quality ${quality + 1} makes ${above.data.length} bytes`);
  });

  it('tiling refuses an animation', async () => {
    await assert.rejects(processTiled(gif, validatePipeline(parsePipelineText('blur:2')), { tileSize: 64 }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'NOT_TILEABLE');
      assert.match(error.message, /animation/);
      return true;
    });
  });

  it('CLI: process keeps the animation, --max-frames refuses, and --tile refuses an animation', async (t) => {
    const dir = tempDir(t);
    const input = join(dir, 'in.gif');
    writeFileSync(input, gif);
    const out = join(dir, 'out.webp');
    const ok = await cli(['process', input, '-p', 'resize:50', '-o', out]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /\(50×38 webp, 4 frames, /);
    assert.deepEqual(readAnimation(readFileSync(out)).delays, DELAYS);
    const budget = await cli(['process', input, '-p', 'resize:50,output:maxBytes=6000', '-o', join(dir, 'budget.webp')]);
    assert.equal(budget.status, 0, budget.stderr);
    assert.match(budget.stdout, /4 frames, quality \d+, /);
    const refused = await cli(['process', input, '-p', 'resize:50', '-o', out, '--max-frames', '2']);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /animation has 4 frames, over the limit of 2/);
    assert.doesNotMatch(refused.stderr, /at .*\.js:\d+/);
    const tiled = await cli(['process', input, '-p', 'blur:2', '-o', join(dir, 'tiled.gif'), '--tile', '64']);
    assert.notEqual(tiled.status, 0);
    assert.match(tiled.stderr, /cannot run on tiles: the input is an animation/);
  });

  it('--max-frames is on every command with limits; a server and a worker never take more than their own', async () => {
    for (const command of ['process', 'run', 'serve', 'worker']) {
      const help = await cli([command, '--help']);
      assert.match(help.stdout, /--max-frames <n>/, command);
    }
    assert.equal(tighterLimits({ maxFrames: 10 }, { maxFrames: 100 }).maxFrames, 10);
    assert.equal(tighterLimits(undefined, { maxFrames: 3 }).maxFrames, 3);
    assert.equal(tighterLimits(undefined, undefined).maxFrames, 1000);
    const server = await testServer('local', undefined, { limits: { maxFrames: 3 } });
    try {
      const response = await server.app.inject({ method: 'POST', url: '/v1/process?pipeline=resize:40', payload: gif, headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(response.statusCode, 422);
      assert.match(response.json().error.message, /animation has 4 frames, over the limit of 3/);
      const first = await server.app.inject({ method: 'POST', url: '/v1/process?pipeline=resize:40,output:frames=first', payload: gif, headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(first.statusCode, 200);
    } finally {
      await server.close();
    }
  });

  it('on a cluster: a worker keeps the animation, and refuses more frames than its --max-frames', async (t) => {
    const prefix = testPrefix(t);
    const worker = await startWorker(prefix, 'frames-worker', ['-c', '1', '--max-frames', '3']);
    t.after(async () => {
      worker.child.kill('SIGKILL');
      await worker.exited;
    });
    const engine = await ClusterEngine.open({ settings: clusterSettings(REDIS_URL, { prefix }) });
    t.after(() => engine.close());
    const run = (pipeline: string, bytes: Buffer) => engine.run({ source: { kind: 'bytes', bytes }, pipeline: parseCompact(pipeline), sink: { kind: 'bytes' }, priority: 'interactive' });
    const three = await sharp(await Promise.all(['coffee.png', 'chelsea.png', 'rocket.jpg'].map((name) =>
      sharp(photo(name)).resize(60, 40, { fit: 'fill' }).png().toBuffer())), { join: { animated: true } }).gif({ delay: [50, 60, 70], loop: 2 }).toBuffer();
    const kept = await run('resize:30,output:webp', three);
    assert.ok(kept.ok, JSON.stringify(kept));
    assert.deepEqual(readAnimation(kept.body!), { format: 'webp', width: 30, height: 20, frames: 3, delays: [50, 60, 70], loop: 2 });
    const refused = await run('resize:30', gif);
    assert.ok(!refused.ok);
    assert.match(refused.error.message, /animation has 4 frames, over the limit of 3/);
    const first = await run('resize:30,output:frames=first', gif);
    assert.ok(first.ok);
    assert.equal(readAnimation(first.body!).frames, 1);
  });
});
