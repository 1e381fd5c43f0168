/**
 * The on-request workload of `npm run bench -- --only on-request`: camera photos (3–12 MP) sent
 * to a server one request each, made 512 px JPEG, WebP, PNG and AVIF as an image server makes
 * them on the fly, from 2 clients (a latency-bound server) and from 8 (a busy one). `imgfleet
 * serve` (`POST /v1/process`, its result cache in a fresh folder for each cell, so every request
 * computes) beside the server a Node user writes with plain sharp (baselines/sharp_server.mjs,
 * its defaults), one format after another, the two in turn. Each
 * response is checked: status 200, the format asked for, a side of 512 px. Writes
 * bench/results/on-request.{json,md}.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { closedLoop, latencyAt } from './closed-loop.js';
import { cpuOf } from './cluster.js';
import { startServe, startServer, type ServeProcess } from './serve-process.js';

export interface OnRequestOptions {
  photos: string;
  count: number;
  /** One cell per count of clients and format. */
  clients: number[];
  command: string;
}

const FORMATS = ['jpeg', 'webp', 'png', 'avif'] as const;
type Format = (typeof FORMATS)[number];
const SIDE = 512;

interface Server {
  id: 'imgfleet' | 'sharp';
  label: string;
  /** `cacheDir`: a folder of its own for the cell, for a server that keeps results. */
  start: (cacheDir: string) => Promise<ServeProcess>;
  path: (format: Format) => string;
}

interface Cell {
  server: Server['id'];
  clients: number;
  format: Format;
  requests: number;
  errors: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number };
  /** The server process's CPU (all its threads) per request. */
  cpuMsPerRequest: number;
  meanBytes: number;
}

export async function runOnRequestWorkload(root: string, options: OnRequestOptions): Promise<void> {
  const names = readdirSync(options.photos).filter((f) => f.endsWith('.jpg')).sort().slice(0, options.count);
  const bodies = names.map((name) => {
    const file = readFileSync(join(options.photos, name));
    return file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer;
  });
  const servers: Server[] = [
    {
      id: 'imgfleet', label: '`imgfleet serve` (local pool), `POST /v1/process`',
      start: (cacheDir) => startServe(join(root, 'bin', 'imgfleet.js'), ['--cache-dir', cacheDir]),
      path: (format) => `/v1/process?pipeline=resize:${SIDE}:${SIDE},output:${format}`,
    },
    {
      id: 'sharp', label: 'plain sharp behind `node:http` (its defaults)',
      start: () => startServer([join(root, 'bench', 'baselines', 'sharp_server.mjs')], /listening on (http:\/\/\S+)/),
      path: (format) => `/?format=${format}`,
    },
  ];
  const work = mkdtempSync(join(tmpdir(), 'imgfleet-on-request-'));
  const load = [loadavg()[0]];
  const cells: Cell[] = [];
  try {
    let turn = 0;
    for (const clients of options.clients) {
      for (const format of FORMATS) {
        for (const server of turn++ % 2 === 0 ? servers : [...servers].reverse()) {
          const running = await server.start(join(work, `cache-${clients}-${format}`));
          try {
            const cell = await sendAll(running, server, format, bodies, clients);
            cells.push(cell);
            console.log(`on-request  ${String(clients).padStart(2)} clients  ${format.padEnd(5)} ${server.id.padEnd(9)} ${cell.requestsPerSecond.toFixed(1).padStart(6)} req/s  p99 ${cell.latencyMs.p99} ms  ${cell.cpuMsPerRequest.toFixed(0)} CPU ms/req  ${cell.errors} errors`);
          } finally {
            await running.stop();
          }
        }
      }
    }
    load.push(loadavg()[0]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const results = {
    date: new Date().toISOString(), command: options.command, machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    loadAverage: load, photos: names.length, side: SIDE, servers: servers.map(({ id, label }) => ({ id, label })), cells,
  };
  const dir = join(root, 'bench', 'results');
  writeFileSync(join(dir, 'on-request.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, 'on-request.md'), onRequestMarkdown(results));
  console.log(onRequestMarkdown(results));
}

/**
 * Every photo once, from `clients` clients. A response counts only if it is the image asked for,
 * checked once the load is over so that the check's decodes do not share the cores with the server.
 */
async function sendAll(running: ServeProcess, server: Server, format: Format, bodies: ArrayBuffer[], clients: number): Promise<Cell> {
  const images: (Buffer | undefined)[] = [];
  const cpuBefore = cpuOf(running.pid);
  const { wallS, latenciesMs } = await closedLoop(bodies.length, clients, async (i) => {
    try {
      const response = await fetch(running.url + server.path(format), { method: 'POST', body: bodies[i], headers: { 'content-type': 'image/jpeg' } });
      const image = Buffer.from(await response.arrayBuffer());
      if (response.status === 200) images[i] = image;
    } catch {
      // counted below, as a missing image
    }
  });
  const cpuS = cpuOf(running.pid) - cpuBefore;
  const asked = (await Promise.all(Array.from(bodies, async (_, i) => (images[i] && await isAsked(images[i]!, format) ? images[i]!.length : undefined))))
    .filter((bytes): bytes is number => bytes !== undefined);
  return {
    server: server.id, clients, format, requests: bodies.length, errors: bodies.length - asked.length, requestsPerSecond: bodies.length / wallS,
    latencyMs: { p50: Math.round(latencyAt(latenciesMs, 0.5)), p99: Math.round(latencyAt(latenciesMs, 0.99)) }, cpuMsPerRequest: (cpuS * 1000) / bodies.length,
    meanBytes: asked.length > 0 ? asked.reduce((a, b) => a + b, 0) / asked.length : 0,
  };
}

async function isAsked(image: Buffer, format: Format): Promise<boolean> {
  const { format: got, width = 0, height = 0 } = await sharp(image).metadata();
  const named = got === 'heif' ? 'avif' : got;
  return named === format && Math.max(width, height) === SIDE;
}

export function onRequestMarkdown(results: {
  date: string; command: string; machine: { cores: number; cpu?: string; node: string }; loadAverage: number[]; photos: number;
  servers: { id: string; label: string }[]; cells: Cell[];
}): string {
  const { date, command, machine, loadAverage, photos, servers, cells } = results;
  const cell = (server: string, clients: number, format: Format) => cells.find((c) => c.server === server && c.clients === clients && c.format === format);
  const counts = [...new Set(cells.map((c) => c.clients))];
  const lines = [
    `Run ${date.slice(0, 16).replace('T', ' ')} UTC on ${machine.cores} cores (${machine.cpu ?? 'unknown CPU'}), Node ${machine.node}: \`${command}\``,
    '',
    `${photos} camera photos (3–12 MP JPEGs), each sent once per format and count of clients, made ${SIDE} px (inside) in each format; load average ${loadAverage.map((l) => l.toFixed(1)).join(' → ')}. Servers: ${servers.map((s) => `${s.id}: ${s.label}`).join('; ')}. Per cell: requests per second, p99 latency, the server's CPU per request, the mean response size.`,
    '',
    '| clients | format | imgfleet req/s | plain sharp req/s | imgfleet ÷ sharp | p99 (ms) imgfleet / sharp | CPU ms/req imgfleet / sharp | mean KiB imgfleet / sharp | errors |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
    ...counts.flatMap((clients) => FORMATS.map((format) => {
      const a = cell('imgfleet', clients, format);
      const b = cell('sharp', clients, format);
      if (!a || !b) return `| ${clients} | ${format} | ${a?.requestsPerSecond.toFixed(1) ?? '–'} | ${b?.requestsPerSecond.toFixed(1) ?? '–'} | | | | | |`;
      return `| ${clients} | ${format} | ${a.requestsPerSecond.toFixed(1)} | ${b.requestsPerSecond.toFixed(1)} | ${(a.requestsPerSecond / b.requestsPerSecond).toFixed(2)}× | ${a.latencyMs.p99} / ${b.latencyMs.p99} | ${a.cpuMsPerRequest.toFixed(0)} / ${b.cpuMsPerRequest.toFixed(0)} | ${(a.meanBytes / 1024).toFixed(1)} / ${(b.meanBytes / 1024).toFixed(1)} | ${a.errors} / ${b.errors} |`;
    })),
    '',
  ];
  return lines.join('\n');
}
