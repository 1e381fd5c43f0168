/**
 * A throwaway cluster on this machine for the benchmark: a private redis-server on a free
 * port (so its peak memory belongs to one batch) and N `imgfleet worker` processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { checkRedis } from '../src/engine/redis/redis-link.js';
import { freePort } from '../test/cluster-helpers.js';

export interface BenchCluster {
  url: string;
  /** CPU seconds used so far by Redis and the workers. */
  cpuSeconds(): number;
  redisPeakMiB(): Promise<number>;
  /** Peak resident memory of each worker process so far. */
  workerPeakRssMiB(): number[];
  stop(): Promise<void>;
}

export async function startBenchCluster(bin: string, workers: number, threadsEach: number): Promise<BenchCluster> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'imgfleet-bench-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  const children: ChildProcess[] = [spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' })];
  await until(() => checkRedis(url, 500).then(() => true, () => false));
  for (let i = 0; i < workers; i++) {
    const child = spawn(process.execPath, [bin, 'worker', '--redis', url, '-c', String(threadsEach), '--name', `bench-${i + 1}`, '--shared-fs-root', join(bin, '..', '..', 'bench')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    children.push(child);
    await until(async () => out.includes('joined'));
  }
  return {
    url,
    cpuSeconds: () => children.reduce((sum, c) => sum + cpuOf(c.pid!), 0),
    workerPeakRssMiB: () => children.slice(1).map((c) => peakRssOf(c.pid!)),
    async redisPeakMiB() {
      const redis = new Redis(url);
      const info = await redis.info('memory');
      redis.disconnect();
      return Number(/used_memory_peak:(\d+)/.exec(info)?.[1] ?? 0) / 1024 / 1024;
    },
    async stop() {
      for (const child of children.reverse()) {
        child.kill('SIGTERM');
        await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** VmHWM of a live process, from /proc, in MiB. */
export function peakRssOf(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** utime + stime of a live process, from /proc, in seconds. */
export function cpuOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('the benchmark cluster did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
}
