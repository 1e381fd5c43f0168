/**
 * What a cluster keeps in memory does not grow with the size of its jobs: a worker runs a job's
 * images a few at a time, however many the job brings. Against a real Redis, with a worker whose
 * image work is a short wait that returns the image's bytes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
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

async function setUp(t: Parameters<typeof testPrefix>[0], options: { threads?: number } = {}) {
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
  const engine = await ClusterEngine.open({ settings, batchImages: IMAGES });
  t.after(() => engine.close());
  const pipeline = validatePipeline(parsePipelineText('resize:10')).spec;
  const runAll = () => Promise.all(Array.from({ length: IMAGES }, (_, i) => engine.run({ source: { kind: 'bytes', bytes: image(i) }, pipeline, sink: { kind: 'bytes' }, priority: 'batch' })));
  return { runAll, mostAtOnce: () => mostAtOnce };
}

const digest = (bytes: Uint8Array | undefined) => bytes && createHash('sha256').update(bytes).digest('hex');

describe('cluster memory bounded whatever the jobs hold', { timeout: 60_000 }, () => {
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
