import type { LoadMeasurement } from './histogram-load.js';
import { matrixMarkdown, type MatrixRowResult } from './matrix/table.js';
import type { Measurement } from './run.js';
import type { UrlLoadMeasurement } from './url-load.js';

interface Results {
  date: string;
  /** With --only: when the rows kept from the previous results were measured. */
  previousDate?: string;
  previousMachine?: { cores: number; cpu?: string; node: string };
  args?: { only?: string };
  /** When and where each workload's rows were measured. */
  measuredAt?: Record<string, { date: string; machine: { cpu?: string } }>;
  machine: { cores: number; cpu?: string; node: string };
  workloads: { id: string; title: string; pipeline: string; images: number; single?: boolean }[];
  measurements: Measurement[];
  ratios: Record<string, Record<string, number>>;
  quality: { variant: string; psnrDb: number; ssim: number }[];
  load?: LoadMeasurement[];
  urls?: UrlLoadMeasurement[];
  matrix?: MatrixRowResult[];
  oldBroker?: { requests: number; wallS: number; requestsPerSecond: number };
}

export function markdownTable(results: Results): string {
  const matrix = results.matrix && results.matrix.length > 0
    ? ['### The matrix', '', matrixMarkdown(results.matrix, results.machine.cores).trimEnd(), '',
      '![imgfleet, Pillow and sharp, row by row](matrix.svg)', '', '### The workloads', '']
    : [];
  const lines = [
    ...matrix,
    `Run ${results.date.slice(0, 16).replace('T', ' ')} UTC on ${results.machine.cores} cores (${results.machine.cpu ?? 'unknown CPU'}), Node ${results.machine.node}`
      + (results.measuredAt && results.args?.only ? ` (${results.args.only} only; the other rows are from earlier runs: ${earlierRuns(results.measuredAt, results.date)}).`
        : results.previousDate && results.args?.only
          ? ` (${results.args.only} only; the other rows are from the run of ${results.previousDate.slice(0, 16).replace('T', ' ')} UTC`
            + `${results.previousMachine?.cpu ? ` on ${results.previousMachine.cpu}` : ''}).`
          : '.'),
    '',
    '| workload | variant | images | img/s | CPU ms / image | peak RSS (MiB) | Redis peak (MiB) | reference is |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const w of results.workloads.filter((x) => !x.single)) {
    for (const m of results.measurements.filter((x) => x.workload === w.id)) {
      const ratio = results.ratios[w.id]?.[m.variant];
      lines.push(`| ${w.id} | ${m.variant} | ${m.images} | ${m.imagesPerSecond.toFixed(1)} | ${m.cpuMsPerImage.toFixed(2)} | ${m.peakRssMiB.toFixed(0)} | ${m.redisPeakMiB?.toFixed(1) ?? ''} | ${ratio ? `${ratio.toFixed(2)}×` : '(reference)'} |`);
    }
  }
  lines.push('', 'The reference of each workload is imgfleet\'s local pool (for W1-scale, the cluster with 2 workers); '
    + '"reference is 1.76×" reads: the reference did 1.76 times the images per second of that row. Peak RSS is the '
    + 'submitting process tree\'s; CPU of cluster rows includes the workers and Redis.');
  lines.push('', ...results.workloads.map((w) => `- **${w.id}**: ${w.title}; imgfleet pipeline \`${w.pipeline}\``));
  for (const w of results.workloads.filter((x) => x.single)) {
    lines.push('', `${w.id}, one image (wall time; peak RSS of the submitting process tree, and of each cluster worker process):`, '',
      `| ${w.id} variant | wall (s) | CPU (s) | submitter peak RSS (MiB) | worker peak RSS (MiB) | Redis peak (MiB) |`, '|---|---:|---:|---:|---:|---:|',
      ...results.measurements.filter((m) => m.workload === w.id).map((m) => `| ${m.variant} | ${m.wallS.toFixed(1)} | ${(m.cpuMsPerImage / 1000).toFixed(1)} | `
        + `${m.peakRssMiB.toFixed(0)} | ${m.workerPeakRssMiB?.map((r) => r.toFixed(0)).join(', ') ?? ''} | ${m.redisPeakMiB?.toFixed(1) ?? ''} |`));
  }
  if (results.load && results.load.length > 0) {
    const first = results.load[0];
    const old = results.oldBroker;
    lines.push('', `W4-histogram, the old broker's load test: ${first.clients} concurrent clients, each sending ${first.requests / first.clients} requests one after another `
      + '(POST /v1/histogram of a 512×512 PNG of random pixels; the ZeroMQ broker\'s clients decode the PNG and send raw pixels, as the old one\'s did), '
      + 'for each kind of test image. CPU counts every process of the row: server, workers, Redis and clients.', '',
      '| image | W4-histogram variant | requests | errors | req/s | p50 (ms) | p95 (ms) | p99 (ms) | CPU ms / request | server peak RSS (MiB) | imgfleet local is |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const image of [...new Set(results.load.map((m) => m.image ?? 'RGB, saved by sharp'))]) {
      const rows = results.load.filter((m) => (m.image ?? 'RGB, saved by sharp') === image);
      const ours = rows.find((m) => m.variant.startsWith('imgfleet serve (local'));
      lines.push(...rows.map((m) => `| ${image} | ${m.variant} | ${m.requests} | ${m.errors} | ${m.requestsPerSecond.toFixed(1)} | ${m.latencyMs.p50} | ${m.latencyMs.p95} | ${m.latencyMs.p99} | `
        + `${m.cpuMsPerRequest?.toFixed(2) ?? ''} | ${m.serverPeakRssMiB?.toFixed(0) ?? ''} | ${ours && m !== ours ? `${(ours.requestsPerSecond / m.requestsPerSecond).toFixed(2)}×` : '(reference)'} |`));
    }
    const theirs = results.load.find((m) => m.variant.startsWith('imgfleet serve (local') && m.image?.includes('old broker'));
    if (old && theirs) {
      lines.push(`| grey, saved by Pillow (the old broker's own) | the old broker's own figure (its run_100, as reported) | ${old.requests} | 0 | ${old.requestsPerSecond} | | | | | | ${(theirs.requestsPerSecond / old.requestsPerSecond).toFixed(2)}× |`);
    }
  }
  if (results.urls && results.urls.length > 0) {
    const first = results.urls[0];
    lines.push('', `W6, image URLs: ${first.requests} requests over ${first.distinctUrls} distinct signed URLs (10 photos × 10 widths, \`resize:<w>,output:auto\` negotiated to WebP) `
      + `from ${first.clients} concurrent clients; cold starts with an empty result cache, warm sends the same requests again. `
      + 'Hit ratio: requests answered without computing (from the cache, or by waiting for an identical request in flight). '
      + 'CPU counts the server, its workers and Redis, and the clients.', '',
      '| W6 variant | cache | requests | errors | req/s | p50 (ms) | p99 (ms) | hit ratio | images computed | CPU ms / request |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...results.urls.map((m) => `| ${m.variant} | ${m.phase} | ${m.requests} | ${m.errors} | ${m.requestsPerSecond.toFixed(1)} | ${m.latencyMs.p50} | ${m.latencyMs.p99} | `
        + `${m.hitRatio.toFixed(3)} | ${m.misses} | ${m.cpuMsPerRequest.toFixed(2)} |`));
  }
  if (results.quality.length > 0) {
    lines.push('', 'W1 output quality against a Pillow Lanczos reference (100 images, JPEG q75, higher is better):', '',
      '| W1 variant | PSNR (dB) | SSIM (luma) |', '|---|---:|---:|',
      ...results.quality.map((q) => `| ${q.variant} | ${q.psnrDb.toFixed(2)} | ${q.ssim.toFixed(4)} |`));
  }
  return `${lines.join('\n')}\n`;
}

/** `W1, W2 on 2026-11-23 01:02 UTC (AMD EPYC); W5 on …`: the workloads not measured in this run, by the run that measured them. */
function earlierRuns(measuredAt: NonNullable<Results['measuredAt']>, thisRun: string): string {
  const byRun = new Map<string, string[]>();
  for (const [id, run] of Object.entries(measuredAt)) {
    if (run.date === thisRun) continue;
    const label = `${run.date.slice(0, 16).replace('T', ' ')} UTC${run.machine.cpu ? ` (${run.machine.cpu})` : ''}`;
    byRun.set(label, [...(byRun.get(label) ?? []), id]);
  }
  return [...byRun].sort(([a], [b]) => (a < b ? -1 : 1)).map(([label, ids]) => `${ids.join(', ')} on ${label}`).join('; ');
}
