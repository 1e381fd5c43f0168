/**
 * A worker that lost its job (its lock ran out, say through a network cut, and another worker
 * took the job over) writes no result: nothing of its lands in Redis after the fact.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEnvironment } from '../src/config.js';
import { clusterSettings } from '../src/engine/redis/cluster-settings.js';
import { startClusterWorker } from '../src/engine/redis/cluster-worker.js';
import type { ClusterJobData } from '../src/engine/redis/job-data.js';
import type { Outcome, Task } from '../src/task/task.js';
import { REDIS_URL, testPrefix, waitFor } from './cluster-helpers.js';
import { photo } from './helpers.js';

describe('a worker that lost its job', { timeout: 60_000 }, () => {
  it('writes its result only while it holds the job', async (t) => {
    const prefix = testPrefix(t);
    const redis = new Redis(REDIS_URL);
    t.after(() => redis.disconnect());
    const queue = new Queue<ClusterJobData>('images', { connection: { url: REDIS_URL }, prefix });
    t.after(() => queue.close());

    // The processor waits until the test lets it go, so the lock can be taken away meanwhile.
    const started: string[] = [];
    const gates = new Map<string, () => void>();
    const processor = (task: Task): Promise<Outcome> => new Promise((resolve) => {
      const bytes = Buffer.from((task.source as { bytes: Uint8Array }).bytes);
      const id = String(bytes.length);
      started.push(id);
      gates.set(id, () => resolve({
        ok: true, body: bytes, worker: 'w',
        output: { bytes: bytes.length, width: 1, height: 1, format: 'png' },
        stats: { input: { format: 'png', width: 1, height: 1, bytes: bytes.length }, path: 'libvips', probeMs: 0, steps: [], encodeMs: 0, totalMs: 0 },
      }));
    });
    const outDir = mkdtempSync(join(tmpdir(), 'imgfleet-lost-lock-'));
    t.after(() => rmSync(outDir, { recursive: true, force: true }));
    const worker = await startClusterWorker({ settings: { ...clusterSettings(REDIS_URL, { prefix }), lockMs: 30_000 }, concurrency: 1, name: 'w', processor, roots: [outDir] });
    t.after(() => worker.close());

    const image = readFileSync(photo('coffee.png'));
    const submit = async (name: string, bytes: Buffer, sink: ClusterJobData['items'][number]['sink'] = { kind: 'blob', key: `${prefix}:blob:${name}:out` }) => {
      await redis.set(`${prefix}:blob:${name}:in`, bytes);
      return queue.add('images', {
        items: [{ source: { kind: 'blob', key: `${prefix}:blob:${name}:in` }, sink }],
        pipeline: { steps: [] } as unknown as ClusterJobData['pipeline'],
      }, { attempts: 1 });
    };

    // Held throughout: the result is written and the job completes.
    const kept = await submit('kept', image);
    await waitFor(() => started.length === 1, 10_000, 'the first job to start');
    gates.get(String(image.length))!();
    await waitFor(async () => (await kept.getState()) === 'completed', 10_000, 'the first job to complete');
    assert.ok((await redis.getBuffer(`${prefix}:blob:kept:out`))?.equals(image), 'the result of a job held throughout is written');

    // Lost meanwhile: another worker's token in the lock, as after the job was taken over.
    const other = image.subarray(0, image.length - 1);
    const lost = await submit('lost', other);
    await waitFor(() => started.length === 2, 10_000, 'the second job to start');
    const lockKey = `${prefix}:images:${lost.id}:lock`;
    assert.ok(await redis.get(lockKey), 'the worker holds the job while it runs');
    await redis.set(lockKey, 'another-worker', 'PX', 30_000);
    gates.get(String(other.length))!();
    await waitFor(async () => worker.registry.info.active === 0, 10_000, 'the second job to end here');
    assert.equal(await redis.exists(`${prefix}:blob:lost:out`), 0, 'no result written by a worker that lost its job');
    assert.equal(await lost.getState(), 'active', 'the job stays with the worker that holds it now');

    // The same for a file the worker writes itself (a shared folder), which is not staged.
    const shorter = image.subarray(0, image.length - 2);
    const path = join(outDir, 'lost.png');
    const lostFile = await submit('lost-file', shorter, { kind: 'file', path });
    await waitFor(() => started.length === 3, 10_000, 'the third job to start');
    await redis.set(`${prefix}:images:${lostFile.id}:lock`, 'another-worker', 'PX', 30_000);
    gates.get(String(shorter.length))!();
    await waitFor(async () => worker.registry.info.active === 0, 10_000, 'the third job to end here');
    assert.equal(existsSync(path), false, 'no file written by a worker that lost its job');
  });
});

describe('how many times a job may lose its worker', () => {
  it('is IMGFLEET_MAX_STALLED (default 3), a whole number, refused in one line otherwise', () => {
    assert.equal(clusterSettings(REDIS_URL, readEnvironment({})).maxStalled, 3);
    assert.equal(clusterSettings(REDIS_URL, readEnvironment({ IMGFLEET_MAX_STALLED: '12' })).maxStalled, 12);
    assert.throws(() => readEnvironment({ IMGFLEET_MAX_STALLED: '0' }), /^ImgfleetError: IMGFLEET_MAX_STALLED: expected a whole number of at least 1, got "0"$/);
    assert.throws(() => readEnvironment({ IMGFLEET_MAX_STALLED: 'many' }), /IMGFLEET_MAX_STALLED: expected a whole number/);
  });
});
