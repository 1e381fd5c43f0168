/**
 * W4-histogram: the old ZeroMQ broker's load test (100 clients × 100 requests, each a 512×512
 * PNG of random pixels → its histogram), on `imgfleet serve` and, in the same run, on a
 * ZeroMQ broker in Python like the one imgfleet replaces.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomPng } from '../src/loadtest/random-png.js';
import type { LoadTestResult } from '../src/loadtest/run-loadtest.js';
import { cpuOf, peakRssOf, startBenchCluster } from './cluster.js';
import { startServe } from './serve-process.js';

/** The figure the old broker's own `run_100` reported on this 2-core machine: 10,000 requests in 38.1 s. */
export const OLD_BROKER_REPORTED = { requests: 10_000, wallS: 38.1, requestsPerSecond: 262 };

export interface LoadMeasurement {
  workload: 'W4-histogram';
  variant: string;
  clients: number;
  requests: number;
  errors: number;
  wallS: number;
  requestsPerSecond: number;
  latencyMs: LoadTestResult['latencyMs'];
  /** CPU of everything (server, workers, Redis, clients; for the broker: all its processes) per request. */
  cpuMsPerRequest?: number;
  serverPeakRssMiB?: number;
}

export async function histogramLoad(root: string, work: string, clients: number, perClient: number, cores: number): Promise<LoadMeasurement[]> {
  const bin = join(root, 'bin', 'imgfleet.js');
  const image = join(work, 'random-512.png');
  writeFileSync(image, await randomPng());
  const results: LoadMeasurement[] = [];
  const loadtest = (url: string) => {
    const client = spawnSync(process.execPath, [bin, 'loadtest', '--url', url, '--clients', String(clients), '--requests', String(perClient), '--image', image, '--json'], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    if (!client.stdout) throw new Error(`loadtest failed: ${client.stderr}`);
    return JSON.parse(client.stdout) as LoadTestResult;
  };

  const serve = async (variant: string, extra: string[], others: () => number = () => 0) => {
    const server = await startServe(bin, extra);
    const { url, pid } = server;
    // Warm up: threads started, code compiled.
    loadtest(url);
    const cpuBefore = cpuOf(pid) + others();
    const r = loadtest(url);
    const serverCpu = cpuOf(pid) + others() - cpuBefore;
    const peak = peakRssOf(pid);
    await server.stop();
    results.push({
      workload: 'W4-histogram', variant, clients, requests: r.requests, errors: r.errors, wallS: r.wallS, requestsPerSecond: r.requestsPerSecond,
      latencyMs: r.latencyMs, cpuMsPerRequest: ((serverCpu + r.clientCpuS) * 1000) / r.requests, serverPeakRssMiB: peak,
    });
  };

  await serve(`imgfleet serve (local pool, ${cores} threads)`, []);
  if (spawnSync('sh', ['-c', 'command -v redis-server']).status === 0) {
    const cluster = await startBenchCluster(bin, 2, 1);
    await serve('imgfleet serve --redis (2 workers × 1 thread)', ['--redis', cluster.url], () => cluster.cpuSeconds());
    await cluster.stop();
  }
  if (spawnSync('/usr/bin/python3', ['-c', 'import zmq, PIL']).status === 0) {
    const script = join(root, 'bench', 'baselines', 'zmq_histogram.py');
    const r = JSON.parse(execFileSync('/usr/bin/python3', [script, image, String(clients), String(perClient), String(cores)], { encoding: 'utf8' })) as LoadTestResult & { cpuS: number };
    results.push({
      workload: 'W4-histogram', variant: `ZeroMQ broker, Python + Pillow (${cores} workers)`, clients, requests: r.requests, errors: r.errors,
      wallS: r.wallS, requestsPerSecond: r.requestsPerSecond, latencyMs: r.latencyMs, cpuMsPerRequest: (r.cpuS * 1000) / r.requests,
    });
  }
  return results;
}
