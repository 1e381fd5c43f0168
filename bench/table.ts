import type { Measurement } from './run.js';

interface Results {
  date: string;
  /** With --only: when the rows kept from the previous results were measured. */
  previousDate?: string;
  previousMachine?: { cores: number; cpu?: string; node: string };
  args?: { only?: string };
  machine: { cores: number; cpu?: string; node: string };
  workloads: { id: string; title: string; pipeline: string; images: number; single?: boolean }[];
  measurements: Measurement[];
  ratios: Record<string, Record<string, number>>;
  quality: { variant: string; psnrDb: number; ssim: number }[];
}

export function markdownTable(results: Results): string {
  const lines = [
    `Run ${results.date.slice(0, 16).replace('T', ' ')} UTC on ${results.machine.cores} cores (${results.machine.cpu ?? 'unknown CPU'}), Node ${results.machine.node}`
      + (results.previousDate && results.args?.only
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
  if (results.quality.length > 0) {
    lines.push('', 'W1 output quality against a Pillow Lanczos reference (100 images, JPEG q75, higher is better):', '',
      '| W1 variant | PSNR (dB) | SSIM (luma) |', '|---|---:|---:|',
      ...results.quality.map((q) => `| ${q.variant} | ${q.psnrDb.toFixed(2)} | ${q.ssim.toFixed(4)} |`));
  }
  return `${lines.join('\n')}\n`;
}
