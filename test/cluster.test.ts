import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { assertAllOutputs, REDIS_URL, smallJpegs, startWorker, submit, testPrefix, waitFor } from './cluster-helpers.js';
import { cli, photo, tempDir } from './helpers.js';

describe('cluster mode', () => {
  it('loses nothing when a worker is killed with SIGKILL mid-batch', async (t) => {
    const dir = tempDir(t);
    const prefix = testPrefix(t);
    const input = await smallJpegs(dir, 300);
    const out = join(dir, 'out');
    const slow = ['-c', '2', '--delay-rate', '1', '--delay-ms', '30'];
    const workers = await Promise.all(['a', 'b', 'c'].map((name) => startWorker(prefix, name, slow)));
    t.after(async () => { for (const w of workers) w.child.kill('SIGKILL'); });
    const running = submit(prefix, input, out, 'resize:64:64:fit=fill,output:jpeg');
    const redis = new Redis(REDIS_URL);
    t.after(() => redis.disconnect());
    // Killed once it has done some of the batch and the batch is well under way.
    await waitFor(async () => Number(await redis.hget(`${prefix}:worker:a`, 'done')) > 0 && (() => { try { return readdirSync(out).length >= 60; } catch { return false; } })(), 30_000, '60 outputs, some by a');
    workers[0].child.kill('SIGKILL');
    const result = await running;
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual([result.report.summary.done, result.report.summary.failed], [300, 0]);
    await assertAllOutputs(out, 300);
    const byWorker = new Set(result.report.items.map((i) => i.worker));
    assert.ok(byWorker.has('a') && byWorker.has('b') && byWorker.has('c'), [...byWorker].join());
  });

  it('completes every image when workers refuse half their jobs', async (t) => {
    const dir = tempDir(t);
    const prefix = testPrefix(t);
    // 960 images make 15 jobs of 64: the chance that no job is ever refused is one in 30,000.
    const input = await smallJpegs(dir, 960);
    const workers = await Promise.all(['r1', 'r2'].map((name) => startWorker(prefix, name, ['--reject-rate', '0.5'])));
    const result = await submit(prefix, input, join(dir, 'out'), 'resize:64:64:fit=fill,output:jpeg');
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.report.summary.done, 960);
    await assertAllOutputs(join(dir, 'out'), 960);
    for (const w of workers) w.child.kill('SIGTERM');
    const codes = await Promise.all(workers.map((w) => w.exited));
    assert.deepEqual(codes, [0, 0], workers.map((w) => `${w.name}: ${w.output()}`).join('\n'));
    const refused = workers.map((w) => Number(/(\d+) refused/.exec(w.output())?.[1] ?? 0));
    assert.ok(refused[0] + refused[1] > 0, `refusals: ${refused}`);
  });

  it('sends images whose bytes go through Redis in jobs of 64', async (t) => {
    const dir = tempDir(t);
    const prefix = testPrefix(t);
    const input = await smallJpegs(dir, 640);
    const worker = await startWorker(prefix, 'one');
    t.after(async () => { worker.child.kill('SIGTERM'); await worker.exited; });
    const result = await submit(prefix, input, join(dir, 'out'), 'resize:64:64:fit=fill,output:jpeg');
    assert.equal(result.status, 0, result.stderr);
    await assertAllOutputs(join(dir, 'out'), 640);
    const redis = new Redis(REDIS_URL);
    t.after(() => redis.disconnect());
    // BullMQ numbers the jobs of a queue. 256 images are in flight at once (4 jobs); each job that
    // ends lets 64 more in, and they leave together as one job: 640 images are 10 jobs.
    assert.equal(Number(await redis.get(`${prefix}:images:id`)), 10);
  });

  it('spreads a small batch over every live worker: its jobs are small enough that each gets a share', async (t) => {
    const dir = tempDir(t);
    const prefix = testPrefix(t);
    const input = await smallJpegs(dir, 24);
    // Each job holds its worker for 300 ms, so no worker can run through the batch before the others wake.
    const workers = await Promise.all(['a', 'b', 'c'].map((name) => startWorker(prefix, name, ['-c', '1', '--delay-rate', '1', '--delay-ms', '300'])));
    t.after(async () => { for (const w of workers) { w.child.kill('SIGKILL'); await w.exited; } });
    const result = await submit(prefix, input, join(dir, 'out'), 'resize:64:64:fit=fill,output:jpeg');
    assert.equal(result.status, 0, result.stderr);
    await assertAllOutputs(join(dir, 'out'), 24);
    const items = (result.report as unknown as { items: { worker: string }[] }).items;
    // Three workers taking two jobs at a time: 24 images in jobs of at most 4, not one of 24.
    assert.deepEqual([...new Set(items.map((i) => i.worker))].sort(), ['a', 'b', 'c']);
    const redis = new Redis(REDIS_URL);
    t.after(() => redis.disconnect());
    assert.ok(Number(await redis.get(`${prefix}:images:id`)) >= 6);
    const queue = new Queue('images', { connection: { url: REDIS_URL }, prefix });
    t.after(() => queue.close());
    const sizes = (await queue.getJobs(['completed'])).map((job) => (job.data as { items: unknown[] }).items.length);
    assert.equal(sizes.reduce((a, b) => a + b, 0), 24);
    assert.ok(sizes.every((n) => n <= 4), `images per job: ${sizes.join(', ')}`);
  });

  it('retries a transient fault with backoff, and reports the attempts', async (t) => {
    const dir = tempDir(t);
    const prefix = testPrefix(t);
    const input = join(dir, 'in');
    mkdirSync(input);
    writeFileSync(join(input, 'big.png'), await sharp(photo('astronaut.png')).resize(2000, 2000).png().toBuffer());
    // A 20 ms limit makes every run of a heavy pipeline time out: a transient fault, so it is retried.
    const worker = await startWorker(prefix, 'hasty', ['--timeout', '0.02']);
    t.after(async () => { worker.child.kill('SIGTERM'); await worker.exited; });
    const result = await submit(prefix, input, join(dir, 'out'), 'blur:30,edges:canny,output:png');
    assert.equal(result.status, 1);
    assert.equal(result.report.items[0].error?.code, 'TIMEOUT');
    assert.equal(result.report.items[0].attempts, 3);
  });

  it('drains on SIGTERM: running jobs finish, then the worker exits 0', async (t) => {
    const dir = tempDir(t);
    const prefix = testPrefix(t);
    const input = await smallJpegs(dir, 8);
    const first = await startWorker(prefix, 'first', ['-c', '2', '--delay-rate', '1', '--delay-ms', '1500']);
    const running = submit(prefix, input, join(dir, 'out'), 'resize:64:64:fit=fill,output:jpeg');
    const redis = new Redis(REDIS_URL);
    t.after(() => redis.disconnect());
    await waitFor(async () => Number(await redis.hget(`${prefix}:worker:first`, 'active')) > 0, 20_000, 'the first worker to hold a job');
    first.child.kill('SIGTERM');
    const second = await startWorker(prefix, 'second');
    t.after(async () => { second.child.kill('SIGTERM'); await second.exited; });
    assert.equal(await first.exited, 0);
    const draining = Number(/draining (\d+) running/.exec(first.output())?.[1]);
    const result = await running;
    assert.equal(result.report.summary.done, 8);
    const byFirst = result.report.items.filter((i) => i.worker === 'first').length;
    assert.ok(draining >= 1 && byFirst === draining, `draining ${draining}, finished by first ${byFirst}`);
  });
});

describe('cluster mode: scheduling, registry and memory', () => {
  it('runs interactive work (process) ahead of a queued batch', async (t) => {
    const dir = tempDir(t);
    const prefix = testPrefix(t);
    const input = await smallJpegs(dir, 256);
    const out = join(dir, 'out');
    // With no worker yet, the batch fills its window: four jobs of 64 images wait in the queue.
    const batch = submit(prefix, input, out, 'resize:64:64:fit=fill,output:jpeg');
    t.after(() => { batch.child.kill('SIGKILL'); });
    const queue = new Queue('images', { connection: { url: REDIS_URL }, prefix });
    t.after(() => queue.close());
    await waitFor(async () => (await queue.count()) >= 4, 20_000, 'the batch to queue its window');
    const single = cli(['process', photo('rocket.jpg'), '-p', 'resize:50', '-o', join(dir, 'single.jpg'), '--redis', REDIS_URL],
      { IMGFLEET_PREFIX: prefix });
    await waitFor(async () => (await queue.count()) >= 5, 20_000, 'the single image to queue');
    const worker = await startWorker(prefix, 'only', ['-c', '1', '--delay-rate', '1', '--delay-ms', '300']);
    t.after(async () => { worker.child.kill('SIGKILL'); await worker.exited; });
    const result = await single;
    assert.equal(result.status, 0, result.stderr);
    assert.equal((await batch).report.summary.done, 256);
    // Queued last, it still ran in the worker's first round of two jobs; in order it would have waited for all four.
    const jobs = (await queue.getJobs(['completed'])).sort((a, b) => a.processedOn! - b.processedOn!);
    const rank = jobs.findIndex((job) => (job.data as { items: unknown[] }).items.length === 1);
    assert.ok(rank >= 0 && rank < 2, `the single image's job started ${rank + 1}th of ${jobs.length}`);
  });

  it('passes paths instead of bytes with --shared-fs', async (t) => {
    const dir = tempDir(t);
    const prefix = testPrefix(t);
    const input = await smallJpegs(dir, 10);
    const worker = await startWorker(prefix, 'fs', ['--shared-fs-root', dir]);
    t.after(async () => { worker.child.kill('SIGKILL'); await worker.exited; });
    const blobs: number[] = [];
    const redis = new Redis(REDIS_URL);
    t.after(() => redis.disconnect());
    const sampling = setInterval(() => void redis.keys(`${prefix}:blob:*`).then((k) => blobs.push(k.length)), 5);
    const result = await submit(prefix, input, join(dir, 'out'), 'resize:64:64:fit=fill,output:jpeg', REDIS_URL, ['--shared-fs']);
    clearInterval(sampling);
    assert.equal(result.report.summary.done, 10);
    await assertAllOutputs(join(dir, 'out'), 10);
    assert.equal(Math.max(0, ...blobs), 0, 'no image bytes went through Redis');
  });

  it('keeps at most a window of images in Redis, and none after the batch', async (t) => {
    const dir = tempDir(t);
    const prefix = testPrefix(t);
    const input = await smallJpegs(dir, 600);
    const worker = await startWorker(prefix, 'steady', ['-c', '1', '--delay-rate', '1', '--delay-ms', '5']);
    t.after(async () => { worker.child.kill('SIGKILL'); await worker.exited; });
    const redis = new Redis(REDIS_URL);
    t.after(() => redis.disconnect());
    let most = 0;
    const sampling = setInterval(() => void redis.keys(`${prefix}:blob:*`).then((k) => { most = Math.max(most, k.length); }), 5);
    const result = await submit(prefix, input, join(dir, 'out'), 'resize:64:64:fit=fill,output:jpeg');
    clearInterval(sampling);
    assert.equal(result.report.summary.done, 600);
    assert.ok(most > 0 && most <= 512, `at most ${most} blobs (window 256: inputs plus results)`);
    assert.deepEqual(await redis.keys(`${prefix}:blob:*`), []);
  });

  it('lists live workers, and a dead one drops off within a few heartbeats', async (t) => {
    const prefix = testPrefix(t);
    const [a, b] = await Promise.all([startWorker(prefix, 'alive', ['-c', '2']), startWorker(prefix, 'doomed', ['-c', '1'])]);
    t.after(async () => {
      for (const worker of [a, b]) worker.child.kill('SIGKILL');
      await Promise.all([a.exited, b.exited]);
    });
    const list = await cli(['workers', '--redis', REDIS_URL], { IMGFLEET_PREFIX: prefix });
    assert.match(list.stdout, /^name +host +pid +threads +done +failed +load +last seen$/m);
    assert.match(list.stdout, new RegExp(`^alive +\\S+ +${a.child.pid} +2 +0 +0 +0/2 +\\d\\.\\d s ago$`, 'm'));
    assert.match(list.stdout, /^doomed /m);
    assert.match(list.stdout, /2 live worker\(s\)/);
    b.child.kill('SIGKILL');
    await waitFor(async () => {
      const json = JSON.parse((await cli(['workers', '--redis', REDIS_URL, '--json'], { IMGFLEET_PREFIX: prefix })).stdout);
      return json.length === 1 && json[0].name === 'alive';
    }, 5000, 'the dead worker to drop off');
  });
});

describe('cluster mode: bad input', () => {
  it('fails a lone bad image as an unrecoverable BullMQ job, run once', async (t) => {
    const dir = tempDir(t);
    const prefix = testPrefix(t);
    const worker = await startWorker(prefix, 'strict');
    t.after(async () => { worker.child.kill('SIGKILL'); await worker.exited; });
    writeFileSync(join(dir, 'fake.jpg'), 'not a jpeg at all');
    const result = await cli(['process', join(dir, 'fake.jpg'), '-p', 'blur', '-o', join(dir, 'out.jpg'), '--redis', REDIS_URL], { IMGFLEET_PREFIX: prefix });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /not an image/);
    const queue = new Queue('images', { connection: { url: REDIS_URL }, prefix });
    t.after(() => queue.close());
    const [failed] = await queue.getFailed();
    assert.equal(failed.attemptsMade, 1, 'never retried');
    assert.match(failed.failedReason, /NOT_AN_IMAGE/);
  });
});

describe('cluster mode: data pipelines', () => {
  it('histogram --redis gives the same JSON as the local engine', async (t) => {
    const prefix = testPrefix(t);
    const worker = await startWorker(prefix, 'counter');
    t.after(async () => { worker.child.kill('SIGKILL'); await worker.exited; });
    const images = [photo('rocket.jpg'), photo('camera.png')];
    const local = await cli(['histogram', ...images, '--json']);
    const cluster = await cli(['histogram', ...images, '--json', '--redis', REDIS_URL], { IMGFLEET_PREFIX: prefix });
    assert.equal(cluster.status, 0, cluster.stderr);
    assert.deepEqual(JSON.parse(cluster.stdout), JSON.parse(local.stdout));
  });
});
