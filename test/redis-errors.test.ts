/**
 * What a person sees when the cluster's Redis is not there, or will not let them in: one line
 * naming the URL and the reason; commands end with exit 2 within seconds; workers and servers
 * keep retrying and say so once; stopping always ends.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { BIN, cli, photo, tempDir } from './helpers.js';
import { droppingProxy, freePort, haveRedisServer, smallJpegs, startRedis, testPrefix, waitFor, waitForRedis } from './cluster-helpers.js';

/** A stack trace in output: lines like `    at foo (file.js:1:2)`. */
const STACK = /^\s+at .+:\d+/m;

function spawnImgfleet(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, CI: 'true', ...env }, detached: true });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on('exit', (code) => resolve({ code, at: Date.now() })));
  const kill = (signal: NodeJS.Signals) => { try { process.kill(-child.pid!, signal); } catch { /* gone */ } };
  return { child, exited, output: () => output, kill };
}

describe('Redis that cannot be used', { skip: !haveRedisServer && 'redis-server is not installed' }, () => {
  it('run, process, histogram and workers end with exit 2 and one line naming the URL and the reason', async (t) => {
    const dir = tempDir(t);
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).png().toFile(join(dir, 'x.png'));
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    for (const args of [
      ['run', dir, '-o', join(dir, 'out'), '-p', 'negate', '--redis', url],
      ['process', join(dir, 'x.png'), '-o', join(dir, 'y.png'), '-p', 'negate', '--redis', url],
      ['histogram', dir, '--redis', url],
      ['workers', '--redis', url],
    ]) {
      const started = Date.now();
      const result = await cli(args);
      assert.equal(result.status, 2, result.stderr);
      assert.ok(Date.now() - started < 10_000, 'within 10 s');
      assert.equal(result.stderr.trim(), `imgfleet: cannot use Redis at ${url}: connection refused (is Redis running there?)`);
      assert.doesNotMatch(result.stderr, STACK);
    }
  });

  it('workers ends within seconds, saying Redis went away, when it is lost after the command connected', async (t) => {
    // Redis is lost as the worker list is asked for (a SCAN), behind a load balancer that then
    // closes every connection as soon as it opens: the command waited for ever.
    const proxy = await droppingProxy(t, 'scan');
    const started = Date.now();
    const result = await cli(['workers', '--redis', proxy.url], { IMGFLEET_PREFIX: testPrefix(t) });
    assert.ok(Date.now() - started < 15_000, `ended after ${Date.now() - started} ms`);
    assert.ok(proxy.dropped(), 'the proxy saw the worker list asked for');
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /^imgfleet: cannot list the workers: Redis unavailable: .+\n$/);
    assert.doesNotMatch(result.stdout, /live worker/);
    assert.doesNotMatch(result.stderr, STACK);
  });

  it('a wrong or missing password is named as such', async (t) => {
    const dir = tempDir(t);
    const port = await freePort();
    const redis = startRedis(['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', 'right', '--dir', dir]);
    t.after(async () => { redis.child.kill('SIGKILL'); await redis.exited; });
    await waitForRedis(`redis://127.0.0.1:${port}`, 'right');
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).png().toFile(join(dir, 'x.png'));
    const wrong = await cli(['run', dir, '-o', `${dir}/out`, '-p', 'negate', '--redis', `redis://:wrong@127.0.0.1:${port}`]);
    assert.equal(wrong.status, 2);
    assert.equal(wrong.stderr.trim(), `imgfleet: cannot use Redis at redis://:***@127.0.0.1:${port}: it refused the password`);
    const missing = await cli(['run', dir, '-o', `${dir}/out`, '-p', 'negate', '--redis', `redis://127.0.0.1:${port}`]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /it needs a password/);
    // The right one: the line saying no worker is live yet names the URL without it.
    const waiting = spawnImgfleet(['process', join(dir, 'x.png'), '-o', join(dir, 'y.png'), '-p', 'negate', '--redis', `redis://:right@127.0.0.1:${port}`]);
    t.after(() => waiting.kill('SIGKILL'));
    await waitFor(() => /no live workers/.test(waiting.output()), 15_000, 'the line saying no worker is live');
    assert.match(waiting.output(), new RegExp(`no live workers on redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port} yet`));
    assert.doesNotMatch(waiting.output(), /right/);
  });

  it('a URL of another scheme is refused as not a Redis URL, at once', async () => {
    const result = await cli(['run', photo('rocket.jpg'), '-o', '/nonexistent/out', '-p', 'negate', '--redis', 'http://user:secret@127.0.0.1:6379']);
    assert.deepEqual([result.status, result.stderr], [2, 'imgfleet: not a Redis URL: http://user:***@127.0.0.1:6379 (expected redis://host:port, or rediss:// for TLS)\n']);
  });

  it('a worker keeps retrying an unreachable Redis, says so once, joins when it comes, and stops on SIGTERM', async (t) => {
    const dir = tempDir(t);
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const worker = spawnImgfleet(['worker', '--redis', url, '--name', 'patient', '--drain', '3']);
    t.after(() => worker.kill('SIGKILL'));
    await waitFor(() => /cannot reach Redis/.test(worker.output()), 15_000, 'the worker to say Redis is away');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(worker.output().match(/cannot reach Redis/g)?.length, 1, `one line, not one per retry:\n${worker.output()}`);
    assert.doesNotMatch(worker.output(), STACK);

    const redis = startRedis(['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
    t.after(async () => { redis.child.kill('SIGKILL'); await redis.exited; });
    await waitFor(() => /joined/.test(worker.output()), 20_000, 'the worker to join once Redis is up');
    assert.match(worker.output(), /connected to Redis at/);

    // Redis goes away while the worker runs: SIGTERM still ends it within the drain limit.
    redis.child.kill('SIGKILL');
    await redis.exited;
    await waitFor(() => /lost Redis at/.test(worker.output()), 15_000, 'the worker to notice Redis went away');
    const sent = Date.now();
    worker.kill('SIGTERM');
    const { code, at } = await worker.exited;
    assert.ok(at - sent < 3000 + 8000, `stopped ${at - sent} ms after SIGTERM`);
    assert.equal(code, 0, worker.output());
    assert.doesNotMatch(worker.output(), STACK);
  });

  it('a server starts without its Redis, says so once, answers /readyz 503 with the reason, and stops on SIGTERM', async (t) => {
    const port = await freePort();
    const server = spawnImgfleet(['serve', '--port', '0', '--redis', `redis://127.0.0.1:${port}`, '--no-cache']);
    t.after(() => server.kill('SIGKILL'));
    await waitFor(() => /serving on (http:\/\/\S+)/.test(server.output()), 20_000, 'the server to start');
    const url = /serving on (http:\/\/\S+)/.exec(server.output())![1];
    const started = Date.now();
    const ready = await fetch(`${url}/readyz`);
    assert.ok(Date.now() - started < 3000, 'at once');
    assert.equal(ready.status, 503);
    assert.match((await ready.json()).status, /^Redis unavailable: connection refused/);
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    await waitFor(() => /cannot reach Redis/.test(server.output()), 10_000, 'one line about Redis');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(server.output().match(/Redis at/g)?.length, 1, server.output());
    server.kill('SIGTERM');
    const { code } = await server.exited;
    assert.equal(code, 0, server.output());
    assert.doesNotMatch(server.output(), STACK);
  });

  it('a second SIGTERM ends a draining worker at once', async (t) => {
    const dir = tempDir(t);
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const redis = startRedis(['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
    t.after(async () => { redis.child.kill('SIGKILL'); await redis.exited; });
    await waitForRedis(url);
    // Every job stalls for a minute, so the worker is still draining when the second signal comes.
    const worker = spawnImgfleet(['worker', '--redis', url, '--name', 'stuck', '--drain', '60', '--delay-rate', '1', '--delay-ms', '60000']);
    t.after(() => worker.kill('SIGKILL'));
    await waitFor(() => /joined/.test(worker.output()), 20_000, 'the worker to join');
    const input = await smallJpegs(dir, 2);
    const batch = spawnImgfleet(['run', input, '-o', join(dir, 'out'), '-p', 'negate', '--redis', url]);
    t.after(() => batch.kill('SIGKILL'));
    const probe = new Redis(url);
    t.after(() => probe.disconnect());
    await waitFor(async () => (await probe.llen('imgfleet:images:active')) > 0, 20_000, 'a job to be running');
    worker.kill('SIGTERM');
    await waitFor(() => /draining/.test(worker.output()), 5000, 'the worker to drain');
    const sent = Date.now();
    worker.kill('SIGTERM');
    const { code, at } = await worker.exited;
    assert.ok(at - sent < 2000, `exited ${at - sent} ms after the second SIGTERM`);
    assert.notEqual(code, null);
  });
});
