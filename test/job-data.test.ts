/**
 * Workers treat job data as untrusted input: anyone who can write to Redis can write a job.
 * Each job here is written to the queue by hand, as an attacker would, and must be refused
 * with a clear error while the worker goes on.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { itemsTakenByRefuser } from '../src/engine/redis/job-data.js';
import type { ErrorInfo } from '../src/errors.js';
import { REDIS_URL, startWorker, testPrefix } from './cluster-helpers.js';
import { gradientPng } from './server-helpers.js';
import { tempDir } from './helpers.js';

interface Ended {
  ok: boolean;
  error?: { code: string; message: string };
  result?: { items: { ok: boolean; error?: { code: string; message: string } }[] };
}

async function queueFor(t: { after: (fn: () => Promise<void> | void) => void }, prefix: string) {
  const queue = new Queue('images', { connection: { url: REDIS_URL }, prefix });
  const events = new QueueEvents('images', { connection: { url: REDIS_URL }, prefix });
  const redis = new Redis(REDIS_URL);
  t.after(async () => { await events.close(); await queue.close(); redis.disconnect(); });
  await events.waitUntilReady();
  const run = async (data: unknown): Promise<Ended> => {
    const job = await queue.add('images', data, { attempts: 1 });
    try {
      return { ok: true, result: await job.waitUntilFinished(events, 20_000) };
    } catch (error) {
      return { ok: false, error: JSON.parse((error as Error).message) };
    }
  };
  return { run, redis };
}

describe('cluster workers: job data is untrusted', () => {
  it('refuses paths outside its roots, blob keys of others, raised limits and logos it was not given', async (t) => {
    const dir = tempDir(t);
    const prefix = testPrefix(t);
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    writeFileSync(join(shared, 'inside.png'), await gradientPng());
    symlinkSync('/etc/hostname', join(shared, 'leak.png'));
    await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } }).png().toFile(join(shared, 'tiny.png'));
    const worker = await startWorker(prefix, 'careful', ['--shared-fs-root', shared, '--max-megapixels', '0.001']);
    t.after(async () => { worker.child.kill('SIGKILL'); await worker.exited; });
    const { run, redis } = await queueFor(t, prefix);
    const png = await gradientPng();
    await redis.set(`${prefix}:blob:probe:in`, png);
    const negate = { steps: [{ op: 'negate' }] };

    const outside = await run({ items: [{ source: { kind: 'file', path: '/etc/hostname' }, sink: { kind: 'none' } }], pipeline: { steps: [{ op: 'histogram' }] } });
    assert.equal(outside.error?.code, 'FORBIDDEN');
    assert.match(outside.error!.message, /outside the folders this worker may use/);

    const throughLink = await run({ items: [{ source: { kind: 'file', path: join(shared, 'leak.png') }, sink: { kind: 'none' } }], pipeline: { steps: [{ op: 'histogram' }] } });
    assert.equal(throughLink.error?.code, 'FORBIDDEN', 'a link inside the root that leads out of it');

    const evil = join(dir, 'written-by-a-job.png');
    const sinkOutside = await run({ items: [{ source: { kind: 'blob', key: `${prefix}:blob:probe:in` }, sink: { kind: 'file', path: evil } }], pipeline: negate });
    assert.equal(sinkOutside.error?.code, 'FORBIDDEN');
    assert.equal(existsSync(evil), false);

    const othersKey = await run({ items: [{ source: { kind: 'blob', key: 'someone-else:secret' }, sink: { kind: 'none' } }], pipeline: { steps: [{ op: 'histogram' }] } });
    assert.equal(othersKey.error?.code, 'BAD_USAGE');
    assert.match(othersKey.error!.message, /malformed job: items\[0\]\.source must be a blob of this cluster/);

    // 64×48 = 3 072 pixels, over this worker's 1 000; the job asks for a trillion.
    const raised = await run({ items: [{ source: { kind: 'blob', key: `${prefix}:blob:probe:in` }, sink: { kind: 'none' } }], pipeline: { steps: [{ op: 'histogram' }] }, limits: { maxInputPixels: 1e12 } });
    assert.equal(raised.error?.code, 'TOO_MANY_PIXELS');

    const logo = await run({ items: [{ source: { kind: 'file', path: join(shared, 'tiny.png') }, sink: { kind: 'none' } }], pipeline: { steps: [{ op: 'watermark', image: '/etc/hostname' }, { op: 'histogram' }] } });
    assert.equal(logo.error?.code, 'BAD_PIPELINE');
    assert.match(logo.error!.message, /no logos here/);

    const long = await run({ items: [{ source: { kind: 'file', path: join(shared, 'tiny.png') }, sink: { kind: 'none' } }], pipeline: { steps: Array.from({ length: 40 }, () => ({ op: 'negate' })) } });
    assert.equal(long.error?.code, 'BAD_PIPELINE');

    // A job holds at most 128 images, and at most 64 whose bytes go through Redis: a worker holds
    // those results while Redis is away, so their number bounds its memory.
    const inside = { source: { kind: 'file', path: join(shared, 'tiny.png') }, sink: { kind: 'none' } };
    const tooMany = await run({ items: Array.from({ length: 129 }, () => inside), pipeline: { steps: [{ op: 'histogram' }] } });
    assert.equal(tooMany.error?.code, 'BAD_USAGE');
    assert.match(tooMany.error!.message, /malformed job: expected 1 to 128 items/);
    // A submitter reads how many the worker takes from that refusal, and sends the images again in jobs that small.
    assert.equal(itemsTakenByRefuser(tooMany.error as ErrorInfo), 128);
    const blob = { source: { kind: 'blob', key: `${prefix}:blob:probe:in` }, sink: { kind: 'none' } };
    const manyBlobs = await run({ items: [...Array.from({ length: 65 }, () => blob), inside], pipeline: { steps: [{ op: 'histogram' }] } });
    assert.equal(manyBlobs.error?.code, 'BAD_USAGE');
    assert.match(manyBlobs.error!.message, /malformed job: expected at most 64 items with blobs/);
    assert.equal(itemsTakenByRefuser(manyBlobs.error as ErrorInfo), undefined);

    const garbage = await run({ items: 'everything', pipeline: 42 });
    assert.equal(garbage.error?.code, 'BAD_USAGE');

    // Through all of it the worker kept working: a fair job inside its root succeeds.
    const fair = await run({ items: [{ source: { kind: 'file', path: join(shared, 'tiny.png') }, sink: { kind: 'none' } }], pipeline: { steps: [{ op: 'histogram', bins: 4 }] } });
    assert.equal(fair.ok, true, JSON.stringify(fair));
    assert.equal(fair.result!.items[0].ok, true);
  });
});
