import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs, { readdirSync, statSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { LocalEngine } from '../src/engine/local/local-engine.js';
import { BatchJob, type ItemState } from '../src/jobs/batch-job.js';
import { runBatch } from '../src/jobs/run-batch.js';
import { Runner } from '../src/runner/runner.js';
import type { Outcome } from '../src/task/task.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { CORPUS, photo, tempDir } from './helpers.js';

describe('local engine', () => {
  it('fails an image that runs past the timeout, then goes on with the next', async (t) => {
    const dir = tempDir(t);
    const engine = new LocalEngine({ threads: 1, timeoutMs: 2000 });
    t.after(() => engine.close());
    const slow = await engine.run({
      source: { kind: 'file', path: join(CORPUS, 'large', 'volna-5120x2880.jpg') }, sink: { kind: 'file', path: join(dir, 'slow.png') }, priority: 'batch',
      // Local contrast with a 1000-pixel window over 14.7 MP, three times: minutes of work on any machine.
      pipeline: validatePipeline({ steps: Array.from({ length: 3 }, () => ({ op: 'clahe', width: 1000, height: 1000 })), output: { format: 'png' } }).spec,
    });
    assert.equal(slow.ok, false);
    assert.deepEqual(!slow.ok && slow.error, { code: 'TIMEOUT', message: 'timed out after 2.0 s' });
    const next = await engine.run({
      source: { kind: 'file', path: photo('rocket.jpg') }, sink: { kind: 'file', path: join(dir, 'ok.jpg') }, priority: 'batch',
      pipeline: validatePipeline({ steps: [{ op: 'resize', width: 50 }] }).spec,
    });
    assert.equal(next.ok, true, JSON.stringify(next));
  });

  it('leaves reading a file to libvips when all the work is in libvips: this thread reads only its head', async (t) => {
    const dir = tempDir(t);
    const large = join(CORPUS, 'large', 'volna-5120x2880.jpg');
    const engine = new LocalEngine({ threads: 2, batchImages: 1 });
    t.after(() => engine.close());
    // Every read through node:fs on this thread, counted (libvips reads in C, past node:fs).
    let bytesRead = 0;
    const readSync = fs.readSync;
    fs.readSync = ((...args: Parameters<typeof fs.readSync>) => {
      const n = readSync(...args);
      bytesRead += n;
      return n;
    }) as typeof fs.readSync;
    syncBuiltinESMExports();
    t.after(() => { fs.readSync = readSync; syncBuiltinESMExports(); });
    // A blur after the resize: a libvips stage, so the libjpeg-turbo lane (which reads the file) does not take it.
    const job = new BatchJob([{ input: large, output: join(dir, 'out.jpg') }],
      validatePipeline({ steps: [{ op: 'resize', width: 512, height: 512 }, { op: 'blur', sigma: 0.5 }], output: { format: 'jpeg' } }), engine.mode);
    const summary = await runBatch(new Runner({ engine }), job);
    assert.equal(summary.done, 1);
    assert.ok(job.items[0].worker!.endsWith('/main'), job.items[0].worker);
    const { width, height } = await sharp(join(dir, 'out.jpg')).metadata();
    assert.deepEqual([width, height], [512, 288]);
    assert.ok(bytesRead <= 64 * 1024, `read ${bytesRead} of the file's ${statSync(large).size} bytes here`);
  });

  it('starts a large JPEG that the libjpeg-turbo lane decodes small from this thread too: its decode runs in libuv\'s pool', async (t) => {
    const dir = tempDir(t);
    const large = join(CORPUS, 'large', 'volna-5120x2880.jpg');
    // No batch: a task that needs a thread of its own would go to the pool's.
    const engine = new LocalEngine({ threads: 2 });
    t.after(() => engine.close());
    const items = Array.from({ length: 4 }, (_, i) => ({ input: large, output: join(dir, `${i}.jpg`) }));
    const job = new BatchJob(items, validatePipeline({ steps: [{ op: 'resize', width: 512, height: 512 }], output: { format: 'jpeg' } }), engine.mode);
    const summary = await runBatch(new Runner({ engine }), job);
    assert.equal(summary.done, 4);
    for (const item of job.items) {
      assert.ok(item.worker!.endsWith('/main'), item.worker);
      assert.equal(item.stats?.path, 'jpeg-turbo');
    }
    const { width, height } = await sharp(join(dir, '3.jpg')).metadata();
    assert.deepEqual([width, height], [512, 288]);
  });

  it('runs that lane\'s resize on the pool\'s threads, warmed up before, for a server, whose thread serves requests', async (t) => {
    const dir = tempDir(t);
    const large = join(CORPUS, 'large', 'volna-5120x2880.jpg');
    const engine = new LocalEngine({ threads: 2, warm: true });
    t.after(() => engine.close());
    await engine.warmedUp();
    const runner = new Runner({ engine, callingThread: 'serving' });
    const pipeline = validatePipeline({ steps: [{ op: 'resize', width: 512, height: 512 }], output: { format: 'jpeg' } });
    const outcomes = await Promise.all([0, 1].map((i) => runner.run({ source: { kind: 'file', path: large }, pipeline, sink: { kind: 'file', path: join(dir, `${i}.jpg`) }, priority: 'interactive' })));
    for (const outcome of outcomes) {
      assert.ok(outcome.ok, JSON.stringify(outcome));
      assert.match(outcome.worker, /\/thread-\d+$/);
      assert.equal(outcome.stats.path, 'jpeg-turbo');
    }
    // One on each thread: both had started and warmed up.
    assert.notEqual(outcomes[0].worker, outcomes[1].worker);
    const { width, height } = await sharp(join(dir, '1.jpg')).metadata();
    assert.deepEqual([width, height], [512, 288]);
  });

  it('keeps small images under way up to libuv\'s pool less two when their work is all in libvips, and two large ones a thread', async (t) => {
    const dir = tempDir(t);
    // As the command line sizes it on one core: four a core and two (src/engine/threadpool-size.cts).
    const size = process.env.UV_THREADPOOL_SIZE;
    process.env.UV_THREADPOOL_SIZE = '6';
    t.after(() => { if (size === undefined) delete process.env.UV_THREADPOOL_SIZE; else process.env.UV_THREADPOOL_SIZE = size; });
    const engine = new LocalEngine({ threads: 1 });
    t.after(() => engine.close());
    // Lossless, which the WebP lane leaves to libvips.
    const small = join(dir, 'small.webp');
    await sharp(photo('rocket.jpg')).resize(480, 360, { fit: 'fill' }).webp({ lossless: true }).toFile(small);
    const large = join(CORPUS, 'large', 'volna-5120x2880.jpg');
    const resize = validatePipeline({ steps: [{ op: 'resize', width: 128, height: 128 }], output: { format: 'jpeg' } }).spec;
    /** The most pipelines sharp had queued or running at once while `count` images of `path` ran. */
    const mostAtOnce = async (path: string, pixels: number, count: number, format: 'jpeg' | 'tiff' = 'jpeg') => {
      let most = 0;
      const watch = setInterval(() => {
        // counters() reads its queue, then its processing count, while a libvips thread may move a
        // task from one to the other between the reads: it would be counted twice. Taking the
        // processing count from one call and the queue from the next counts such a task once at most.
        const { process } = sharp.counters();
        const { queue } = sharp.counters();
        most = Math.max(most, queue + process);
      }, 1);
      const outcomes = await Promise.all(Array.from({ length: count }, (_, i) => engine.run({
        source: { kind: 'file', path }, sink: { kind: 'file', path: join(dir, `${pixels}-${i}.jpg`) }, priority: 'batch',
        pipeline: { ...resize, output: { format } }, work: 'libvips', pixels,
      })));
      clearInterval(watch);
      for (const outcome of outcomes) assert.ok(outcome.ok, JSON.stringify(outcome));
      return most;
    };
    const smallMost = await mostAtOnce(small, 480 * 360, 16);
    assert.ok(smallMost >= 3 && smallMost <= 4, `${smallMost} small images at once`);
    // TIFF: a format only libvips writes, so that the large image's work is libvips' and counted.
    const largeMost = await mostAtOnce(large, 5120 * 2880, 4, 'tiff');
    assert.ok(largeMost >= 1 && largeMost <= 2, `${largeMost} large images at once`);
  });

  it('moves each item through queued → running → done/failed with events, on two threads', async (t) => {
    const dir = tempDir(t);
    const engine = new LocalEngine({ threads: 2 });
    t.after(() => engine.close());
    const inputs = ['rocket.jpg', 'coffee.png', 'chelsea.png', 'missing.png'].map(photo);
    const job = new BatchJob(inputs.map((input, i) => ({ input, output: join(dir, `${i}.png`) })),
      validatePipeline({ steps: [{ op: 'grayscale' }], output: { format: 'png' } }), engine.mode);
    const seen: string[][] = inputs.map(() => []);
    job.on('item', (index: number, item: ItemState) => seen[index].push(item.status));
    const summary = await runBatch(new Runner({ engine }), job);
    assert.deepEqual(seen, [['running', 'done'], ['running', 'done'], ['running', 'done'], ['running', 'failed']]);
    assert.deepEqual([summary.total, summary.done, summary.failed], [4, 3, 1]);
    assert.match(job.items[3].error!.message, /input not found/);
    const workers = new Set(job.items.slice(0, 3).map((i) => i.worker));
    assert.ok([...workers].every((w) => /\/thread-\d+$/.test(w!)), [...workers].join());
  });

  describe('a command\'s batch starts on the main thread', () => {
    /** A batch of small JPEGs resized by the libjpeg-turbo lane (work that needs a thread), run on `engine`. */
    async function smallJpegBatch(t: { after: (fn: () => void) => void }, engine: LocalEngine, count: number) {
      const dir = tempDir(t);
      const jpeg = await sharp(photo('coffee.png')).resize(400, 300, { fit: 'fill' }).jpeg().toBuffer();
      const inputs = Array.from({ length: count }, (_, i) => join(dir, `in-${i}.jpg`));
      for (const input of inputs) writeFileSync(input, jpeg);
      const job = new BatchJob(inputs.map((input, i) => ({ input, output: join(dir, `out-${i}.jpg`) })),
        validatePipeline({ steps: [{ op: 'resize', width: 120, height: 90, fit: 'fill' }], output: { format: 'jpeg' } }), engine.mode);
      const summary = await runBatch(new Runner({ engine }), job);
      assert.equal(summary.done, count);
      for (let i = 0; i < count; i++) {
        const { width, height, format } = await sharp(join(dir, `out-${i}.jpg`)).metadata();
        assert.deepEqual([width, height, format], [120, 90, 'jpeg']);
      }
      return job.items.map((item) => item.worker!);
    }

    it('a short batch runs on it alone: the pool starts no thread', async (t) => {
      const engine = new LocalEngine({ threads: 2, batchImages: 6 });
      t.after(() => engine.close());
      const workers = await smallJpegBatch(t, engine, 6);
      assert.ok(workers.every((w) => w.endsWith('/main')), workers.join());
    });

    it('a batch whose rest would take the main thread longer than the pool\'s start moves to the pool after three images', async (t) => {
      const engine = new LocalEngine({ threads: 2, batchImages: 12, poolAfterMs: 0 });
      t.after(() => engine.close());
      const workers = await smallJpegBatch(t, engine, 12);
      assert.ok(workers.slice(0, 3).every((w) => w.endsWith('/main')), workers.join());
      assert.ok(workers.slice(3).every((w) => /\/thread-\d+$/.test(w)), workers.join());
    });

    it('on the pool, images go to threads in groups; each keeps its own deadline, from its own start, and its own outcome', async (t) => {
      const dir = tempDir(t);
      // Groups as large as they go, however long the first images took on this machine.
      const engine = new LocalEngine({ threads: 2, batchImages: 24, poolAfterMs: 0, timeoutMs: 3000, groupWorkMs: 60_000 });
      t.after(() => engine.close());
      const jpeg = await sharp(photo('coffee.png')).resize(400, 300, { fit: 'fill' }).jpeg().toBuffer();
      const inputs = Array.from({ length: 24 }, (_, i) => join(dir, `in-${i}.jpg`));
      inputs.forEach((input, i) => writeFileSync(input, i === 8 ? Buffer.from('not a JPEG at all') : jpeg));
      // The slow one, and after it images that take long enough for a deadline already past to stop them.
      for (const i of [12, 13, 14, 15, 16]) inputs[i] = join(CORPUS, 'large', 'volna-5120x2880.jpg');
      const thumbnail = validatePipeline({ steps: [{ op: 'resize', width: 120, height: 90, fit: 'fill' }], output: { format: 'jpeg' } }).spec;
      // Local contrast with a 1000-pixel window over 14.7 MP, three times: minutes of work, stopped at its deadline.
      const slow = validatePipeline({ steps: Array.from({ length: 3 }, () => ({ op: 'clahe', width: 1000, height: 1000 })), output: { format: 'jpeg' } }).spec;
      const started = performance.now();
      const outcomes = await Promise.all(inputs.map((input, i) => engine.run({
        source: { kind: 'file', path: input }, sink: { kind: 'file', path: join(dir, `out-${i}.jpg`) }, pipeline: i === 12 ? slow : thumbnail, priority: 'batch',
      })));
      assert.deepEqual(!outcomes[12].ok && outcomes[12].error, { code: 'TIMEOUT', message: 'timed out after 3.0 s' });
      assert.equal(outcomes[8].ok, false);
      assert.notEqual(!outcomes[8].ok && outcomes[8].error.code, 'TIMEOUT');
      // The images that waited behind the slow one in its thread's group had their full time: all done.
      for (const i of inputs.keys()) {
        if (i === 8 || i === 12) continue;
        assert.ok(outcomes[i].ok, `${i}: ${JSON.stringify(outcomes[i])}`);
        const { width, height, format } = await sharp(join(dir, `out-${i}.jpg`)).metadata();
        assert.deepEqual([width, height, format], [120, 90, 'jpeg']);
      }
      assert.ok(outcomes.slice(3).every((o) => /\/thread-\d+$/.test(o.worker)), outcomes.map((o) => o.worker).join());
      // Ended by its deadline, not by the group's: the thread was not ended (that would take 10 s more).
      assert.ok(performance.now() - started < 9000, `${performance.now() - started} ms`);
    });

    it('runs a group two at a time on its thread: one image uses the thread while another waits for libvips', async (t) => {
      const dir = tempDir(t);
      const engine = new LocalEngine({ threads: 1, batchImages: 24, poolAfterMs: 0, groupWorkMs: 60_000 });
      t.after(() => engine.close());
      // A PNG's rows are inflated on the thread (the PNG lane); its WebP is encoded by libvips.
      const png = await sharp(photo('coffee.png')).resize(400, 300, { fit: 'fill' }).png().toBuffer();
      const inputs = Array.from({ length: 24 }, (_, i) => join(dir, `in-${i}.png`));
      for (const input of inputs) writeFileSync(input, png);
      const thumbnail = validatePipeline({ steps: [{ op: 'resize', width: 200, height: 150 }], output: { format: 'webp' } }).spec;
      const runAll = () => Promise.all(inputs.map((input, i) => engine.run({
        source: { kind: 'file', path: input }, sink: { kind: 'file', path: join(dir, `out-${i}.webp`) }, pipeline: thumbnail, priority: 'batch',
      })));
      // Once, to start the pool's thread; then measured.
      await runAll();
      const started = performance.now();
      const outcomes = await runAll();
      const wallMs = performance.now() - started;
      for (const outcome of outcomes) assert.ok(outcome.ok, JSON.stringify(outcome));
      const onThread = outcomes.filter((o) => /\/thread-\d+$/.test(o.worker));
      assert.ok(onThread.length >= 20, outcomes.map((o) => o.worker).join());
      // One at a time, the images on the one thread could take no more than the batch's time between them.
      const sumMs = onThread.reduce((sum, o) => sum + (o.ok ? o.stats.totalMs : 0), 0);
      assert.ok(sumMs > wallMs, `the thread's images took ${sumMs.toFixed(0)} ms between them, the batch ${wallMs.toFixed(0)} ms`);
    });

    it('a group whose thread must be ended (a task that ignores its deadline) runs again task by task: only that task fails, and those queued behind it keep their time', async (t) => {
      const dir = tempDir(t);
      const jpeg = await sharp(photo('coffee.png')).resize(400, 300, { fit: 'fill' }).jpeg().toBuffer();
      // Three images on the main thread, then four in one group on the pool's one thread; the fifth never returns.
      const inputs = Array.from({ length: 7 }, (_, i) => join(dir, i === 4 ? 'never-returns.jpg' : `in-${i}.jpg`));
      for (const input of inputs) writeFileSync(input, jpeg);
      // Preloaded into every thread: opening that file spins for ever, deaf to deadlines and cancel flags, as a stuck native call would be.
      const hook = join(dir, 'stuck.cjs');
      writeFileSync(hook, `
        const { isMainThread, threadId } = require('node:worker_threads');
        if (!isMainThread) {
          const fs = require('node:fs');
          const openSync = fs.openSync;
          fs.openSync = function (path, ...rest) {
            if (String(path).endsWith('never-returns.jpg')) {
              fs.writeSync(2, 'stuck in thread ' + threadId + '\\n');
              for (;;) {}
            }
            return openSync.call(this, path, ...rest);
          };
          require('node:module').syncBuiltinESMExports();
        }`);
      const script = `
        import { LocalEngine } from ${JSON.stringify(new URL('../src/engine/local/local-engine.js', import.meta.url).href)};
        import { validatePipeline } from ${JSON.stringify(new URL('../src/pipeline/validate.js', import.meta.url).href)};
        const inputs = ${JSON.stringify(inputs)};
        const engine = new LocalEngine({ threads: 1, batchImages: inputs.length, poolAfterMs: 0, timeoutMs: 1000, groupWorkMs: 60_000, stopGraceMs: 1000 });
        const pipeline = validatePipeline({ steps: [{ op: 'resize', width: 120, height: 90, fit: 'fill' }], output: { format: 'jpeg' } }).spec;
        const started = performance.now();
        const outcomes = await Promise.all(inputs.map((path, i) => engine.run({ source: { kind: 'file', path }, sink: { kind: 'file', path: ${JSON.stringify(dir)} + '/out-' + i + '.jpg' }, pipeline, priority: 'batch' })));
        console.log(JSON.stringify({ outcomes, ms: performance.now() - started }));
        await engine.close();`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL', env: { ...process.env, NODE_OPTIONS: `--require ${hook}` },
      });
      assert.equal(child.status, 0, child.stderr);
      const { outcomes, ms } = JSON.parse(child.stdout) as { outcomes: Outcome[]; ms: number };
      // Stuck once in its group, then once more alone, each time on a thread that was then ended.
      const stuckIn = [...child.stderr.matchAll(/stuck in thread (\d+)/g)].map((m) => m[1]);
      assert.equal(stuckIn.length, 2, child.stderr);
      assert.notEqual(stuckIn[0], stuckIn[1]);
      assert.deepEqual(!outcomes[4].ok && outcomes[4].error, { code: 'TIMEOUT', message: 'timed out after 1.0 s' });
      for (const i of [0, 1, 2, 3, 5, 6]) {
        assert.ok(outcomes[i].ok, `${i}: ${JSON.stringify(outcomes[i])}`);
        const { width, height, format } = await sharp(join(dir, `out-${i}.jpg`)).metadata();
        assert.deepEqual([width, height, format], [120, 90, 'jpeg']);
      }
      assert.ok(outcomes.slice(0, 3).every((o) => o.worker.endsWith('/main')), outcomes.map((o) => o.worker).join());
      // The group's other tasks ran again, one by one, on threads other than the one that was ended under them.
      for (const i of [3, 5, 6]) assert.match(outcomes[i].worker, /\/thread-\d+$/);
      assert.ok([3, 5, 6].every((i) => !outcomes[i].worker.endsWith(`/thread-${stuckIn[0]}`)), outcomes.map((o) => o.worker).join());
      // Each time, the stuck task had its second and the grace's before its thread was ended; the
      // tasks queued behind it alone still had all of theirs (they finished), on a new thread.
      assert.ok(ms >= 4000, `${ms} ms`);
      assert.deepEqual(readdirSync(dir).filter((name) => name.startsWith('out-')).sort(), ['out-0.jpg', 'out-1.jpg', 'out-2.jpg', 'out-3.jpg', 'out-5.jpg', 'out-6.jpg']);
    });

    it('a task the pool never starts (its thread never comes up) fails with TIMEOUT instead of waiting for ever', async (t) => {
      const dir = tempDir(t);
      writeFileSync(join(dir, 'in.jpg'), await sharp(photo('coffee.png')).resize(64, 48).jpeg().toBuffer());
      // Preloaded into every thread: a pool thread spins for ever before it is ready.
      const hook = join(dir, 'never-ready.cjs');
      writeFileSync(hook, "if (!require('node:worker_threads').isMainThread) for (;;) {}");
      const script = `
        import { LocalEngine } from ${JSON.stringify(new URL('../src/engine/local/local-engine.js', import.meta.url).href)};
        import { validatePipeline } from ${JSON.stringify(new URL('../src/pipeline/validate.js', import.meta.url).href)};
        const engine = new LocalEngine({ threads: 1, timeoutMs: 200, stopGraceMs: 100 });
        const pipeline = validatePipeline({ steps: [{ op: 'resize', width: 32 }], output: { format: 'jpeg' } }).spec;
        const started = performance.now();
        const outcome = await engine.run({ source: { kind: 'file', path: ${JSON.stringify(join(dir, 'in.jpg'))} }, sink: { kind: 'file', path: ${JSON.stringify(join(dir, 'out.jpg'))} }, pipeline, priority: 'batch' });
        console.log(JSON.stringify({ outcome, ms: performance.now() - started }));
        await Promise.race([engine.close(), new Promise((r) => setTimeout(r, 1000))]);
        process.exit(0);`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL', env: { ...process.env, NODE_OPTIONS: `--require ${hook}` },
      });
      assert.equal(child.status, 0, child.stderr);
      const { outcome, ms } = JSON.parse(child.stdout) as { outcome: Outcome; ms: number };
      assert.deepEqual(!outcome.ok && outcome.error, { code: 'TIMEOUT', message: 'timed out after 0.2 s' });
      // Two runs' time ahead of it at most (one running, one ready: 2 × (0.2 s + 0.1 s)), then it gives up.
      assert.ok(ms >= 600 && ms < 10_000, `${ms} ms`);
    });

    it('a first image slow enough to show that the rest would pay for the pool sends the rest there, waiting ones included', async (t) => {
      const dir = tempDir(t);
      const engine = new LocalEngine({ threads: 2, batchImages: 3, poolAfterMs: 0 });
      t.after(() => engine.close());
      // Edges over 14.7 MP: seconds of JavaScript work per image on this machine, far past one-off loads.
      const pipeline = validatePipeline({ steps: [{ op: 'edges' }] }).spec;
      const large = join(CORPUS, 'large', 'volna-5120x2880.jpg');
      // All three given at once, as a folder of three is: none is left to give, the other two wait.
      const outcomes = await Promise.all([0, 1, 2].map((i) => engine.run({
        source: { kind: 'file', path: large }, sink: { kind: 'file', path: join(dir, `${i}.jpg`) }, pipeline, priority: 'batch',
      })));
      assert.ok(outcomes.every((o) => o.ok), JSON.stringify(outcomes));
      const workers = outcomes.map((o) => o.worker);
      assert.ok(workers[0].endsWith('/main'), workers.join());
      assert.ok(workers.slice(1).every((w) => /\/thread-\d+$/.test(w)), workers.join());
    });
  });
});
