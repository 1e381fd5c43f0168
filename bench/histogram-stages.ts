/**
 * Where a histogram request's time goes, stage by stage, in CPU milliseconds:
 *
 *   node dist/bench/histogram-stages.js [--requests 2000]
 *
 * 1. On this thread, per test image: the general path (libvips probe, decode, count), the direct
 *    one (a PNG's rows inflated, unfiltered and counted; a JPEG in one libvips call), inflating
 *    alone, and the JSON of the answer; the same for two JPEGs.
 * 2. The pool hand-off: a 1×1 PNG's histogram through a one-thread LocalEngine (CPU of the
 *    whole process, both threads).
 * 3. Whole requests: `imgfleet serve`'s CPU per request under the load test, for each image and
 *    for a 1×1 PNG (nothing to decode) and the same padded to 257 KiB with an ancillary chunk
 *    (the upload's size, nothing to decode): what the HTTP side and the hand-off cost.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';
import { LocalEngine } from '../src/engine/local/local-engine.js';
import { tuneSharpForParallelImages } from '../src/engine/tuning.js';
import { histogramFile } from '../src/histogram/histogram-file.js';
import { open, probe } from '../src/image/decode.js';
import { levelCounts } from '../src/image/level-counts.js';
import { resolveLimits } from '../src/limits.js';
import { histogram, histogramFromBytes, type HistogramData } from '../src/ops/histogram.js';
import { validatePipeline } from '../src/pipeline/validate.js';
import type { LoadTestResult } from '../src/loadtest/run-loadtest.js';
import { cpuOf } from './cluster.js';
import { testImages } from './histogram-load.js';
import { startServe } from './serve-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'imgfleet.js');
const { values: args } = parseArgs({ options: { requests: { type: 'string', default: '2000' } } });

/** CPU milliseconds per call of this process (all its threads): the best of 5 rounds of `n` calls. */
async function cpuMs(n: number, fn: () => unknown): Promise<number> {
  for (let i = 0; i < Math.min(n, 20); i++) await fn();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const before = process.cpuUsage();
    for (let i = 0; i < n; i++) await fn();
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / 1000 / n);
  }
  return best;
}

function idatOf(png: Buffer): Buffer {
  const parts: Buffer[] = [];
  if (png.readUInt32BE(0) !== 0x89504e47) return Buffer.alloc(0);
  for (let at = 8; at + 12 <= png.length; at += 12 + png.readUInt32BE(at)) {
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') parts.push(png.subarray(at + 8, at + 8 + png.readUInt32BE(at)));
  }
  return Buffer.concat(parts);
}

/** A 1×1 grey PNG, and the same with `padding` bytes of an ancillary chunk before its data. */
function tinyPngs(padding: number): [Buffer, Buffer] {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(zlib.crc32(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
  const head = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  const tail = [chunk('IDAT', zlib.deflateSync(Buffer.from([0, 128]))), chunk('IEND', Buffer.alloc(0))];
  return [Buffer.concat([...head, ...tail]), Buffer.concat([...head, chunk('prVt', Buffer.alloc(padding, 7)), ...tail])];
}

async function main(): Promise<void> {
  tuneSharpForParallelImages();
  const work = mkdtempSync(join(tmpdir(), 'imgfleet-stages-'));
  const limits = resolveLimits();
  const images = await testImages(work);
  const [tiny, padded] = tinyPngs(263_000);
  writeFileSync(join(work, 'tiny.png'), tiny);
  writeFileSync(join(work, 'padded.png'), padded);

  const photo = join(ROOT, '..', 'shared', 'corpus', 'photos', 'rocket.jpg');
  const camera = join(ROOT, '..', 'shared', 'corpus', 'photos', 'Garden.jpg');
  console.log('1. one thread, CPU ms per image');
  console.log('image'.padEnd(46), 'general path', '   direct', ' of which inflate', ' JSON');
  for (const image of [...images, { name: 'JPEG 640×427 (rocket.jpg)', path: photo }, { name: 'JPEG 2560×1600 (Garden.jpg)', path: camera }]) {
    const bytes = readFileSync(image.path);
    const general = await cpuMs(100, async () => {
      const raw = await open(bytes, await probe(bytes, limits), limits).raw();
      return levelCounts(raw.data, raw.channels);
    });
    const direct = await cpuMs(100, () => histogramFromBytes(bytes, { bins: 256 }, limits));
    const idat = idatOf(bytes);
    const inflate = idat.length > 0 ? (await cpuMs(100, () => zlib.inflateSync(idat))).toFixed(3) : '–';
    const data = await histogram.analyse(open(bytes, await probe(bytes, limits), limits), { bins: 256 }, { loadAsset: async () => Buffer.alloc(0) });
    const json = await cpuMs(1000, () => JSON.stringify(histogramFile('image.png', data as HistogramData)));
    console.log(image.name.padEnd(46), general.toFixed(3).padStart(12), direct.toFixed(3).padStart(9), inflate.padStart(17), json.toFixed(3).padStart(5));
  }

  const engine = new LocalEngine({ threads: 1 });
  const spec = validatePipeline({ steps: [{ op: 'histogram', bins: 256 }] }).spec;
  const handOff = await cpuMs(500, () => engine.run({ source: { kind: 'bytes', bytes: Buffer.from(tiny) }, pipeline: spec, sink: { kind: 'none' }, priority: 'interactive' }));
  await engine.close();
  console.log(`\n2. pool hand-off: a 1×1 PNG's histogram on a one-thread pool, ${handOff.toFixed(3)} CPU ms per image (both threads)`);

  console.log(`\n3. imgfleet serve, server CPU ms per request (20 clients × ${Number(args.requests) / 20} requests)`);
  const requests = [{ name: '1×1 PNG', path: join(work, 'tiny.png') }, { name: '1×1 PNG padded to 257 KiB', path: join(work, 'padded.png') }, ...images];
  for (const image of requests) {
    const server = await startServe(BIN, []);
    const run = (perClient: number) => JSON.parse(spawnSync(process.execPath, [BIN, 'loadtest', '--url', server.url, '--clients', '20', '--requests', String(perClient), '--image', image.path, '--json'], { encoding: 'utf8' }).stdout) as LoadTestResult;
    run(10);
    const before = cpuOf(server.pid);
    const result = run(Number(args.requests) / 20);
    const used = cpuOf(server.pid) - before;
    await server.stop();
    console.log(`${image.name.padEnd(46)} ${((used * 1000) / result.requests).toFixed(2).padStart(6)} server, ${((result.clientCpuS * 1000) / result.requests).toFixed(2)} client  (${result.requestsPerSecond} req/s, ${result.errors} errors)`);
  }
  rmSync(work, { recursive: true, force: true });
}

await main();
