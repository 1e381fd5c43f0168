import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { waitFor } from './cluster-helpers.js';
import { LocalEngine } from '../src/engine/local/local-engine.js';
import { buildServer } from '../src/server/app.js';
import { BIN, cli, photo, tempDir } from './helpers.js';

describe('imgfleet serve', () => {
  it('refuses to serve beyond loopback without a token unless --no-auth is given', async () => {
    const result = await cli(['serve', '--host', '0.0.0.0', '--port', '0']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /serving on 0\.0\.0\.0 without a token: set --token \(or IMGFLEET_TOKEN\), or pass --no-auth/);
  });

  it('refuses image URL keys shorter than 32 bytes', async () => {
    const result = await cli(['serve', '--port', '0'], { IMGFLEET_KEY: 'k1' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /IMGFLEET_KEY: a key is shorter than 32 bytes; make one with: openssl rand -hex 32/);
  });

  it('serves the API (its token read from a file), and on SIGTERM finishes the request in flight before exiting 0', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'token'), 'tok\n', { mode: 0o600 });
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--token-file', join(dir, 'token'), '--log', '--cache-dir', join(dir, 'cache')], { env: { ...process.env, CI: 'true' } });
    t.after(() => child.kill('SIGKILL'));
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor(() => /serving on (http:\/\/\S+)/.test(output), 15_000, 'the server to start');
    const url = /serving on (http:\/\/\S+)/.exec(output)![1];
    assert.match(output, /token required/);
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);

    // A slow request (a big blur on a 2.4 MP photo) is in flight when SIGTERM arrives.
    const inFlight = fetch(`${url}/v1/process?pipeline=${encodeURIComponent('blur:40,output:png')}`, {
      method: 'POST', body: new Uint8Array(readFileSync(photo('Dune.jpg'))), headers: { 'content-type': 'image/jpeg', authorization: 'Bearer tok' },
    });
    // Once the server has taken the request, SIGTERM must let it finish.
    await waitFor(() => /"url":"\/v1\/process/.test(output), 15_000, 'the request to reach the server');
    child.kill('SIGTERM');
    const response = await inFlight;
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'image/png');
    assert.equal(await exited, 0);
    assert.match(output, /SIGTERM: finishing requests in flight/);
  });

  it('imgfleet loadtest: N clients × M histogram requests against a server, counting only right answers', async (t) => {
    const engine = new LocalEngine({ threads: 2 });
    const app = await buildServer({ engine, token: 'tok' });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    t.after(async () => { await app.close(); await engine.close(); });
    const good = await cli(['loadtest', '--url', url, '--clients', '3', '--requests', '2', '--token', 'tok', '--json']);
    assert.equal(good.status, 0, good.stderr);
    const result = JSON.parse(good.stdout);
    assert.deepEqual([result.clients, result.requests, result.ok, result.errors], [3, 6, 6, 0]);
    assert.ok(result.latencyMs.p50 > 0 && result.latencyMs.p50 <= result.latencyMs.p99);
    const refused = await cli(['loadtest', '--url', url, '--clients', '2', '--requests', '1', '--token', 'wrong']);
    assert.equal(refused.status, 1);
    assert.match(refused.stdout, /2 requests from 2 clients in [\d.]+ s: [\d.]+ req\/s, 2 errors/);
    assert.match(refused.stderr, /error: HTTP 401/);
  });
});
