import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ClusterEngine } from '../src/engine/redis/cluster-engine.js';
import { clusterSettings } from '../src/engine/redis/cluster-settings.js';
import { open, probe } from '../src/image/decode.js';
import { resolveLimits } from '../src/limits.js';
import { parsePipelineText } from '../src/pipeline/load.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import { processTiledToPixels } from '../src/tiling/run-tiled.js';
import { holdsJob, REDIS_URL, startWorker, testPrefix, waitFor } from './cluster-helpers.js';
import { CORPUS, maxDifference } from './helpers.js';

const LARGE = join(CORPUS, 'large', 'volna-5120x2880.jpg');

describe('tiling on the cluster', () => {
  it('finishes an image correctly when a worker is killed with SIGKILL mid-image', async (t) => {
    const prefix = testPrefix(t);
    const slow = ['-c', '1', '--delay-rate', '1', '--delay-ms', '150'];
    const workers = await Promise.all(['a', 'b'].map((name) => startWorker(prefix, name, slow)));
    t.after(async () => { for (const w of workers) { w.child.kill('SIGKILL'); await w.exited; } });
    const engine = await ClusterEngine.open({ settings: clusterSettings(REDIS_URL, { prefix }) });
    t.after(() => engine.close());

    const input = await readFile(LARGE);
    const pipeline = validatePipeline(parsePipelineText('blur:10,edges'));
    let killed = false;
    let killing: Promise<void> | undefined;
    // Worker a is killed once three tiles are back and it holds one (as Redis shows it), so that tile must run again.
    const killWhileHolding = async () => {
      await waitFor(() => holdsJob(prefix, 'a'), 20_000, 'worker a to hold a tile');
      workers[0].child.kill('SIGKILL');
      killed = true;
    };
    const { image, stats } = await processTiledToPixels(input, pipeline, {
      // More tiles in flight than threads, so a worker always holds one when the other's result comes in.
      engine, tileSize: 1000, inFlight: 6,
      onTile: (event) => {
        if (!killing && event.status === 'done' && event.done >= 3) killing = killWhileHolding();
      },
    });
    await killing;
    assert.ok(killed);
    assert.equal(stats.tiles?.count, 18);
    const byWorker = stats.tiles!.workers;
    assert.equal(Object.values(byWorker).reduce((a, b) => a + b, 0), 18);
    assert.ok((byWorker.b ?? 0) > (byWorker.a ?? 0), JSON.stringify(byWorker));
    // The tile the killed worker held came back through the stalled check and ran again.
    assert.ok(stats.tiles!.rerun >= 1, JSON.stringify(stats.tiles));

    const limits = resolveLimits();
    let frame = open(input, await probe(input, limits), limits);
    for (const step of pipeline.steps) {
      if (step.op.kind === 'image') frame = await step.op.apply(frame, step.params, { loadAsset: () => Promise.reject(new Error('no assets')) });
    }
    assert.ok(maxDifference(image, await frame.raw()) <= 1);
  });
});
