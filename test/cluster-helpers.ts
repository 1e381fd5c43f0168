import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { QUEUE_NAME } from '../src/engine/redis/cluster-settings.js';
import { checkRedis } from '../src/engine/redis/redis-link.js';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { randomUUID } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { BIN, photo } from './helpers.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Short lock and heartbeat times, so that dead workers are noticed within seconds in tests. */
export const FAST_CLUSTER_ENV = { IMGFLEET_LOCK_MS: '2000', IMGFLEET_STALLED_MS: '1000', IMGFLEET_HEARTBEAT_MS: '500' };

/** A unique key prefix for one test, and a function that deletes every key under it. */
export function testPrefix(t: { after: (fn: () => Promise<void>) => void }, url = REDIS_URL): string {
  const prefix = `test-${randomUUID()}`;
  t.after(() => deleteKeys(url, prefix));
  return prefix;
}

export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } catch {
    // a test that stopped its own Redis has nothing left to clean
  } finally {
    redis.disconnect();
  }
}

export interface WorkerProcess {
  child: ChildProcess;
  name: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Workers started here that have not exited: their process groups end with this test file's process, whatever a test left running. */
const liveWorkers = new Set<ChildProcess>();
let endingWorkersOnExit = false;

/** Set up with the first worker, so that a benchmark borrowing other helpers keeps its own signal handling. */
function endWorkersOnExit(): void {
  if (endingWorkersOnExit) return;
  endingWorkersOnExit = true;
  process.once('exit', () => {
    for (const child of liveWorkers) {
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
    }
  });
  // The test runner ends a file that runs past its time with SIGTERM, which would skip 'exit'.
  process.once('SIGTERM', () => process.exit(143));
}

/** Starts `imgfleet worker` in its own process group and waits until it has joined. */
export async function startWorker(prefix: string, name: string, args: string[] = [], options: { url?: string; command?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<WorkerProcess> {
  const url = options.url ?? REDIS_URL;
  const argv = [...(options.command ?? []), process.execPath, BIN, 'worker', '--redis', url, '--name', name, ...args];
  endWorkersOnExit();
  const child = spawn(argv[0], argv.slice(1), { detached: true, env: { ...process.env, ...FAST_CLUSTER_ENV, IMGFLEET_PREFIX: prefix, CI: 'true', ...options.env } });
  liveWorkers.add(child);
  child.on('exit', () => liveWorkers.delete(child));
  let output = '';
  child.stdout!.on('data', (d) => { output += d; });
  child.stderr!.on('data', (d) => { output += d; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waitFor(() => output.includes('joined') || child.exitCode !== null, 20_000, `worker ${name} to join`);
  if (child.exitCode !== null) throw new Error(`worker ${name} exited: ${output}`);
  return { child, name, output: () => output, exited };
}

/** Whether the named worker holds a job now: an active job whose lock is live and which it took (BullMQ's `pb` field). */
export async function holdsJob(prefix: string, worker: string, url = REDIS_URL): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    const queue = `${prefix}:${QUEUE_NAME}`;
    for (const id of await redis.lrange(`${queue}:active`, 0, -1)) {
      const [takenBy, lock] = await Promise.all([redis.hget(`${queue}:${id}`, 'pb'), redis.exists(`${queue}:${id}:lock`)]);
      if (takenBy === worker && lock === 1) return true;
    }
    return false;
  } finally {
    redis.disconnect();
  }
}

/** A private redis-server as a child process (in its own process group), for tests that stop or break Redis. */
export function startRedis(args: string[], command: string[] = []): { child: ChildProcess; exited: Promise<void> } {
  const argv = [...command, 'redis-server', ...args];
  const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
  return { child, exited: new Promise((resolve) => child.on('exit', () => resolve())) };
}

export async function waitForRedis(url: string, password?: string): Promise<void> {
  const withPassword = password ? url.replace('redis://', `redis://:${password}@`) : url;
  await waitFor(() => checkRedis(withPassword, 500).then(() => true, () => false), 10_000, `redis at ${url}`);
}

export const haveRedisServer = (() => {
  try { execFileSync('redis-server', ['--version']); return true; } catch { return false; }
})();

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A proxy to the test's Redis that, when a client sends `command` (a pattern), cuts that connection and
 * closes every later one as soon as it opens, as a load balancer before a Redis that just died.
 */
export async function droppingProxy(t: { after: (fn: () => void) => void }, command: string): Promise<{ url: string; dropped: () => boolean }> {
  const target = new URL(REDIS_URL);
  const asked = new RegExp(`\\r\\n${command}\\r\\n`, 'i');
  let dropped = false;
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    sockets.add(client);
    if (dropped) { client.destroy(); return; }
    const upstream = connect(Number(target.port || 6379), target.hostname);
    sockets.add(upstream);
    client.on('data', (chunk: Buffer) => {
      if (!asked.test(chunk.toString('latin1'))) { upstream.write(chunk); return; }
      dropped = true;
      client.destroy();
      upstream.destroy();
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    for (const [a, b] of [[client, upstream], [upstream, client]]) {
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.after(() => { for (const socket of sockets) socket.destroy(); proxy.close(); });
  return { url: `redis://127.0.0.1:${(proxy.address() as AddressInfo).port}`, dropped: () => dropped };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** `count` small, distinct JPEGs. */
export async function smallJpegs(dir: string, count: number): Promise<string> {
  const folder = join(dir, 'in');
  mkdirSync(folder, { recursive: true });
  const base = await sharp(photo('coffee.png')).resize(96, 64).raw().toBuffer();
  await Promise.all(Array.from({ length: count }, (_, i) => {
    const pixels = Buffer.from(base);
    pixels[0] = i & 255; pixels[1] = i >> 8;
    return sharp(pixels, { raw: { width: 96, height: 64, channels: 3 } }).jpeg().toFile(join(folder, `${String(i).padStart(4, '0')}.jpg`));
  }));
  return folder;
}

interface Submitted {
  status: number | null;
  stdout: string;
  stderr: string;
  report: { summary: { done: number; failed: number }; items: { status: string; worker?: string; attempts?: number; error?: { code: string } }[] };
}

/** Runs `imgfleet run --redis` as a user would, and reads its report. */
export function submit(prefix: string, input: string, out: string, pipeline: string, url = REDIS_URL, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Submitted> & { child: ChildProcess } {
  const report = out.startsWith('s3://') ? join(tmpdir(), `imgfleet-report-${randomUUID()}.json`) : join(out, '..', `report-${Date.now()}.json`);
  const child = spawn(process.execPath, [BIN, 'run', input, '-o', out, '-p', pipeline, '--redis', url, '--report', report, ...extra],
    { env: { ...process.env, ...FAST_CLUSTER_ENV, ...env, IMGFLEET_PREFIX: prefix, CI: 'true' } });
  const done = new Promise<Submitted>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('exit', (status) => {
      try {
        resolve({ status, stdout, stderr, report: JSON.parse(readFileSync(report, 'utf8')) });
      } catch (error) {
        reject(new Error(`no report (exit ${status}): ${stderr}`, { cause: error }));
      }
    });
  });
  return Object.assign(done, { child });
}

export async function assertAllOutputs(out: string, count: number): Promise<void> {
  const files = readdirSync(out).sort();
  assert.equal(files.length, count, 'every image exactly once, no temporary files');
  for (const file of files) {
    const meta = await sharp(join(out, file)).metadata();
    assert.equal(meta.format, 'jpeg', file);
  }
}

