import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { readEnvironment } from '../src/config.js';
import { S3Client } from '../src/sources/s3/s3-client.js';
import { s3Settings } from '../src/sources/s3/s3-settings.js';
import { freePort, smallJpegs, waitFor } from './cluster-helpers.js';
import { ROOT } from './helpers.js';

/** The credentials the test server accepts. */
export const S3_KEYS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

export interface TestS3 {
  endpoint: string;
  /** The environment a command needs to use it. */
  env: Record<string, string>;
  client: S3Client;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * A real S3-protocol server (s3rver) as a child process in its own process group, on a free port,
 * with its files in a temporary folder; stopped (the group killed, the folder removed) when the
 * test ends, whether it passed or not.
 */
export async function startS3(t: { after: (fn: () => Promise<void>) => void }, buckets: string[], options: { host?: string; command?: string[] } = {}): Promise<TestS3> {
  const host = options.host ?? '127.0.0.1';
  const port = options.host ? 9000 : await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'imgfleet-s3-'));
  // s3rver makes its continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.
  const argv = [...(options.command ?? []), process.execPath, '--openssl-legacy-provider', join(ROOT, 'test', 'fixtures', 's3-server.mjs'), host, String(port), dir, ...buckets];
  const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => { output += d; });
  child.stderr!.on('data', (d) => { output += d; });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const endpoint = `http://${host}:${port}`;
  const env = { ...S3_KEYS, AWS_ENDPOINT_URL_S3: endpoint };
  const client = new S3Client(s3Settings(readEnvironment(env, false)));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    client.close();
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  t.after(stop);
  await waitFor(() => output.includes('ready') || child.exitCode !== null, 20_000, 'the S3 server to start');
  if (child.exitCode !== null) throw new Error(`the S3 server exited: ${output}`);
  return { endpoint, env, client, child, stop };
}

export interface RecordingProxy {
  endpoint: string;
  /** Every request that passed, as `METHOD /path?query`. */
  requests: string[];
}

/**
 * An HTTP proxy in front of the test store that notes every request it passes on. The Host
 * header goes through unchanged, so SigV4 signatures still hold.
 */
export async function recordingProxy(t: { after: (fn: () => Promise<void>) => void }, target: string): Promise<RecordingProxy> {
  const { hostname, port } = new URL(target);
  const requests: string[] = [];
  const server = createServer((incoming, answer) => {
    requests.push(`${incoming.method} ${incoming.url}`);
    const forward = httpRequest({ host: hostname, port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (response) => {
      answer.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(answer);
    });
    forward.on('error', () => answer.destroy());
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return { endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests };
}

/** `count` small distinct JPEGs uploaded under a prefix; their names. */
export async function uploadJpegs(s3: TestS3, dir: string, bucket: string, prefix: string, count: number): Promise<string[]> {
  const folder = await smallJpegs(dir, count);
  const names = Array.from({ length: count }, (_, i) => `${String(i).padStart(4, '0')}.jpg`);
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < names.length) {
      const name = names[next++];
      await s3.client.put({ bucket, key: `${prefix}${name}` }, readFileSync(join(folder, name)));
    }
  }));
  return names;
}

/** Every key under a prefix once, each a JPEG of the given size. */
export async function assertObjectOutputs(s3: TestS3, bucket: string, prefix: string, names: string[], size: number): Promise<void> {
  const keys: string[] = [];
  for await (const page of s3.client.list({ bucket, prefix })) keys.push(...page.map((o) => o.key));
  assert.deepEqual(keys.sort(), names.map((n) => `${prefix}${n}`).sort(), 'every output key exactly once, and nothing else');
  for (const key of keys) {
    const meta = await sharp((await s3.client.get({ bucket, key }, 1 << 20)).body).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', size, size], key);
  }
}

