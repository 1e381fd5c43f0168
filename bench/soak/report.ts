import type { Flatness } from './verdict.js';

export interface SoakResults {
  date: string;
  machine: { cores: number; cpu?: string; node: string };
  command: string;
  durationS: number;
  clients: number;
  requests: number;
  byKind: Record<string, { requests: number; statuses: Record<string, number>; p50Ms: number; p99Ms: number }>;
  /** Answers of 500 and above: none is expected, whatever clients send. */
  unexpected5xx: number;
  /** Requests that got no answer at all (other than uploads the client aborted itself). */
  noAnswer: number;
  /** Bad files answered other than with a 4xx. */
  badFileAccepted: number;
  memory: Flatness;
  tolerance: { share: number; floorMiB: number };
  passed: boolean;
  /** Resident memory of the server and its children, each second: seconds since start, MiB. */
  rss: { t: number; mib: number }[];
}

export function soakMarkdown(r: SoakResults): string {
  const m = r.memory;
  const lines = [
    `# Soak: \`imgfleet serve\` under mixed traffic`,
    '',
    `${r.date}, ${r.machine.cores} cores (${r.machine.cpu ?? 'unknown CPU'}), Node ${r.machine.node}; \`${r.command}\``,
    '',
    `**${r.passed ? 'Passed' : 'Failed'}.** ${r.durationS} s, ${r.clients} clients, ${r.requests} requests; `
      + `${r.unexpected5xx} unexpected 5xx, ${r.noAnswer} without an answer, ${r.badFileAccepted} bad files not refused with a 4xx.`,
    '',
    `Resident memory (server and children): peak ${m.peakMiB} MiB; over the last half ${m.startMiB} → ${m.endMiB} MiB, `
      + `slope ${m.slopeMiBPerMin} MiB/min, growth ${m.growthMiB} MiB against a tolerance of ${m.toleranceMiB} MiB `
      + `(${r.tolerance.share * 100} % of the mean, at least ${r.tolerance.floorMiB} MiB): **${m.flat ? 'flat' : 'growing'}**.`,
    '',
    '| kind | requests | answers | p50 ms | p99 ms |',
    '|---|---:|---|---:|---:|',
    ...Object.entries(r.byKind).map(([kind, k]) => `| ${kind} | ${k.requests} | ${Object.entries(k.statuses).map(([s, n]) => `${s}: ${n}`).join(', ')} | ${k.p50Ms} | ${k.p99Ms} |`),
    '',
    `Resident memory each minute (MiB): ${everyMinute(r.rss).join(', ')}`,
    '',
  ];
  return lines.join('\n');
}

function everyMinute(series: { t: number; mib: number }[]): string[] {
  const out: string[] = [];
  for (let minute = 0; ; minute++) {
    const point = series.find((p) => p.t >= minute * 60);
    if (!point) break;
    out.push(`${minute} min: ${Math.round(point.mib)}`);
  }
  return out;
}
