import { Agent, request } from 'node:http';
import { URL } from 'node:url';

export interface LoadTestOptions {
  /** Server base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  clients: number;
  requestsPerClient: number;
  image: Buffer;
  token?: string;
  /** Called after each request, for a progress bar. */
  onRequest?: (done: number, total: number) => void;
}

export interface LoadTestResult {
  clients: number;
  requests: number;
  ok: number;
  errors: number;
  /** The first few distinct failures, for the report. */
  errorSamples: string[];
  wallS: number;
  /** CPU seconds this client process used. */
  clientCpuS: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number; mean: number };
}

/**
 * N clients, each sending M `POST /v1/histogram` requests one after another over its own
 * keep-alive connection, as the old broker's `run_100` did. A response counts as good only
 * if it is a 200 whose histogram adds up to the image's pixel count.
 */
export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestResult> {
  const target = new URL('/v1/histogram', options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.clients });
  const headers: Record<string, string | number> = { 'content-type': 'image/png', 'content-length': options.image.length };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const total = options.clients * options.requestsPerClient;
  const latencies: number[] = [];
  const errorSamples = new Set<string>();
  let errors = 0;
  let done = 0;

  const one = () => new Promise<void>((resolve) => {
    const started = performance.now();
    const fail = (why: string) => {
      errors++;
      if (errorSamples.size < 5) errorSamples.add(why);
    };
    const req = request(target, { method: 'POST', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        latencies.push(performance.now() - started);
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) fail(`HTTP ${res.statusCode}: ${body.slice(0, 200)}`);
        else if (!histogramAddsUp(body)) fail(`a histogram that does not add up: ${body.slice(0, 120)}`);
        resolve();
      });
      res.on('error', (error) => { fail(error.message); resolve(); });
    });
    req.on('error', (error) => { fail(error.message); resolve(); });
    req.end(options.image);
  });

  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(Array.from({ length: options.clients }, async () => {
    for (let i = 0; i < options.requestsPerClient; i++) {
      await one();
      options.onRequest?.(++done, total);
    }
  }));
  const wallS = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    clients: options.clients, requests: total, ok: total - errors, errors, errorSamples: [...errorSamples],
    wallS: Math.round(wallS * 1000) / 1000,
    clientCpuS: Math.round((cpu.user + cpu.system) / 1000) / 1000,
    requestsPerSecond: Math.round((total / wallS) * 10) / 10,
    latencyMs: {
      p50: round(at(0.5)), p95: round(at(0.95)), p99: round(at(0.99)), max: round(latencies.at(-1) ?? 0),
      mean: round(latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length)),
    },
  };
}

function histogramAddsUp(body: string): boolean {
  try {
    const { width, height, channels } = JSON.parse(body) as { width: number; height: number; channels: Record<string, number[]> };
    return Object.values(channels).every((counts) => counts.reduce((a, b) => a + b, 0) === width * height);
  } catch {
    return false;
  }
}
