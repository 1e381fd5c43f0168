/**
 * What a cluster keeps in memory is bounded by bytes, not by the number or size of its jobs: a
 * submitter keeps at most a window of input bytes in Redis, and a worker runs a job's images a
 * few at a time, however many the job brings. Against a real Redis, with a worker whose image
 * work is a short wait that returns the image's bytes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { ClusterEngine } from '../src/engine/redis/cluster-engine.js';
import { clusterSettings } from '../src/engine/redis/cluster-settings.js';
import { startClusterWorker } from '../src/engine/redis/cluster-worker.js';
import { parsePipelineText } from '../src/pipeline/load.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import type { Outcome, Task } from '../src/task/task.js';
import { REDIS_URL, testPrefix } from './cluster-helpers.js';

const IMAGE_BYTES = 100_000;
const IMAGES = 40;

/** Distinct bytes for each image: its number, repeated. */
const image = (i: number) => Buffer.alloc(IMAGE_BYTES, i + 1);

async function setUp(t: Parameters<typeof testPrefix>[0], options: { windowBytes?: number; threads?: number } = {}) {
  const prefix = testPrefix(t);
  const settings = clusterSettings(REDIS_URL, { prefix });
  let running = 0;
  let mostAtOnce = 0;
  const processor = async (task: Task): Promise<Outcome> => {
    running++;
    mostAtOnce = Math.max(mostAtOnce, running);
    await sleep(10);
    running--;
    const bytes = Buffer.from((task.source as { bytes: Uint8Array }).bytes);
    return {
      ok: true, body: bytes, worker: 'w',
      output: { bytes: bytes.length, width: 1, height: 1, format: 'png' },
      stats: { input: { format: 'png', width: 1, height: 1, bytes: bytes.length }, path: 'libvips', probeMs: 0, steps: [], encodeMs: 0, totalMs: 10 },
    };
  };
  const worker = await startClusterWorker({ settings, concurrency: options.threads ?? 1, name: 'w', processor });
  t.after(() => worker.close());
  const engine = await ClusterEngine.open({ settings, windowBytes: options.windowBytes, batchImages: IMAGES });
  t.after(() => engine.close());
  const pipeline = validatePipeline(parsePipelineText('resize:10')).spec;
  const runAll = () => Promise.all(Array.from({ length: IMAGES }, (_, i) => engine.run({ source: { kind: 'bytes', bytes: image(i) }, pipeline, sink: { kind: 'bytes' }, priority: 'batch' })));
  return { prefix, runAll, mostAtOnce: () => mostAtOnce };
}

const digest = (bytes: Uint8Array | undefined) => bytes && createHash('sha256').update(bytes).digest('hex');

describe('cluster memory bounded by bytes', { timeout: 60_000 }, () => {
  it('a submitter keeps at most its window of input bytes in Redis, and every image comes back whole', async (t) => {
    const windowBytes = 300_000;
    const { prefix, runAll } = await setUp(t, { windowBytes });
    const redis = new Redis(REDIS_URL);
    t.after(() => redis.disconnect());
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const keys = await redis.keys(`${prefix}:blob:*:in`);
        const sizes = await Promise.all(keys.map((key) => redis.strlen(key)));
        most = Math.max(most, sizes.reduce((a, b) => a + b, 0));
        await sleep(2);
      }
    })();
    const outcomes = await runAll();
    sampling = false;
    await sampler;
    outcomes.forEach((outcome, i) => {
      assert.ok(outcome.ok, JSON.stringify(outcome));
      assert.equal(digest(outcome.body), digest(image(i)), `image ${i} came back as it was sent`);
    });
    // The window, and the one image that may start while the last bytes are still counted.
    assert.ok(most > 0 && most <= windowBytes + IMAGE_BYTES, `${most} bytes of inputs in Redis at most (window ${windowBytes})`);
  });

  it('a worker runs at most its threads and one of a job\'s images at once, however many the job holds', async (t) => {
    const { runAll, mostAtOnce } = await setUp(t, { threads: 1 });
    const outcomes = await runAll();
    outcomes.forEach((outcome, i) => {
      assert.ok(outcome.ok, JSON.stringify(outcome));
      assert.equal(digest(outcome.body), digest(image(i)), `image ${i} came back as it was sent`);
    });
    // One worker taking two jobs at a time: two images of each job at most, four in all.
    assert.ok(mostAtOnce() >= 2 && mostAtOnce() <= 4, `${mostAtOnce()} images at once`);
  });
});
