/**
 * W4-histogram: the old ZeroMQ broker's load test (100 clients × 100 requests, each a 512×512
 * PNG of random pixels → its histogram), on `imgfleet serve` and, in the same run, on a
 * ZeroMQ broker in Python like the one imgfleet replaces; for each kind of test image: the
 * old broker's own (grey levels saved by Pillow), an RGB one saved by Pillow, and an RGB one
 * saved by sharp (whose rows carry no PNG filter, so it decodes cheaply).
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
  /** The kind of test image. */
  image: string;
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

export interface TestImage {
  name: string;
  path: string;
}

/** The test images: Pillow's need Debian's python3-pil and python3-numpy, and are left out without them. */
export async function testImages(work: string): Promise<TestImage[]> {
  const images: TestImage[] = [];
  for (const [kind, name] of [['grey', 'grey, saved by Pillow (the old broker\'s own)'], ['rgb', 'RGB, saved by Pillow']]) {
    const path = join(work, `random-512-${kind}-pillow.png`);
    const made = spawnSync('/usr/bin/python3', [new URL('../../bench/pil_random_png.py', import.meta.url).pathname, kind, path]);
    if (made.status === 0) images.push({ name, path });
    else console.log(`W4-histogram: no ${name} image (${made.stderr.toString().trim().split('\n').pop()})`);
  }
  const sharpWritten = join(work, 'random-512-rgb-sharp.png');
  writeFileSync(sharpWritten, await randomPng());
  images.push({ name: 'RGB, saved by sharp', path: sharpWritten });
  return images;
}

export async function histogramLoad(root: string, images: TestImage[], clients: number, perClient: number, cores: number): Promise<LoadMeasurement[]> {
  const bin = join(root, 'bin', 'imgfleet.js');
  const results: LoadMeasurement[] = [];
  const loadtest = (url: string, image: string, requests: number) => {
    const client = spawnSync(process.execPath, [bin, 'loadtest', '--url', url, '--clients', String(clients), '--requests', String(requests), '--image', image, '--json'], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    if (!client.stdout) throw new Error(`loadtest failed: ${client.stderr}`);
    return JSON.parse(client.stdout) as LoadTestResult;
  };

  const serve = async (image: TestImage, variant: string, extra: string[], others: () => number = () => 0) => {
    const server = await startServe(bin, extra);
    const { url, pid } = server;
    // Warm up: threads started, code compiled, every client's connection open.
    loadtest(url, image.path, Math.min(perClient, 5));
    const cpuBefore = cpuOf(pid) + others();
    const r = loadtest(url, image.path, perClient);
    const serverCpu = cpuOf(pid) + others() - cpuBefore;
    const peak = peakRssOf(pid);
    await server.stop();
    results.push({
      workload: 'W4-histogram', image: image.name, variant, clients, requests: r.requests, errors: r.errors, wallS: r.wallS, requestsPerSecond: r.requestsPerSecond,
      latencyMs: r.latencyMs, cpuMsPerRequest: ((serverCpu + r.clientCpuS) * 1000) / r.requests, serverPeakRssMiB: peak,
    });
  };

  const broker = spawnSync('/usr/bin/python3', ['-c', 'import zmq, PIL']).status === 0;
  const redis = spawnSync('sh', ['-c', 'command -v redis-server']).status === 0;
  for (const image of images) {
    await serve(image, `imgfleet serve (local pool, ${cores} threads)`, []);
    if (broker) {
      const script = join(root, 'bench', 'baselines', 'zmq_histogram.py');
      const r = JSON.parse(execFileSync('/usr/bin/python3', [script, image.path, String(clients), String(perClient), String(cores)], { encoding: 'utf8' })) as LoadTestResult & { cpuS: number };
      results.push({
        workload: 'W4-histogram', image: image.name, variant: `ZeroMQ broker, Python + Pillow (${cores} workers)`, clients, requests: r.requests, errors: r.errors,
        wallS: r.wallS, requestsPerSecond: r.requestsPerSecond, latencyMs: r.latencyMs, cpuMsPerRequest: (r.cpuS * 1000) / r.requests,
      });
    }
    if (redis) {
      const cluster = await startBenchCluster(bin, 2, 1);
      await serve(image, 'imgfleet serve --redis (2 workers × 1 thread)', ['--redis', cluster.url], () => cluster.cpuSeconds());
      await cluster.stop();
    }
    for (const m of results.filter((x) => x.image === image.name)) {
      console.log(`W4-histogram  ${image.name.slice(0, 24).padEnd(24)} ${m.variant.padEnd(48)} ${m.requestsPerSecond.toFixed(1).padStart(7)} req/s  p99 ${m.latencyMs.p99} ms  ${m.errors} errors`);
    }
  }
  return results;
}
