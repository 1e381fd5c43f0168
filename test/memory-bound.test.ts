/**
 * Memory bounded by bytes, not by requests: `imgfleet serve` at its default settings, sent 40
 * uploads of 80 MB at once, stays under 1 GiB resident, answers every one of them, and answers
 * /healthz throughout.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { waitFor } from './cluster-helpers.js';
import { BIN, tempDir } from './helpers.js';

const UPLOADS = 40;
const UPLOAD_BYTES = 80 * 1000 * 1000;
const CHUNK = Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 2654435761) >>> 24));

/** Peak and current resident memory of a process, in MiB, from /proc. */
function residentMiB(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { peak: kib('VmHWM') / 1024, now: kib('VmRSS') / 1024 };
}

/** One upload of `bytes` generated as it is sent; resolves with the status the server answered, or the error if it never did. */
function upload(url: string, bytes: number): Promise<number | string> {
  return new Promise((resolve) => {
    let answered = false;
    const req = request(`${url}/v1/process?pipeline=negate`, {
      method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': bytes },
    }, (response) => {
      answered = true;
      response.resume();
      response.on('end', () => resolve(response.statusCode!));
      response.on('error', () => resolve(response.statusCode!));
      req.destroy();
    });
    req.on('error', (error) => { if (!answered) resolve(error.message); });
    let sent = 0;
    const pump = () => {
      while (sent < bytes && !answered) {
        const size = Math.min(CHUNK.length, bytes - sent);
        sent += size;
        if (!req.write(size === CHUNK.length ? CHUNK : CHUNK.subarray(0, size))) return void req.once('drain', pump);
      }
      if (sent >= bytes) req.end();
    };
    pump();
  });
}

describe('memory bounded by bytes', () => {
  it(`${UPLOADS} concurrent uploads of 80 MB: serve stays under 1 GiB resident, answers each, and /healthz throughout`, async (t) => {
    const dir = tempDir(t);
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', join(dir, 'data'), '--cache-dir', join(dir, 'cache')], {
      env: { ...process.env, CI: 'true' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    t.after(async () => {
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone already */ }
      await exited;
    });
    let output = '';
    child.stdout!.on('data', (d) => { output += d; });
    child.stderr!.on('data', (d) => { output += d; });
    await waitFor(() => /serving on (http:\/\/\S+)/.test(output), 20_000, 'the server to start');
    const url = /serving on (http:\/\/\S+)/.exec(output)![1];
    const before = residentMiB(child.pid!);

    let uploading = true;
    const health: number[] = [];
    const healthFailures: string[] = [];
    const watch = (async () => {
      while (uploading) {
        const started = performance.now();
        try {
          const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) });
          if (response.status !== 200) healthFailures.push(String(response.status));
          await response.arrayBuffer();
        } catch (error) {
          healthFailures.push((error as Error).message);
        }
        health.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    const started = performance.now();
    // Each client does what 429 and Retry-After ask: it comes back a second later.
    const firstAnswers: (number | string)[] = [];
    const statuses = await Promise.all(Array.from({ length: UPLOADS }, async () => {
      let status = await upload(url, UPLOAD_BYTES);
      firstAnswers.push(status);
      for (let attempt = 0; status === 429 && attempt < 120; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        status = await upload(url, UPLOAD_BYTES);
      }
      return status;
    }));
    uploading = false;
    await watch;
    const seconds = (performance.now() - started) / 1000;
    const after = residentMiB(child.pid!);
    const tally = (list: (number | string)[]) => list.reduce<Record<string, number>>((all, s) => ({ ...all, [s]: (all[s] ?? 0) + 1 }), {});
    t.diagnostic(`${UPLOADS} × 80 MB in ${seconds.toFixed(1)} s: first answers ${JSON.stringify(tally(firstAnswers))}, last ${JSON.stringify(tally(statuses))}; `
      + `resident ${before.now.toFixed(0)} MiB before, peak ${after.peak.toFixed(0)} MiB; /healthz ${health.length} times, slowest ${Math.max(...health).toFixed(0)} ms`);

    assert.ok(after.peak < 1024, `peak resident memory ${after.peak.toFixed(0)} MiB`);
    // At first those that fit the budget were read, the rest told to come back before their bodies were read…
    assert.ok(firstAnswers.every((s) => s === 415 || s === 429), `every upload answered: ${JSON.stringify(tally(firstAnswers))}`);
    assert.ok(firstAnswers.includes(429) && firstAnswers.includes(415), JSON.stringify(tally(firstAnswers)));
    // …and coming back, every one was read in the end (and found not to be an image).
    assert.ok(statuses.every((s) => s === 415), JSON.stringify(tally(statuses)));
    assert.deepEqual(healthFailures, [], '/healthz answered throughout');
    assert.ok(health.length >= 2);
  });
});
