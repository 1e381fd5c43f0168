/**
 * `npm run bench`: the matrix (everyday pipelines × kinds of input, on imgfleet, Pillow and
 * plain sharp), then each workload on imgfleet (sequential and pool) and, in the same run, on
 * the baselines a user would otherwise pick. Writes bench/results/{results.json,results.md,
 * chart.svg,matrix.svg}.
 *
 *   npm run bench -- [--count 8091] [--large-count 300] [--w3-count 1000] [--repeat 1] [--only W1,W2]
 *                    [--matrix-count 1000 --matrix-large-count 100]   (the matrix: small and large photos)
 *                    [--clients 100 --requests 100]   (W4-histogram: the HTTP load test)
 *                    [--url-clients 50 --url-requests 1000]   (W6: image URLs, cold and warm cache)
 *                    [--quick]   (fewer images and requests: to rerun a row, e.g. --only s-cover --quick)
 *                    [--rewrite]   (runs nothing: writes results.md and the charts again from results.json)
 *   npm run bench -- --only fleet [--fleet-count 3000] [--fleet-sizes 1,2,4,8,16,32,64]   (bench/fleet/)
 *   npm run bench -- --only soak [--duration 10m] [--soak-clients 8]   (bench/soak/: serve under mixed traffic, memory each second)
 *   npm run bench -- --only cold-start [--quick]   (bench/cold-start.ts: --version, and process of one photo against a plain sharp script)
 *   npm run bench -- --only on-request [--on-request-count 100] [--quick]   (bench/on-request.ts: camera photos to 512 px JPEG, WebP, PNG, AVIF over HTTP from 2 and 8 clients, against a plain sharp server)
 *
 * --only takes workload ids (W1, W4-histogram, …), matrix row ids (s-cover, l-inside, …) or
 * `matrix` for every row. With --only, the rows not run are kept from the previous results.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startBenchCluster } from './cluster.js';
import { cameraPhotos, ensureCorpus, ensureHugeImage, ensureRewritten, ensureTinyCorpus, flickrLike, largePhotos } from './corpus.js';
import sharp from 'sharp';
import { chartSvg } from './chart.js';
import { measure, type Measured } from './measure.js';
import { histogramLoad, OLD_BROKER_REPORTED, testImages, type LoadMeasurement } from './histogram-load.js';
import { matrixSvg } from './matrix/chart.js';
import { MATRIX_ROWS, type MatrixInput } from './matrix/rows.js';
import { runMatrix } from './matrix/run-matrix.js';
import type { MatrixRowResult } from './matrix/table.js';
import { w1Quality } from './quality.js';
import { markdownTable } from './table.js';
import { urlLoad, type UrlLoadMeasurement } from './url-load.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BENCH = join(ROOT, 'bench');
const PHOTOS = join(ROOT, '..', 'shared', 'corpus', 'photos');
const WORK = join(BENCH, 'work');
const CORES = availableParallelism();

export interface Measurement {
  workload: string;
  variant: string;
  images: number;
  outputs: number;
  wallS: number;
  imagesPerSecond: number;
  cpuMsPerImage: number;
  peakRssMiB: number;
  /** Cluster variants: Redis' peak memory during the batch. */
  redisPeakMiB?: number;
  /** Cluster variants: each worker process's peak resident memory. */
  workerPeakRssMiB?: number[];
}

interface Variant {
  name: string;
  available: boolean;
  command: (input: string, output: string, redisUrl?: string) => string[];
  /** Runs against a throwaway cluster of this many single-thread workers on this machine. */
  clusterWorkers?: number;
}

interface Workload {
  id: string;
  title: string;
  pipeline: string;
  input: string;
  variants: Variant[];
  /** One large image: reported by time and memory rather than images per second. */
  single?: boolean;
}

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '8091' },
    'large-count': { type: 'string', default: '300' },
    'w3-count': { type: 'string', default: '1000' },
    'scale-count': { type: 'string', default: '2000' },
    repeat: { type: 'string', default: '1' },
    only: { type: 'string' },
    clients: { type: 'string', default: '100' },
    requests: { type: 'string', default: '100' },
    'url-clients': { type: 'string', default: '50' },
    'url-requests': { type: 'string', default: '1000' },
    'fleet-count': { type: 'string', default: '3000' },
    'fleet-sizes': { type: 'string', default: '1,2,4,8,16,32,64' },
    'matrix-count': { type: 'string', default: '1000' },
    duration: { type: 'string', default: '10m' },
    'soak-clients': { type: 'string', default: '8' },
    'matrix-large-count': { type: 'string', default: '100' },
    'on-request-count': { type: 'string', default: '100' },
    quick: { type: 'boolean', default: false },
    rewrite: { type: 'boolean', default: false },
  },
});
const only = args.only?.split(',');
const QUICK = { matrixCount: 200, matrixLargeCount: 20, psnr: { small: 6, large: 2 }, clients: 20, requests: 20 };

const has = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
const pillow = spawnSync('/usr/bin/python3', ['-c', 'import PIL']).status === 0;
const vipsParallel = has('vipsthumbnail') && has('parallel');
const hasRedis = has('redis-server');
const imgfleet = (pipeline: string, extra: string[] = []) => (input: string, output: string) =>
  [process.execPath, join(ROOT, 'bin', 'imgfleet.js'), 'run', input, '-o', output, '-p', pipeline, ...extra];
const pil = (mode: string) => (input: string, output: string) =>
  ['/usr/bin/python3', join(BENCH, 'baselines', 'pil_batch.py'), mode, input, output, String(CORES)];
const vips = (size: string) => (input: string, output: string) =>
  ['bash', '-c', `cd '${input}' && ls | parallel -j${CORES} -N64 vipsthumbnail {} -s '${size}' -o '${output}/%s.jpg[Q=75]'`];

function clusterVariant(pipeline: string, workers: number, sharedFs = false): Variant {
  return {
    name: `imgfleet cluster (${workers} worker${workers > 1 ? 's' : ''} × 1 thread${sharedFs ? ', --shared-fs' : ''})`,
    available: hasRedis, clusterWorkers: workers,
    command: (input, output, url) => imgfleet(pipeline, ['--redis', url!, ...(sharedFs ? ['--shared-fs'] : [])])(input, output),
  };
}

/** W5: one 100 MP image, whole in one process, as tiles on the pool, and as tiles on the cluster. */
function tilingVariants(pipeline: string): Variant[] {
  const big = ['--max-pixels', '200000000'];
  return [
    { name: 'imgfleet untiled, one process', available: true, command: imgfleet(pipeline, ['--sequential', '--tile-threshold', '100000', ...big]) },
    { name: `imgfleet tiled on the pool (${CORES} threads, tiles of 2048)`, available: true, command: imgfleet(pipeline, ['--tile', '2048', ...big]) },
    {
      name: 'imgfleet tiled on the cluster (2 workers × 1 thread, tiles of 2048)', available: hasRedis, clusterWorkers: 2,
      command: (input, output, url) => imgfleet(pipeline, ['--redis', url!, '--tile', '2048', ...big])(input, output),
    },
  ];
}

function imgfleetVariants(pipeline: string): Variant[] {
  return [
    { name: 'imgfleet --sequential', available: true, command: imgfleet(pipeline, ['--sequential']) },
    { name: `imgfleet pool (${CORES} threads)`, available: true, command: imgfleet(pipeline) },
  ];
}

async function main(): Promise<void> {
  if (args.rewrite) return writeResults(JSON.parse(readFileSync(join(BENCH, 'results', 'results.json'), 'utf8')));
  // ── The fleet workload (bench/fleet/): object storage, the coordinator's cost, the simulation.
  //    Asked for by name; it writes its own results (bench/results/fleet.*), apart from these.
  if (args.only?.split(',').includes('fleet')) {
    const { runFleetWorkload } = await import('./fleet/main.js');
    const sizes = args['fleet-sizes']!.split(',').filter(Boolean).map(Number);
    await runFleetWorkload(ROOT, PHOTOS, { count: Number(args['fleet-count']), sizes, command: `npm run bench -- ${process.argv.slice(2).join(' ')}` });
    if (args.only === 'fleet') return;
  }
  // ── end of the fleet workload
  // ── The soak (bench/soak/): asked for by name, writes bench/results/soak.*; a failed soak fails the command.
  if (args.only?.split(',').includes('soak')) {
    const { runSoakWorkload } = await import('./soak/main.js');
    const passed = await runSoakWorkload(ROOT, PHOTOS, {
      durationS: seconds(args.duration!), clients: Number(args['soak-clients']), command: `npm run bench -- ${process.argv.slice(2).join(' ')}`,
    });
    if (!passed) process.exitCode = 1;
    if (args.only === 'soak') return;
  }
  // ── Cold start (bench/cold-start.ts): asked for by name, writes bench/results/cold-start.*.
  if (args.only?.split(',').includes('cold-start')) {
    const { runColdStartWorkload } = await import('./cold-start.js');
    await runColdStartWorkload(ROOT, PHOTOS, { rounds: args.quick ? 5 : 21, command: `npm run bench -- ${process.argv.slice(2).join(' ')}` });
    if (args.only === 'cold-start') return;
  }
  // ── Images made on request (bench/on-request.ts): asked for by name, writes bench/results/on-request.*.
  if (args.only?.split(',').includes('on-request')) {
    const { runOnRequestWorkload } = await import('./on-request.js');
    const count = args.quick ? 10 : Number(args['on-request-count']);
    const photos = await ensureCorpus(PHOTOS, join(BENCH, 'corpus'), cameraPhotos(Math.max(count, 100)));
    await runOnRequestWorkload(ROOT, { photos, count, clients: [2, 8], command: `npm run bench -- ${process.argv.slice(2).join(' ')}` });
    if (args.only === 'on-request') return;
  }
  const count = Number(args.count);
  const corpusRoot = join(BENCH, 'corpus');
  console.log(`preparing corpora (${count} Flickr-like JPEGs, ${args['large-count']} large photos)…`);
  // With --only, only the corpora of the chosen workloads are made.
  const wanted = (...ids: string[]) => !only || ids.some((id) => only.includes(id));
  const flickr = wanted('W1') ? await ensureCorpus(PHOTOS, corpusRoot, flickrLike(count)) : '';
  const large = wanted('W2') ? await ensureCorpus(PHOTOS, corpusRoot, largePhotos(Number(args['large-count']))) : '';
  const w3Input = wanted('W3') ? await ensureCorpus(PHOTOS, corpusRoot, flickrLike(Math.min(count, Number(args['w3-count'])))) : '';
  const scaleInput = wanted('W1-scale') ? await ensureCorpus(PHOTOS, corpusRoot, flickrLike(Math.min(count, Number(args['scale-count'])))) : '';
  const tiny = wanted('W4') ? await ensureTinyCorpus(corpusRoot, 1000) : '';
  const huge = wanted('W5') ? await ensureHugeImage(join(ROOT, '..', 'shared', 'corpus', 'large', 'volna-5120x2880.jpg'), corpusRoot) : '';

  const W1 = 'resize:512:512:fit=fill,output:jpeg:75';
  const W2 = 'resize:512:512,output:jpeg:75';
  const W3 = 'resize:400,blur:1.5,sharpen,watermark:imgfleet,output:webp:80';
  const W5 = 'blur:10,resize:2000,output:jpeg:85';
  const workloads: Workload[] = [
    { id: 'W1', title: 'each image → exactly 512×512 JPEG (the batch resizer)', pipeline: W1, input: flickr, variants: [
      ...imgfleetVariants(W1),
      { name: `Pillow multiprocessing (${CORES} processes)`, available: pillow, command: pil('w1') },
      { name: `vipsthumbnail + GNU parallel (-j${CORES})`, available: vipsParallel, command: vips('512x512!') },
      clusterVariant(W1, 2),
      clusterVariant(W1, 2, true),
    ] },
    { id: 'W1-scale', title: 'W1 on the cluster with 1, 2 and 4 workers on this machine', pipeline: W1, input: scaleInput, variants: [
      clusterVariant(W1, 1), clusterVariant(W1, 2), clusterVariant(W1, 4),
    ] },
    { id: 'W4', title: 'per-job overhead: 1,000 tiny 16×16 PNGs, negate', pipeline: 'negate', input: tiny, variants: [
      ...imgfleetVariants('negate'), clusterVariant('negate', 2),
    ] },
    { id: 'W2', title: 'large photos → thumbnails inside 512 px', pipeline: W2, input: large, variants: [
      ...imgfleetVariants(W2),
      { name: `Pillow multiprocessing (${CORES} processes)`, available: pillow, command: pil('w2') },
      { name: `vipsthumbnail + GNU parallel (-j${CORES})`, available: vipsParallel, command: vips('512x512') },
    ] },
    { id: 'W3', title: 'resize → blur → sharpen → text watermark → WebP (the pipeline service)', pipeline: W3, input: w3Input, variants: [
      ...imgfleetVariants(W3),
      { name: `Pillow multiprocessing (${CORES} processes)`, available: pillow, command: pil('w3') },
    ] },
    { id: 'W5', title: 'one 100 MP JPEG (13333×7500): blur σ=10, then resize to 2000 px', pipeline: W5, input: huge, single: true, variants: tilingVariants(W5) },
  ].filter((w) => wanted(w.id));

  const matrixRows = MATRIX_ROWS.filter((row) => wanted('matrix', row.id));
  let matrix: MatrixRowResult[] = [];
  if (matrixRows.length > 0) {
    const started = new Date().toISOString();
    const corpora = await matrixCorpora(corpusRoot, matrixRows.map((row) => row.input));
    const cells = await runMatrix({
      rows: matrixRows, corpora, work: join(WORK, 'matrix'), cores: CORES, repeat: Number(args.repeat),
      psnrSamples: args.quick ? QUICK.psnr : { small: 24, large: 8 },
    });
    matrix = matrixRows.map((row) => ({ ...row, measuredAt: started, cells: cells.filter((c) => c.row === row.id) }));
  }

  const measurements: Measurement[] = [];
  for (let round = 0; round < Number(args.repeat); round++) {
    for (const workload of workloads) {
      const images = readdirSync(workload.input).length;
      for (const variant of workload.variants.filter((v) => v.available)) {
        const output = join(WORK, workload.id);
        rmSync(output, { recursive: true, force: true });
        mkdirSync(output, { recursive: true });
        const cluster = variant.clusterWorkers ? await startBenchCluster(join(ROOT, 'bin', 'imgfleet.js'), variant.clusterWorkers, 1) : undefined;
        const clusterCpuBefore = cluster?.cpuSeconds() ?? 0;
        const measured: Measured & { redisPeakMiB?: number; workerPeakRssMiB?: number[] } = measure(variant.command(workload.input, output, cluster?.url));
        if (cluster) {
          measured.cpuS += cluster.cpuSeconds() - clusterCpuBefore;
          measured.redisPeakMiB = await cluster.redisPeakMiB();
          measured.workerPeakRssMiB = cluster.workerPeakRssMiB();
          await cluster.stop();
        }
        const outputs = readdirSync(output).length;
        if (measured.exitCode !== 0 || outputs !== images) {
          throw new Error(`${workload.id} ${variant.name}: exit ${measured.exitCode}, ${outputs}/${images} outputs\n${measured.stderr}`);
        }
        const m: Measurement = {
          workload: workload.id, variant: variant.name, images, outputs, wallS: measured.wallS,
          imagesPerSecond: images / measured.wallS, cpuMsPerImage: (measured.cpuS * 1000) / images, peakRssMiB: measured.maxRssMiB,
          redisPeakMiB: measured.redisPeakMiB, workerPeakRssMiB: measured.workerPeakRssMiB,
        };
        measurements.push(m);
        console.log(`${m.workload.padEnd(8)}  ${m.variant.padEnd(40)} ${m.imagesPerSecond.toFixed(1).padStart(7)} img/s  ${m.cpuMsPerImage.toFixed(2).padStart(6)} CPU ms/img  ${m.peakRssMiB.toFixed(0).padStart(5)} MiB`);
      }
    }
  }
  rmSync(WORK, { recursive: true, force: true });

  const quality = wanted('W1') ? await w1Quality(flickr, join(WORK, 'quality'), 100, [
    { name: 'imgfleet (JPEG fast lane)', run: async (input, output) => { execFileSync(process.execPath, imgfleet(W1)(input, output).slice(1)); } },
    { name: 'sharp resize(fill), libvips', run: async (input, output) => {
      for (const f of readdirSync(input)) await sharp(join(input, f)).resize(512, 512, { fit: 'fill' }).jpeg({ quality: 75 }).toFile(join(output, f));
    } },
    ...(pillow ? [{ name: 'Pillow resize((512, 512))', run: async (input: string, output: string) => { execFileSync(pil('w1')(input, output)[0], pil('w1')(input, output).slice(1)); } }] : []),
    ...(vipsParallel ? [{ name: 'vipsthumbnail', run: async (input: string, output: string) => { execFileSync('bash', vips('512x512!')(input, output).slice(1)); } }] : []),
  ]) : [];
  for (const q of quality) console.log(`W1 quality  ${q.variant.padEnd(32)} PSNR ${q.psnrDb.toFixed(2)} dB  SSIM ${q.ssim.toFixed(4)}`);

  let load: LoadMeasurement[] = [];
  if (wanted('W4-histogram')) {
    mkdirSync(WORK, { recursive: true });
    load = await histogramLoad(ROOT, await testImages(WORK), args.quick ? QUICK.clients : Number(args.clients), args.quick ? QUICK.requests : Number(args.requests), CORES);
    rmSync(WORK, { recursive: true, force: true });
  }

  let urls: UrlLoadMeasurement[] = [];
  if (wanted('W6')) {
    urls = await urlLoad(ROOT, PHOTOS, Number(args['url-clients']), Number(args['url-requests']));
    for (const m of urls) console.log(`W6  ${m.variant.padEnd(56)} ${m.phase.padEnd(4)} ${m.requestsPerSecond.toFixed(1).padStart(7)} req/s  p99 ${m.latencyMs.p99} ms  hit ratio ${m.hitRatio.toFixed(2)}  ${m.errors} errors`);
  }

  const dir = join(BENCH, 'results');
  mkdirSync(dir, { recursive: true });
  // With --only, the other workloads keep their rows from the previous results.
  const previous = args.only && existsSync(join(dir, 'results.json')) ? JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as PreviousResults : undefined;
  const ran = new Set(workloads.map((w) => w.id));
  const best = [...(previous?.measurements.filter((m) => !ran.has(m.workload)) ?? []), ...bestOf(measurements)];
  const now = { date: new Date().toISOString(), machine: { cores: CORES, cpu: cpus()[0]?.model, node: process.version } };
  const results = {
    ...now,
    args,
    workloads: [
      ...(previous?.workloads.filter((w) => !ran.has(w.id)) ?? []),
      ...workloads.map(({ id, title, pipeline, input, single }) => ({ id, title, pipeline, images: readdirSync(input).length, single })),
    ],
    measurements: best,
    ratios: ratios(best),
    quality: quality.length > 0 ? quality : previous?.quality ?? [],
    load: load.length > 0 ? load : previous?.load ?? [],
    urls: urls.length > 0 ? urls : previous?.urls ?? [],
    matrix: mergeMatrix(previous?.matrix ?? [], matrix),
    measuredAt: measuredAt(previous, [...ran, ...(load.length > 0 ? ['W4-histogram'] : []), ...(urls.length > 0 ? ['W6'] : [])], now),
    oldBroker: OLD_BROKER_REPORTED,
    ...(previous ? {
      previousDate: previous.previousDate ?? previous.date,
      previousMachine: previous.previousMachine ?? previous.machine,
    } : {}),
  };
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeResults(results);
}

/** A duration as `600`, `600s` or `10m`, in seconds. */
function seconds(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m)?$/.exec(text.trim());
  if (!match) throw new Error(`--duration: expected seconds (600, 600s) or minutes (10m), got "${text}"`);
  return Number(match[1]) * (match[2] === 'm' ? 60 : 1);
}

/** results.md and the charts, from the results. */
function writeResults(results: Parameters<typeof markdownTable>[0] & Parameters<typeof chartSvg>[0]): void {
  const dir = join(BENCH, 'results');
  writeFileSync(join(dir, 'results.md'), markdownTable(results));
  writeFileSync(join(dir, 'chart.svg'), chartSvg(results));
  if (results.matrix && results.matrix.length > 0) writeFileSync(join(dir, 'matrix.svg'), matrixSvg(results.matrix));
  console.log(`\n${markdownTable(results)}\nwrote bench/results/results.{json,md}, chart.svg and matrix.svg`);
}

interface PreviousResults {
  args?: { only?: string };
  measuredAt?: Record<string, RunInfo>;
  date: string;
  machine: { cores: number; cpu?: string; node: string };
  previousDate?: string;
  previousMachine?: { cores: number; cpu?: string; node: string };
  workloads: { id: string; title: string; pipeline: string; images: number; single?: boolean }[];
  measurements: Measurement[];
  quality: Awaited<ReturnType<typeof w1Quality>>;
  load?: LoadMeasurement[];
  urls?: UrlLoadMeasurement[];
  matrix?: MatrixRowResult[];
}

/** The corpora the chosen matrix rows read: small photos as JPEG, as PNG written by Pillow and by sharp, grey, as WebP; large photos. */
async function matrixCorpora(corpusRoot: string, inputs: MatrixInput[]): Promise<Record<MatrixInput, string>> {
  const count = Math.min(Number(args.count), args.quick ? QUICK.matrixCount : Number(args['matrix-count']));
  const largeCount = args.quick ? QUICK.matrixLargeCount : Number(args['matrix-large-count']);
  const needs = (...kinds: MatrixInput[]) => kinds.some((k) => inputs.includes(k));
  const small = needs('small-jpeg', 'small-png-pillow', 'small-png-sharp', 'small-grey-jpeg', 'small-grey-png', 'small-webp') ? await ensureCorpus(PHOTOS, corpusRoot, flickrLike(count)) : '';
  return {
    'small-jpeg': small,
    'small-png-pillow': needs('small-png-pillow') ? await ensureRewritten(small, corpusRoot, 'png-pillow') : '',
    'small-png-sharp': needs('small-png-sharp') ? await ensureRewritten(small, corpusRoot, 'png-sharp') : '',
    'small-grey-jpeg': needs('small-grey-jpeg') ? await ensureRewritten(small, corpusRoot, 'grey-jpeg') : '',
    'small-grey-png': needs('small-grey-png') ? await ensureRewritten(small, corpusRoot, 'grey-png-pillow') : '',
    'small-webp': needs('small-webp') ? await ensureRewritten(small, corpusRoot, 'webp') : '',
    'large-jpeg': needs('large-jpeg') ? await ensureCorpus(PHOTOS, corpusRoot, cameraPhotos(largeCount)) : '',
  };
}

/** The matrix rows of this run, in the matrix's order, with the other rows as the previous results had them. */
function mergeMatrix(previous: MatrixRowResult[], now: MatrixRowResult[]): MatrixRowResult[] {
  const byId = new Map([...previous, ...now].map((row) => [row.id, row]));
  return MATRIX_ROWS.map((row) => byId.get(row.id)).filter((row): row is MatrixRowResult => row !== undefined)
    .map((row) => ({ ...MATRIX_ROWS.find((r) => r.id === row.id)!, measuredAt: row.measuredAt, cells: row.cells }));
}

interface RunInfo {
  date: string;
  machine: { cores: number; cpu?: string; node: string };
}

/** When and where each workload's rows were measured: this run for those it ran, else as the previous results say. */
function measuredAt(previous: PreviousResults | undefined, ranIds: string[], now: RunInfo): Record<string, RunInfo> {
  const earlier: Record<string, RunInfo> = { ...previous?.measuredAt };
  if (previous && !previous.measuredAt) {
    const ids = [...previous.workloads.map((w) => w.id), ...(previous.load?.length ? ['W4-histogram'] : []), ...(previous.urls?.length ? ['W6'] : [])];
    for (const id of ids) {
      earlier[id] = previous.args?.only?.split(',').includes(id)
        ? { date: previous.date, machine: previous.machine }
        : { date: previous.previousDate ?? previous.date, machine: previous.previousMachine ?? previous.machine };
    }
  }
  return { ...earlier, ...Object.fromEntries(ranIds.map((id) => [id, now])) };
}

/** With --repeat, the fastest of each variant's rounds. */
function bestOf(all: Measurement[]): Measurement[] {
  const best = new Map<string, Measurement>();
  for (const m of all) {
    const key = `${m.workload}\u0000${m.variant}`;
    if (!best.has(key) || best.get(key)!.imagesPerSecond < m.imagesPerSecond) best.set(key, m);
  }
  return [...best.values()];
}

/** imgfleet's pool against each baseline, per workload, from this run only. */
function ratios(ms: Measurement[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const workload of new Set(ms.map((m) => m.workload))) {
    const rows = ms.filter((m) => m.workload === workload);
    const pool = rows.find((m) => m.variant.startsWith('imgfleet pool')) ?? rows.find((m) => m.variant.includes('(2 workers'));
    if (!pool) continue;
    out[workload] = Object.fromEntries(rows.filter((m) => m !== pool).map((m) => [m.variant, pool.imagesPerSecond / m.imagesPerSecond]));
  }
  return out;
}

await main();
