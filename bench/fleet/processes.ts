/**
 * The processes of a fleet benchmark on this machine, each in its own process group so that
 * nothing outlives a run: a private Redis, an S3-protocol store (s3rver over a temp folder),
 * `imgfleet worker`s or simulated ones, and their CPU time from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRedis } from '../../src/engine/redis/redis-link.js';
import { freePort } from '../../test/cluster-helpers.js';
import { cpuOf } from '../cluster.js';

export interface Started {
  child: ChildProcess;
  /** CPU seconds of the process (all its threads) so far. */
  cpu(): number;
  /** Seconds its main thread (a Node event loop, Redis' command loop) ran or waited to run: near the wall time, it is saturated. */
  demand(): number;
  stop(): Promise<void>;
}

/** Every process started here, so that an interrupted benchmark stops them all. */
const live = new Set<Started>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void Promise.all([...live].map((p) => p.stop())).finally(() => process.exit(130)));
}

/** Run time and run-queue wait of a process's main thread, from /proc/<pid>/task/<pid>/schedstat, in seconds. */
export function mainThreadDemand(pid: number): number {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ').map(Number);
    return (run + wait) / 1e9;
  } catch {
    return 0;
  }
}

export function started(child: ChildProcess, cleanup: () => void = () => {}): Started {
  const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
  const proc: Started = {
    child,
    cpu: () => cpuOf(child.pid!),
    demand: () => mainThreadDemand(child.pid!),
    async stop() {
      live.delete(proc);
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
      await exited;
      cleanup();
    },
  };
  live.add(proc);
  return proc;
}

/** Starts a process in its own group and waits until its output says `ready`. */
export async function startUntil(argv: string[], ready: string, env: NodeJS.ProcessEnv = {}, cleanup?: () => void): Promise<Started> {
  const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  child.stdout!.on('data', (d) => { output += d; });
  child.stderr!.on('data', (d) => { output += d; });
  const proc = started(child, cleanup);
  const deadline = Date.now() + 60_000;
  while (!output.includes(ready)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await proc.stop();
      throw new Error(`${argv.slice(0, 3).join(' ')} did not start: ${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return proc;
}

export async function startRedisServer(): Promise<Started & { url: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'imgfleet-fleet-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { detached: true, stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (!(await checkRedis(url, 500).then(() => true, () => false))) {
    if (Date.now() > deadline) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { ...started(child, () => rmSync(dir, { recursive: true, force: true })), url };
}

export async function startStore(root: string, buckets: string[]): Promise<Started & { endpoint: string; env: Record<string, string>; dir: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'imgfleet-fleet-s3-'));
  const script = join(root, 'test', 'fixtures', 's3-server.mjs');
  const proc = await startUntil([process.execPath, '--openssl-legacy-provider', script, '127.0.0.1', String(port), dir, ...buckets], 'ready', {},
    () => rmSync(dir, { recursive: true, force: true }));
  const endpoint = `http://127.0.0.1:${port}`;
  return { ...proc, endpoint, dir, env: { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: endpoint } };
}
