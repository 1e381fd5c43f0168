import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FAST_CLUSTER_ENV, REDIS_URL, startWorker, testPrefix, waitFor } from './cluster-helpers.js';
import { BIN, tempDir } from './helpers.js';
import { assertObjectOutputs, recordingProxy, startS3, uploadJpegs } from './s3-helpers.js';

interface FleetRun {
  status: number | null;
  stderr: string;
  report: { summary: { done: number; failed: number }; items: { status: string; worker?: string; output?: string }[] };
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
    const names = await uploadJpegs(s3, dir, 'fleet', 'in/', 120);
    const prefix = testPrefix(t);
    const slow = ['-c', '1', '--delay-rate', '1', '--delay-ms', '40', '--s3-root', 's3://fleet/in/', '--s3-root', 's3://fleet/out/'];
    const workers = await Promise.all(['s1', 's2'].map((name) => startWorker(prefix, name, slow, { env: s3.env })));
    t.after(async () => { for (const w of workers) { w.child.kill('SIGKILL'); await w.exited; } });
    // The submitter talks to the store through a proxy that notes every request it makes.
    const proxy = await recordingProxy(t, s3.endpoint);
    const running = submitObjects(prefix, { ...s3.env, AWS_ENDPOINT_URL_S3: proxy.endpoint }, ['s3://fleet/in/', '-o', 's3://fleet/out/', '-p', 'resize:48:48:fit=fill,output:jpeg'], dir);
    await waitFor(async () => {
      let count = 0;
      for await (const page of s3.client.list({ bucket: 'fleet', prefix: 'out/' })) count += page.length;
      return count >= 25;
    }, 60_000, '25 outputs');
    workers[0].child.kill('SIGKILL');
    const result = await running;
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual([result.report.summary.done, result.report.summary.failed], [120, 0]);
    await assertObjectOutputs(s3, 'fleet', 'out/', names, 48);
    const byWorker = new Set(result.report.items.map((i) => i.worker));
    assert.ok(byWorker.has('s1') && byWorker.has('s2'), [...byWorker].join());
    assert.ok(proxy.requests.length > 0 && proxy.requests.every((r) => /^GET \/fleet\/\?.*list-type=2/.test(r)), `the submitter only listed: ${proxy.requests.join(', ')}`);
  });
});
