import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { assertAllOutputs, freePort, haveRedisServer, smallJpegs, startRedis, startWorker, submit, testPrefix, waitFor, waitForRedis } from './cluster-helpers.js';
import { tempDir } from './helpers.js';
import { assertObjectOutputs, startS3, uploadJpegs } from './s3-helpers.js';


describe('cluster resilience', { timeout: 180_000 }, () => {
  it('finishes a batch across a Redis restart with appendonly persistence', { skip: !haveRedisServer && 'redis-server is not installed' }, async (t) => {
    const dir = tempDir(t);
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dir];
    let redis = startRedis(args);
    t.after(async () => { redis.child.kill('SIGKILL'); await redis.exited; });
    await waitForRedis(url);
    const prefix = testPrefix(t, url);
    const input = await smallJpegs(dir, 150);
    const out = join(dir, 'out');
    const workers = await Promise.all(['p1', 'p2'].map((name) => startWorker(prefix, name, ['--delay-rate', '1', '--delay-ms', '20'], { url })));
    t.after(async () => { for (const w of workers) { w.child.kill('SIGKILL'); await w.exited; } });
    const running = submit(prefix, input, out, 'resize:64:64:fit=fill,output:jpeg', url);
    await waitFor(() => { try { return readdirSync(out).length >= 40; } catch { return false; } }, 30_000, '40 outputs');
    redis.child.kill('SIGTERM');
    await redis.exited;
    await new Promise((r) => setTimeout(r, 1000));
    redis = startRedis(args);
    const result = await running;
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual([result.report.summary.done, result.report.summary.failed], [150, 0]);
    await assertAllOutputs(out, 150);
  });

  const root = process.getuid?.() === 0;
  const haveIp = (() => { try { execFileSync('ip', ['-V']); return true; } catch { return false; } })();
  it('runs across hosts: Redis, the object store and two workers each in their own network namespace', { skip: (!root || !haveIp || !haveRedisServer) && 'needs root, iproute2 and redis-server' }, async (t) => {
    const id = randomBytes(2).toString('hex');
    const subnet = `10.213.${parseInt(id, 16) % 250}`;
    const bridge = `imgf${id}br`;
    const hosts = [['redis', 2], ['w1', 3], ['w2', 4], ['store', 5]] as const;
    const ip = (...args: string[]) => execFileSync('ip', args);
    t.after(() => {
      for (const [name] of hosts) { try { ip('netns', 'del', `imgf${id}${name}`); } catch { /* already gone */ } }
      try { ip('link', 'del', bridge); } catch { /* already gone */ }
    });
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    for (const [name, host] of hosts) {
      const ns = `imgf${id}${name}`;
      const veth = `v${id}${name}`;
      ip('netns', 'add', ns);
      ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', `${veth}p`);
      ip('link', 'set', `${veth}p`, 'netns', ns);
      ip('link', 'set', veth, 'master', bridge);
      ip('link', 'set', veth, 'up');
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${subnet}.${host}/24`, 'dev', `${veth}p`);
      ip('netns', 'exec', ns, 'ip', 'link', 'set', `${veth}p`, 'up');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    }
    const redisHost = `${subnet}.2`;
    const url = `redis://${redisHost}:6379`;
    const redis = startRedis(['--port', '6379', '--bind', redisHost, '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
      ['ip', 'netns', 'exec', `imgf${id}redis`]);
    t.after(async () => { redis.child.kill('SIGKILL'); await redis.exited; });
    await waitForRedis(url);

    const s3 = await startS3(t, ['hosts'], { host: `${subnet}.5`, command: ['ip', 'netns', 'exec', `imgf${id}store`] });

    const dir = tempDir(t);
    const prefix = testPrefix(t, url);
    const s3Args = ['--s3-root', 's3://hosts/in/', '--s3-root', 's3://hosts/out/'];
    // Each job lasts a second, so that one worker (which holds two jobs at most) cannot finish a
    // batch before the other has taken a job: both namespaces must do work.
    const slow = ['--delay-rate', '1', '--delay-ms', '1000'];
    const workers = await Promise.all(['w1', 'w2'].map((name) => startWorker(prefix, name, ['-c', '1', ...slow, ...s3Args], { url, command: ['ip', 'netns', 'exec', `imgf${id}${name}`], env: s3.env })));
    t.after(async () => { for (const w of workers) { w.child.kill('SIGKILL'); await w.exited; } });
    const input = await smallJpegs(dir, 60);
    const result = await submit(prefix, input, join(dir, 'out'), 'resize:64:64:fit=fill,output:jpeg', url);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.report.summary.done, 60);
    await assertAllOutputs(join(dir, 'out'), 60);
    const byWorker = new Set(result.report.items.map((i) => i.worker));
    if (!byWorker.has('w1') || !byWorker.has('w2')) {
      // Which jobs there were, and who took them: a batch cut for fewer workers than were live shows here.
      const queue = new Queue('images', { connection: { url }, prefix });
      const jobs = await queue.getJobs(['completed', 'failed']).finally(() => queue.close());
      assert.fail(`both namespaces worked: ${[...byWorker]}; jobs (images, worker): ${jobs.map((job) => `${(job.data as { items: unknown[] }).items.length} ${job.processedBy}`).join(', ')}`);
    }

    // Bucket to bucket: the workers read and write the store across the bridge, the jobs carry keys.
    // Jobs that carry keys share the batch among the workers' job slots: 100 images on two workers make four jobs of 25.
    const names = await uploadJpegs(s3, dir, 'hosts', 'in/', 100);
    const objects = await submit(prefix, 's3://hosts/in/', 's3://hosts/out/', 'resize:64:64:fit=fill,output:jpeg', url, [], s3.env);
    assert.equal(objects.status, 0, objects.stderr);
    assert.equal(objects.report.summary.done, 100);
    await assertObjectOutputs(s3, 'hosts', 'out/', names, 64);
    const objectWorkers = new Set(objects.report.items.map((i) => i.worker));
    assert.ok(objectWorkers.has('w1') && objectWorkers.has('w2'), `both namespaces worked: ${[...objectWorkers]}`);
  });
});
