import type { CoordinatorRow, FleetResults, SimulationPoint } from './run-fleet.js';

/** W3's worker CPU per image on this machine's pool (bench results), for the fleet it takes. */
export const W3_WORK_MS = 37;

const PARTS = ['submitter', 'redis', 'store'] as const;
const NAMES = { submitter: 'the submitter', redis: 'Redis', store: 'the store (s3rver)', workers: 'the simulated workers', machine: 'the machine' };

/**
 * Per workload: the knee (the first fleet size whose throughput is under 80% of the ideal),
 * what is busiest there, and the fleet one coordinator can feed: its most loaded process
 * (submitter or Redis, one core each) at 100%, over the worker CPU per image.
 */
export function knees(coordinator: CoordinatorRow[], simulation: SimulationPoint[], cores: number): FleetResults['knees'] {
  const keys = coordinator.find((r) => r.variant.startsWith('bucket'));
  const limit = keys ? 1000 / Math.max(keys.submitterMs, keys.redisMs) : 0;
  return [...new Set(simulation.map((p) => p.workload))].map((workload) => {
    const points = simulation.filter((p) => p.workload === workload);
    const knee = points.find((p) => p.imagesPerSecond < 0.8 * p.idealPerSecond) ?? points[points.length - 1];
    // The part whose main thread was running or waiting to run for most of the batch is the one that cannot keep up.
    const busiest = PARTS.reduce((a, b) => (knee.demand[b] > knee.demand[a] ? b : a));
    const saturated = `${NAMES[busiest]} (its main thread ran or waited for a CPU ${(100 * Math.min(1, knee.demand[busiest])).toFixed(0)}% of the time, `
      + `using ${knee.busy[busiest].toFixed(2)} of a core; our processes used ${knee.busy.machine.toFixed(2)} of the ${cores} cores)`;
    const workMs = workload.startsWith('W1') ? keys?.workersMs ?? 3 : W3_WORK_MS;
    return { workload, workers: knee.workers, saturated, peakPerSecond: Math.max(...points.map((p) => p.imagesPerSecond)), fleetCores: Math.floor((limit * workMs) / 1000) };
  });
}

export function fleetMarkdown(results: FleetResults): string {
  const lines = [
    `Run ${results.date.slice(0, 16).replace('T', ' ')} UTC on ${results.machine.cores} cores (${results.machine.cpu ?? 'unknown CPU'}), Node ${results.machine.node}: \`${results.command}\``,
    '',
    'The coordinator, W1 (each image → 512×512 JPEG) on two single-thread workers; CPU time of each process from /proc, net of start-up (the least of five runs of the whole corpus less the least of five runs of 300 images, per image):',
    '',
    '| where bytes travel | images | img/s | submitter CPU / image | Redis CPU / image | workers CPU / image | store CPU / image |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...results.coordinator.map((r) => `| ${r.variant} | ${r.images} | ${r.imagesPerSecond.toFixed(0)} | ${r.submitterMs.toFixed(3)} ms | ${r.redisMs.toFixed(3)} ms | ${r.workersMs.toFixed(2)} ms | ${r.storeMs === undefined ? '' : `${r.storeMs.toFixed(2)} ms`} |`),
    '',
    'The simulation: N simulated workers, each one image at a time, whose image work is a fixed sleep; every object read and written, and every queue operation, is real. '
      + 'Cores: CPU each part used over the batch (the submitter\'s includes its start). Demand: the share of the batch\'s time that its main thread ran or waited for a CPU (from /proc/<pid>/task/<pid>/schedstat); near 100%, it cannot keep up.',
    '',
    '| work | N | images | img/s | ideal img/s | efficiency | submitter cores (demand) | Redis cores (demand) | store cores (demand) | workers cores | all cores |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.simulation.map((p) => `| ${p.workload} (${p.sleepMs} ms) | ${p.workers} | ${p.images} | ${p.imagesPerSecond.toFixed(0)} | ${p.idealPerSecond.toFixed(0)} | ${((100 * p.imagesPerSecond) / p.idealPerSecond).toFixed(0)}% | `
      + `${p.busy.submitter.toFixed(2)} (${pct(p.demand.submitter)}) | ${p.busy.redis.toFixed(2)} (${pct(p.demand.redis)}) | ${p.busy.store.toFixed(2)} (${pct(p.demand.store)}) | ${p.busy.workers.toFixed(2)} | ${p.busy.machine.toFixed(2)} |`),
    '',
    ...results.knees.map((k) => `- **${k.workload}**: the knee is at N = ${k.workers} (${k.peakPerSecond.toFixed(0)} img/s at best), where ${k.saturated} saturates. `
      + `One coordinator (its busier process, submitter or Redis, at one full core) feeds about ${k.fleetCores} worker cores of ${k.workload} work.`),
  ];
  return `${lines.join('\n')}\n`;
}

function pct(share: number): string {
  return `${(100 * Math.min(1, share)).toFixed(0)}%`;
}

const COLOURS = { 'W1-like': '#3e63dd', 'W3-like': '#e5484d' } as Record<string, string>;

/** Throughput against fleet size on log-log axes, each workload beside its ideal line. */
export function fleetChartSvg(results: FleetResults): string {
  if (results.simulation.length === 0) return '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>\n';
  const width = 760;
  const height = 420;
  const pad = { left: 70, right: 170, top: 40, bottom: 50 };
  const sizes = [...new Set(results.simulation.map((p) => p.workers))].sort((a, b) => a - b);
  const all = results.simulation.flatMap((p) => [p.imagesPerSecond, p.idealPerSecond]);
  const [yMin, yMax] = [10 ** Math.floor(Math.log10(Math.min(...all))), 10 ** Math.ceil(Math.log10(Math.max(...all)))];
  const x = (n: number) => pad.left + (Math.log2(n) / Math.log2(sizes[sizes.length - 1])) * (width - pad.left - pad.right);
  const y = (v: number) => pad.top + (1 - (Math.log10(v) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * (height - pad.top - pad.bottom);
  const parts: string[] = [];
  for (let e = Math.log10(yMin); e <= Math.log10(yMax); e++) {
    parts.push(`<line x1="${pad.left}" y1="${y(10 ** e).toFixed(1)}" x2="${width - pad.right}" y2="${y(10 ** e).toFixed(1)}" stroke="#ddd"/><text x="${pad.left - 6}" y="${(y(10 ** e) + 4).toFixed(1)}" text-anchor="end">${(10 ** e).toLocaleString('en')}</text>`);
  }
  for (const n of sizes) parts.push(`<text x="${x(n).toFixed(1)}" y="${height - pad.bottom + 18}" text-anchor="middle">${n}</text>`);
  let legend = 0;
  for (const workload of [...new Set(results.simulation.map((p) => p.workload))]) {
    const points = results.simulation.filter((p) => p.workload === workload);
    const colour = COLOURS[workload] ?? '#333';
    const line = (pick: (p: SimulationPoint) => number) => points.map((p, i) => `${i ? 'L' : 'M'}${x(p.workers).toFixed(1)},${y(pick(p)).toFixed(1)}`).join(' ');
    parts.push(`<path d="${line((p) => p.idealPerSecond)}" fill="none" stroke="${colour}" stroke-dasharray="5 4" opacity="0.6"/>`);
    parts.push(`<path d="${line((p) => p.imagesPerSecond)}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    parts.push(...points.map((p) => `<circle cx="${x(p.workers).toFixed(1)}" cy="${y(p.imagesPerSecond).toFixed(1)}" r="3" fill="${colour}"/>`));
    const knee = results.knees.find((k) => k.workload === workload);
    const at = knee && points.find((p) => p.workers === knee.workers);
    if (at) parts.push(`<text x="${x(at.workers).toFixed(1)}" y="${(y(at.imagesPerSecond) - 10).toFixed(1)}" text-anchor="middle" fill="${colour}">knee</text>`);
    const ly = pad.top + 10 + legend++ * 36;
    parts.push(`<line x1="${width - pad.right + 14}" y1="${ly}" x2="${width - pad.right + 40}" y2="${ly}" stroke="${colour}" stroke-width="2"/><text x="${width - pad.right + 46}" y="${ly + 4}">${workload} (${points[0].sleepMs} ms)</text>`);
    parts.push(`<line x1="${width - pad.right + 14}" y1="${ly + 16}" x2="${width - pad.right + 40}" y2="${ly + 16}" stroke="${colour}" stroke-dasharray="5 4" opacity="0.6"/><text x="${width - pad.right + 46}" y="${ly + 20}">ideal</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif" font-size="11">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${pad.left}" y="20" font-size="13" font-weight="bold">Fleet simulation: images per second against simulated workers (log-log)</text>
<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#333"/>
<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="#333"/>
<text x="${(pad.left + width - pad.right) / 2}" y="${height - 12}" text-anchor="middle">simulated workers (N)</text>
<text transform="translate(16 ${(pad.top + height - pad.bottom) / 2}) rotate(-90)" text-anchor="middle">images per second</text>
${parts.join('\n')}
</svg>
`;
}
