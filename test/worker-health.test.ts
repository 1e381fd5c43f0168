/**
 * A worker's health check for containers: the worker rewrites its alive file from its event
 * loop; `imgfleet health --worker` passes while it does, says when Redis is away (and fails
 * with --ready), fails once the worker is stuck, and after it has left.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, tempDir } from './helpers.js';
import { freePort, haveRedisServer, startRedis, startWorker, testPrefix, waitForRedis } from './cluster-helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('imgfleet health --worker', { skip: !haveRedisServer && 'redis-server is not installed' }, () => {
  it('passes while the worker is alive, names a lost Redis, fails when the worker is stuck or gone', { timeout: 90_000 }, async (t) => {
    const dir = tempDir(t);
    const aliveFile = join(dir, 'alive.json');
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const redis = startRedis(['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
    t.after(async () => { redis.child.kill('SIGKILL'); await redis.exited; });
    await waitForRedis(url);
    const worker = await startWorker(testPrefix(t, url), 'checked', ['--concurrency', '1', '--drain', '2'], { url, env: { IMGFLEET_ALIVE_FILE: aliveFile } });
    t.after(() => { worker.child.kill('SIGKILL'); });

    const alive = await cli(['health', '--worker'], { IMGFLEET_ALIVE_FILE: aliveFile });
    assert.equal(alive.status, 0, alive.stderr);
    assert.match(alive.stdout, /^worker checked alive \d+\.\d s ago: 0 running, 0 done, 0 failed, Redis connected\n$/);
    assert.equal((await cli(['health', '--worker', '--ready', '--alive-file', aliveFile])).status, 0);

    // Redis goes away: the worker is still alive (restarting it would not help), but not ready.
    redis.child.kill('SIGKILL');
    await redis.exited;
    await sleep(6000);
    const withoutRedis = await cli(['health', '--worker', '--alive-file', aliveFile]);
    assert.equal(withoutRedis.status, 0, withoutRedis.stderr);
    assert.match(withoutRedis.stdout, /Redis unreachable\n$/);
    const notReady = await cli(['health', '--worker', '--ready', '--alive-file', aliveFile]);
    assert.equal(notReady.status, 1);
    assert.equal(notReady.stderr, 'imgfleet: worker checked: alive, but its Redis is unreachable\n');

    // A stuck event loop (the process stopped) stops the file's rewrites.
    worker.child.kill('SIGSTOP');
    await sleep(7000);
    const stuck = await cli(['health', '--worker', '--alive-file', aliveFile, '--max-age', '6']);
    assert.equal(stuck.status, 1);
    assert.match(stuck.stderr, /^imgfleet: worker checked: last alive \d+ s ago \(more than 6 s\): stuck or gone\n$/);
    worker.child.kill('SIGCONT');

    // A worker that leaves takes its file with it.
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0, worker.output());
    assert.equal(existsSync(aliveFile), false);
    const gone = await cli(['health', '--worker', '--alive-file', aliveFile]);
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /no worker has written it/);
    assert.equal((await cli(['health', '--worker'], { IMGFLEET_ALIVE_FILE: '' })).status, 2, 'no file named: a usage error');
  });
});
