import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { Queue, QueueEvents, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FAST_CLUSTER_ENV, REDIS_URL, startWorker, testPrefix, waitFor } from './cluster-helpers.js';
import { BIN, cli, decode, maxDifference, photo, tempDir } from './helpers.js';
import { assertObjectOutputs, recordingProxy, startS3, uploadJpegs } from './s3-helpers.js';

interface FleetRun {
  status: number | null;
  stderr: string;
  report: {
    summary: { done: number; failed: number };
    items: { status: string; worker?: string; output?: string; stats?: { probeMs: number; encodeMs: number; totalMs: number; steps: { ms: number }[] } }[];
  };
}

/** `imgfleet run --redis` from bucket to bucket, as a user would, with its report. */
function submitObjects(prefix: string, env: Record<string, string>, args: string[], reportDir: string, url = REDIS_URL): Promise<FleetRun> {
  const report = join(reportDir, `report-${Date.now()}.json`);
  const child = spawn(process.execPath, [BIN, 'run', ...args, '--redis', url, '--report', report],
    { env: { ...process.env, ...FAST_CLUSTER_ENV, ...env, IMGFLEET_PREFIX: prefix, CI: 'true' } });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.resume();
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (status) => {
      try {
        resolve({ status, stderr, report: JSON.parse(readFileSync(report, 'utf8')) });
      } catch (error) {
        reject(new Error(`no report (exit ${status}): ${stderr}`, { cause: error }));
      }
    });
  });
}

describe('a fleet on object storage', { timeout: 240_000 }, () => {
  it('runs bucket to bucket on two workers, one killed with SIGKILL mid-batch; the submitter never reads an image', async (t) => {
    const dir = tempDir(t);
    const s3 = await startS3(t, ['fleet']);
    // Jobs of keys carry up to 128 images, as many as these workers say they take: 800 make 7 jobs,
    // two at a time on each worker, so work is left when the first worker finishes its first two.
    const names = await uploadJpegs(s3, dir, 'fleet', 'in/', 800);
    const prefix = testPrefix(t);
    const slow = ['-c', '1', '--delay-rate', '1', '--delay-ms', '40', '--s3-root', 's3://fleet/in/', '--s3-root', 's3://fleet/out/'];
    const workers = await Promise.all(['s1', 's2'].map((name) => startWorker(prefix, name, slow, { env: s3.env })));
    t.after(async () => { for (const w of workers) { w.child.kill('SIGKILL'); await w.exited; } });
    // The submitter talks to the store through a proxy that notes every request it makes.
    const proxy = await recordingProxy(t, s3.endpoint);
    const running = submitObjects(prefix, { ...s3.env, AWS_ENDPOINT_URL_S3: proxy.endpoint }, ['s3://fleet/in/', '-o', 's3://fleet/out/', '-p', 'resize:48:48:fit=fill,output:jpeg'], dir);
    // s1 dies once it has finished a job, so that its work counts, and while it holds more.
    const queue = new Queue('images', { connection: { url: REDIS_URL }, prefix });
    t.after(() => queue.close());
    await waitFor(async () => (await queue.getCompleted()).some((job) => job.returnvalue?.worker === 's1'), 60_000, 'a job finished by s1');
    workers[0].child.kill('SIGKILL');
    let outputsAtKill = 0;
    for await (const page of s3.client.list({ bucket: 'fleet', prefix: 'out/' })) outputsAtKill += page.length;
    assert.ok(outputsAtKill < 800, `killed mid-batch (${outputsAtKill} outputs then)`);
    const result = await running;
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual([result.report.summary.done, result.report.summary.failed], [800, 0]);
    await assertObjectOutputs(s3, 'fleet', 'out/', names, 48);
    const byWorker = new Set(result.report.items.map((i) => i.worker));
    assert.ok(byWorker.has('s1') && byWorker.has('s2'), [...byWorker].join());
    assert.ok(proxy.requests.length > 0 && proxy.requests.every((r) => /^GET \/fleet\/\?.*list-type=2/.test(r)), `the submitter only listed: ${proxy.requests.join(', ')}`);
    // A job run again after its worker died is the same job, with the same images: seven jobs in all.
    const sizes = (await queue.getJobs(['completed'])).map((job) => (job.data as { items: unknown[] }).items.length);
    assert.deepEqual(sizes.sort((a, b) => a - b), [32, 128, 128, 128, 128, 128, 128]);
  });

  it('sends jobs of at most 64 keys while a live worker does not say how many it takes, as workers of earlier versions do not', async (t) => {
    const dir = tempDir(t);
    const s3 = await startS3(t, ['legacy']);
    const names = await uploadJpegs(s3, dir, 'legacy', 'in/', 300);
    const prefix = testPrefix(t);
    const worker = await startWorker(prefix, 'current', ['-c', '2', '--s3-root', 's3://legacy/'], { env: s3.env });
    t.after(async () => { worker.child.kill('SIGKILL'); await worker.exited; });
    const redis = new Redis(REDIS_URL);
    t.after(() => redis.disconnect());
    assert.equal(await redis.hget(`${prefix}:worker:current`, 'jobItems'), '128');
    // The registry entry of a worker that refuses jobs of more than 64 images and does not say so.
    // It takes no jobs here: it is only listed.
    const now = String(Date.now());
    await redis.hset(`${prefix}:worker:earlier`, { name: 'earlier', host: 'elsewhere', pid: '1', concurrency: '1', done: '0', failed: '0', rejected: '0', active: '0', startedAt: now, lastSeen: now });
    await redis.pexpire(`${prefix}:worker:earlier`, 120_000);
    const result = await submitObjects(prefix, s3.env, ['s3://legacy/in/', '-o', 's3://legacy/out/', '-p', 'resize:48:48:fit=fill,output:jpeg'], dir);
    assert.equal(result.status, 0, result.stderr);
    await assertObjectOutputs(s3, 'legacy', 'out/', names, 48);
    const queue = new Queue('images', { connection: { url: REDIS_URL }, prefix });
    t.after(() => queue.close());
    const sizes = (await queue.getJobs(['completed'])).map((job) => (job.data as { items: unknown[] }).items.length);
    // 300 images for two live workers' four job slots: shares of 75, cut to the earlier worker's 64.
    assert.deepEqual(sizes.sort((a, b) => a - b), [44, 64, 64, 64, 64]);
    // Timings come back to the microsecond, as a worker sends them.
    const timings = result.report.items.flatMap((item) => (item.stats ? [item.stats.probeMs, item.stats.encodeMs, item.stats.totalMs, ...item.stats.steps.map((s) => s.ms)] : []));
    assert.ok(timings.length >= 300 * 3, `${timings.length} timings`);
    const notMicroseconds = timings.filter((ms) => Math.abs(ms * 1000 - Math.round(ms * 1000)) > 1e-6);
    assert.deepEqual(notMicroseconds, []);
  });

  it('sends a job that a worker of an earlier version refuses as too large again, in jobs that worker takes', async (t) => {
    const dir = tempDir(t);
    const s3 = await startS3(t, ['upgrade']);
    const names = await uploadJpegs(s3, dir, 'upgrade', 'in/', 200);
    const prefix = testPrefix(t);
    const redis = new Redis(REDIS_URL);
    t.after(() => redis.disconnect());
    // The submitter sees one live worker that takes 128 images: 200 go as two jobs of 100.
    const now = String(Date.now());
    await redis.hset(`${prefix}:worker:listed`, { name: 'listed', host: 'elsewhere', pid: '1', concurrency: '1', done: '0', failed: '0', rejected: '0', active: '0', jobItems: '128', startedAt: now, lastSeen: now });
    await redis.pexpire(`${prefix}:worker:listed`, 120_000);
    const running = submitObjects(prefix, s3.env, ['s3://upgrade/in/', '-o', 's3://upgrade/out/', '-p', 'resize:48:48:fit=fill,output:jpeg'], dir);
    // A worker of an earlier version takes the first job and refuses it, in its own words, before any
    // worker of this version runs.
    const earlier = new Worker('images', null, { connection: { url: REDIS_URL }, prefix, autorun: false });
    t.after(() => earlier.close());
    let refused: Job | undefined;
    await waitFor(async () => { refused = await earlier.getNextJob('earlier-token', { block: false }); return refused !== undefined; }, 30_000, 'the first job');
    assert.equal((refused!.data as { items: unknown[] }).items.length, 100);
    await refused!.moveToFailed(new UnrecoverableError(JSON.stringify({ code: 'BAD_USAGE', message: 'malformed job: expected 1 to 64 items' })), 'earlier-token', false);
    await earlier.close();
    const worker = await startWorker(prefix, 'current', ['-c', '2', '--s3-root', 's3://upgrade/'], { env: s3.env });
    t.after(async () => { worker.child.kill('SIGKILL'); await worker.exited; });
    const result = await running;
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual([result.report.summary.done, result.report.summary.failed], [200, 0]);
    await assertObjectOutputs(s3, 'upgrade', 'out/', names, 48);
    const queue = new Queue('images', { connection: { url: REDIS_URL }, prefix });
    t.after(() => queue.close());
    const sizes = (await queue.getJobs(['completed'])).map((job) => (job.data as { items: unknown[] }).items.length);
    // The refused 100 as 64 and 36; the other job of 100 ran as it was, on this version's worker.
    assert.deepEqual(sizes.sort((a, b) => a - b), [36, 64, 100]);
  });

  it('sends the tiles of a large image through the store, and makes the image the local pool makes', async (t) => {
    const dir = tempDir(t);
    const s3 = await startS3(t, ['tiles']);
    const big = await sharp(photo('astronaut.png')).resize(900, 700, { fit: 'fill' }).png().toBuffer();
    await s3.client.put({ bucket: 'tiles', key: 'in/big.png' }, big);
    mkdirSync(join(dir, 'local'));
    writeFileSync(join(dir, 'local', 'big.png'), big);
    const pipeline = 'blur:2,sharpen,output:png';
    const local = await cli(['run', join(dir, 'local'), '-o', join(dir, 'expected'), '-p', pipeline, '--tile', '256']);
    assert.equal(local.status, 0, local.stderr);
    const prefix = testPrefix(t);
    const worker = await startWorker(prefix, 't1', ['-c', '2', '--s3-root', 's3://tiles/'], { env: s3.env });
    t.after(async () => { worker.child.kill('SIGKILL'); await worker.exited; });
    const proxy = await recordingProxy(t, s3.endpoint);
    const result = await submitObjects(prefix, { ...s3.env, AWS_ENDPOINT_URL_S3: proxy.endpoint }, ['s3://tiles/in/', '-o', 's3://tiles/out/', '-p', pipeline, '--tile', '256'], dir);
    assert.equal(result.status, 0, result.stderr);
    const tilesIn = proxy.requests.filter((r) => /^PUT \/tiles\/imgfleet-scratch\/[0-9a-f-]+\/in$/.test(r));
    assert.equal(tilesIn.length, 12, 'each of the 4×3 tiles went through the store');
    const scratch: string[] = [];
    for await (const page of s3.client.list({ bucket: 'tiles', prefix: 'imgfleet-scratch/' })) scratch.push(...page.map((o) => o.key));
    assert.deepEqual(scratch, [], 'no tile left behind');
    const made = await decode((await s3.client.get({ bucket: 'tiles', key: 'out/big.png' }, 1 << 24)).body);
    assert.equal(maxDifference(made, await decode(join(dir, 'expected', 'big.png'))), 0);
  });

  it('a worker refuses a job naming an object outside its --s3-root, as an attacker would write it', async (t) => {
    const s3 = await startS3(t, ['guarded']);
    await s3.client.put({ bucket: 'guarded', key: 'secret/x.png' }, readFileSync(photo('coffee.png')));
    await s3.client.put({ bucket: 'guarded', key: 'in/a.png' }, readFileSync(photo('coffee.png')));
    const prefix = testPrefix(t);
    const worker = await startWorker(prefix, 'g1', ['-c', '1', '--s3-root', 's3://guarded/in/', '--s3-root', 's3://guarded/out/'], { env: s3.env });
    t.after(async () => { worker.child.kill('SIGKILL'); await worker.exited; });
    const queue = new Queue('images', { connection: { url: REDIS_URL }, prefix });
    const events = new QueueEvents('images', { connection: { url: REDIS_URL }, prefix });
    t.after(async () => { await events.close(); await queue.close(); });
    await events.waitUntilReady();
    const run = async (source: object, sink: object) => {
      const job = await queue.add('images', { items: [{ source: { kind: 'object', bucket: 'guarded', ...source }, sink: { kind: 'object', bucket: 'guarded', ...sink } }], pipeline: { steps: [{ op: 'negate' }] } }, { attempts: 1 });
      // Bounded, so that a job that never ends fails this test with what the worker said, not by the suite's timeout.
      return job.waitUntilFinished(events, 60_000).then(() => 'done', async (error: Error) => `${error.message} (the job is ${await job.getState()})`);
    };
    for (const [source, sink] of [[{ key: 'secret/x.png' }, { key: 'out/x.png' }], [{ key: 'in/../secret/x.png' }, { key: 'out/y.png' }], [{ key: 'in/a.png' }, { key: 'secret/a.png' }]]) {
      assert.match(await run(source, sink), /FORBIDDEN.*(outside the prefixes this worker may use|--s3-root)/, worker.output());
    }
    assert.equal(await run({ key: 'in/a.png' }, { key: 'out/a.png' }), 'done', worker.output());
    const keys: string[] = [];
    for await (const page of s3.client.list({ bucket: 'guarded', prefix: '' })) keys.push(...page.map((o) => o.key));
    assert.deepEqual(keys.sort(), ['in/a.png', 'out/a.png', 'secret/x.png']);
  });
});
