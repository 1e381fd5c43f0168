import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { LocalEngine } from '../src/engine/local/local-engine.js';
import { ClusterEngine } from '../src/engine/redis/cluster-engine.js';
import { clusterSettings } from '../src/engine/redis/cluster-settings.js';
import { buildServer } from '../src/server/app.js';
import { freePort, REDIS_URL, testPrefix } from './cluster-helpers.js';
import { BIN, type CliResult } from './helpers.js';

/** `imgfleet health …` in a process group of its own, ended as a group if the test ends first. */
function health(args: string[], t: { after: (fn: () => void) => void }): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, 'health', ...args], { detached: true, env: { ...process.env, CI: 'true' } });
  t.after(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function assertOneLine(text: string): void {
  assert.equal(text.trimEnd().split('\n').length, 1, `one line, got: ${text}`);
  assert.doesNotMatch(text, /\n\s+at /, 'no stack trace');
}

describe('imgfleet health', () => {
  it('exits 0 when a live server answers /healthz, and says what it answered', async (t) => {
    const engine = new LocalEngine({ threads: 1 });
    const app = await buildServer({ engine, token: 'secret' });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    t.after(async () => { await app.close(); await engine.close(); });

    const result = await health(['--url', url], t);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^${url.replace(/\./g, '\\.')}/healthz: 200 ok in \\d+ ms\\n$`));

    const ready = await health(['--url', url, '--ready'], t);
    assert.equal(ready.status, 0, ready.stderr);
    assert.match(ready.stdout, /\/readyz: 200 ready in \d+ ms/);
  });

  it('exits 1 with one clear line when nothing listens on the port', async (t) => {
    const port = await freePort();
    const result = await health(['--url', `http://127.0.0.1:${port}`], t);
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, `imgfleet: http://127.0.0.1:${port}/healthz: nothing is listening there (connection refused)\n`);
  });

  it('exits 1 when the server is not ready: a cluster without a live worker answers 503', async (t) => {
    const engine = await ClusterEngine.open({ settings: clusterSettings(REDIS_URL, { prefix: testPrefix(t) }) });
    const app = await buildServer({ engine });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    t.after(async () => { await app.close(); await engine.close(); });

    const alive = await health(['--url', url], t);
    assert.equal(alive.status, 0, alive.stderr);
    const ready = await health(['--url', url, '--ready'], t);
    assert.equal(ready.status, 1);
    assert.equal(ready.stderr, `imgfleet: ${url}/readyz answered 503: no live workers\n`);
  });

  it('exits 1 when a server takes the connection but never answers, after --timeout', async (t) => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => { sockets.push(socket); });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(() => { for (const s of sockets) s.destroy(); silent.close(); });
    const { port } = silent.address() as { port: number };

    const result = await health(['--url', `http://127.0.0.1:${port}/custom`, '--timeout', '0.5'], t);
    assert.equal(result.status, 1);
    assertOneLine(result.stderr);
    assert.equal(result.stderr, `imgfleet: http://127.0.0.1:${port}/custom: no answer within 0.5 s\n`);
  });

  it('exits 2 on a URL that is not one', async (t) => {
    const result = await health(['--url', 'localhost:8080'], t);
    assert.equal(result.status, 2);
    assertOneLine(result.stderr);
    assert.match(result.stderr, /^imgfleet: --url: expected an http\(s\) URL/);
  });
});
