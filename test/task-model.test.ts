/**
 * One task model: the runner decides cache → tiles → engine in one place, engines only move
 * tasks, and the same executor runs them everywhere. Each test here failed before that shape.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { main } from '../src/cli/program.js';
import { readEnvironment } from '../src/config.js';
import { LocalEngine } from '../src/engine/local/local-engine.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import type { Outcome } from '../src/task/task.js';
import { REDIS_URL, smallJpegs, startWorker, submit, testPrefix } from './cluster-helpers.js';
import { photo, tempDir } from './helpers.js';

interface Report {
  summary: { done: number; failed: number; skipped: number; cacheHits?: number };
  items: { input: string; status: string; worker?: string; attempts?: number; cache?: string; stats?: { path: string } }[];
  skipped: { path: string; reason: string }[];
}

describe('the runner and the engines', () => {
  it('a cache with --shared-fs keeps the paths: no image travels through Redis, and the second run is served from the cache', async (t) => {
    const dir = tempDir(t);
    const prefix = testPrefix(t);
    const input = await smallJpegs(dir, 12);
    const worker = await startWorker(prefix, 'shared', ['--shared-fs-root', dir]);
    t.after(async () => { worker.child.kill('SIGKILL'); await worker.exited; });
    const redis = new Redis(REDIS_URL);
    t.after(() => redis.disconnect());
    const blobs: number[] = [];
    const sampling = setInterval(() => void redis.keys(`${prefix}:blob:*`).then((k) => blobs.push(k.length)), 5);
    const cache = ['--shared-fs', '--cache-redis', REDIS_URL];
    const first = await submit(prefix, input, join(dir, 'out1'), 'resize:40,output:png', REDIS_URL, cache);
    const second = await submit(prefix, input, join(dir, 'out2'), 'resize:40,output:png', REDIS_URL, cache);
    clearInterval(sampling);
    assert.equal(first.status, 0, first.stderr);
    const [a, b] = [first.report, second.report] as unknown as Report[];
    assert.deepEqual([a.summary.done, a.summary.cacheHits], [12, 0]);
    assert.ok(a.items.every((i) => i.worker === 'shared'));
    assert.deepEqual([b.summary.done, b.summary.cacheHits], [12, 12]);
    assert.equal(Math.max(0, ...blobs), 0, 'no image bytes went through Redis');
    for (const file of readdirSync(join(dir, 'out1'))) assert.ok(readFileSync(join(dir, 'out1', file)).equals(readFileSync(join(dir, 'out2', file))), file);
  });

  it('a worker goes on writing into an output folder deleted under it', async (t) => {
    const dir = tempDir(t);
    const prefix = testPrefix(t);
    const input = await smallJpegs(dir, 6);
    const worker = await startWorker(prefix, 'steady', ['--shared-fs-root', dir]);
    t.after(async () => { worker.child.kill('SIGKILL'); await worker.exited; });
    const out = join(dir, 'out');
    const first = await submit(prefix, input, out, 'negate', REDIS_URL, ['--shared-fs']);
    assert.equal(first.report.summary.done, 6);
    rmSync(out, { recursive: true });
    const again = await submit(prefix, input, out, 'negate', REDIS_URL, ['--shared-fs']);
    assert.deepEqual([again.report.summary.done, again.report.summary.failed], [6, 0], JSON.stringify(again.report.items.map((i) => i.error)));
    assert.equal(readdirSync(out).length, 6);
  });

  it('a local pool with a queue limit refuses what does not fit, at once, and runs interactive work first', async (t) => {
    const dir = tempDir(t);
    const engine = new LocalEngine({ threads: 1, maxQueue: 2 });
    t.after(() => engine.close());
    const slow = validatePipeline({ steps: [{ op: 'blur', sigma: 30 }], output: { format: 'png' } }).spec;
    const task = (name: string, priority: 'batch' | 'interactive') => engine.run({
      source: { kind: 'file', path: photo('Dune.jpg') }, pipeline: slow, sink: { kind: 'file', path: join(dir, `${name}.png`) }, priority,
    }).then((outcome) => { order.push(name); return outcome; });
    const order: string[] = [];
    // One thread: two go to it (one running, one ready), two wait, the fifth is refused.
    const running = [task('b1', 'batch'), task('b2', 'batch'), task('b3', 'batch'), task('i1', 'interactive')];
    const refused = await task('b4', 'batch');
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.error.code, 'QUEUE_FULL');
    const outcomes: Outcome[] = await Promise.all(running);
    assert.ok(outcomes.every((o) => o.ok));
    assert.ok(order.indexOf('i1') < order.indexOf('b3'), `interactive ran before the waiting batch image: ${order.join(' ')}`);
  });

  it('results are cached by the lane that made them: a worker without libjpeg-turbo never fills the fast lane\'s entries', async (t) => {
    const IMAGES = 48;
    const dir = tempDir(t);
    const prefix = testPrefix(t);
    const input = join(dir, 'in');
    mkdirSync(input);
    // Photos of about 500×375 resized to exactly 512×512: the fast lane's own job. A job holds
    // up to 64 images and a worker takes two jobs at a time: 48 images make at least three jobs
    // (four of 12, sized for two live workers), so a worker that took none of the first two takes the third.
    const source = await sharp(photo('Dune.jpg')).resize(500, 375).jpeg().toBuffer();
    await Promise.all(Array.from({ length: IMAGES }, (_, i) => sharp(source).modulate({ brightness: 1 + i / 200 }).jpeg().toFile(join(input, `${i}.jpg`))));
    const slow = ['-c', '1', '--delay-rate', '1', '--delay-ms', '100'];
    const turbo = await startWorker(prefix, 'turbo', slow);
    const plain = await startWorker(prefix, 'plain', slow, { env: { IMGFLEET_JPEG_TURBO: 'off' } });
    t.after(async () => { for (const w of [turbo, plain]) { w.child.kill('SIGKILL'); await w.exited; } });
    const pipeline = 'resize:512:512:fit=fill,output:jpeg:75';
    const cache = ['--cache-redis', REDIS_URL];
    const first = (await submit(prefix, input, join(dir, 'out1'), pipeline, REDIS_URL, cache)).report as unknown as Report;
    assert.equal(first.summary.done, IMAGES);
    const lanes = new Map(first.items.map((i) => [i.input, i.stats!.path]));
    assert.ok(first.items.every((i) => (i.worker === 'plain') === (i.stats!.path === 'libvips')), 'the plain worker used libvips, the other the fast lane');
    const fast = [...lanes.values()].filter((l) => l === 'jpeg-turbo').length;
    const attempts = first.items.map((i) => i.attempts ?? 1);
    assert.ok(fast > 0 && fast < IMAGES, `both workers took part (${fast} of ${IMAGES} on the fast lane; attempts ${Math.max(...attempts)} at most)\n${turbo.output()}\n${plain.output()}`);
    for (const file of readdirSync(join(dir, 'out1'))) {
      const meta = await sharp(join(dir, 'out1', file)).metadata();
      assert.deepEqual([meta.width, meta.height, meta.format], [512, 512, 'jpeg'], 'the same meaning on either lane');
    }
    // This process has the binding, so it looks up the fast lane's entries: only those are hits.
    const second = (await submit(prefix, input, join(dir, 'out2'), pipeline, REDIS_URL, cache)).report as unknown as Report;
    assert.equal(second.summary.done, IMAGES);
    for (const item of second.items) {
      assert.equal(item.cache === 'hit', lanes.get(item.input) === 'jpeg-turbo', `${item.input}: ${item.cache} after ${lanes.get(item.input)}`);
    }
  });

  it('a batch reports the files it skipped and why', async (t) => {
    const dir = tempDir(t);
    const input = join(dir, 'in');
    mkdirSync(join(input, 'sub'), { recursive: true });
    copyFileSync(photo('rocket.jpg'), join(input, 'rocket.jpg'));
    copyFileSync(photo('coffee.png'), join(input, 'sub', 'coffee.png'));
    writeFileSync(join(input, 'drawing.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><rect width="64" height="48" fill="#c03"/></svg>');
    writeFileSync(join(input, 'layers.psd'), '8BPS');
    writeFileSync(join(input, 'notes.txt'), 'hello');
    const report = join(dir, 'report.json');
    const lines: string[] = [];
    const log = console.log;
    const error = console.error;
    console.log = (line: string) => lines.push(line);
    console.error = (line: string) => lines.push(line);
    let code: number;
    try {
      code = await main(['node', 'imgfleet', 'run', input, '-o', join(dir, 'out'), '-p', 'resize:32', '--report', report], { ...readEnvironment({}), interactive: false });
    } finally {
      console.log = log;
      console.error = error;
    }
    assert.equal(code, 0, lines.join('\n'));
    // An SVG is an image: drawn, and written as PNG since no format was asked for.
    assert.match(lines.join('\n'), /processed 3\/3 images in [\d.]+ s \([\d.]+ img\/s\), 0 failed, 2 skipped \(not images\)/);
    assert.match(lines.join('\n'), /skipped .*layers\.psd: not an image type imgfleet reads \(\.psd\)/);
    const drawn = await sharp(join(dir, 'out', 'drawing.png')).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([drawn.info.width, drawn.info.height, ...drawn.data.subarray(0, 3)], [32, 24, 0xcc, 0x00, 0x33]);
    const written = JSON.parse(readFileSync(report, 'utf8')) as Report;
    assert.equal(written.summary.skipped, 2);
    assert.deepEqual(written.skipped.map((s) => s.reason).sort(), ['not an image type imgfleet reads (.psd)', 'not an image type imgfleet reads (.txt)']);
  });

  it('the CLI is a function: exit statuses without a process', async (t) => {
    const dir = tempDir(t);
    const quiet = { ...readEnvironment({}), interactive: false };
    const error = console.error;
    console.error = () => {};
    try {
      assert.equal(await main(['node', 'imgfleet', 'run', join(dir, 'missing'), '-o', join(dir, 'out'), '-p', 'negate'], quiet), 2);
      assert.equal(await main(['node', 'imgfleet', 'run', dir, '-o', join(dir, 'out'), '-p', 'blur:sigma=-1'], quiet), 2);
      assert.equal(await main(['node', 'imgfleet', 'frobnicate'], quiet), 2);
    } finally {
      console.error = error;
    }
    copyFileSync(photo('rocket.jpg'), join(dir, 'rocket.jpg'));
    writeFileSync(join(dir, 'broken.jpg'), readFileSync(photo('rocket.jpg')).subarray(0, 500));
    const log = console.log;
    console.log = () => {};
    console.error = () => {};
    try {
      assert.equal(await main(['node', 'imgfleet', 'run', dir, '-o', join(dir, 'out'), '-p', 'negate'], quiet), 1, 'one image failed');
    } finally {
      console.log = log;
      console.error = error;
    }
  });
});
