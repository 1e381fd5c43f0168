import type { Measurement } from './run.js';

const PALETTE = ['#8da2fb', '#3e63dd', '#e5484d', '#30a46c', '#f5a524', '#7c66dc'];

/** A grouped bar chart of images per second: one group per workload, one bar per variant. */
export function chartSvg(all: { workloads: { id: string; single?: boolean }[]; measurements: Measurement[] }): string {
  // A workload of one image is told by its time, in the table, not by images per second.
  const workloads = all.workloads.filter((w) => !w.single);
  const results = { workloads, measurements: all.measurements.filter((m) => workloads.some((w) => w.id === m.workload)) };
  const variants = [...new Set(results.measurements.map((m) => m.variant))];
  const groups = results.workloads.map((w) => w.id);
  const max = Math.max(1, ...results.measurements.map((m) => m.imagesPerSecond));
  const width = 760;
  const height = 360;
  const pad = { left: 60, right: 20, top: 30, bottom: 40 + 18 * variants.length };
  const plotH = height - pad.top - 40;
  const groupW = (width - pad.left - pad.right) / groups.length;
  const barW = (groupW * 0.8) / variants.length;
  const bars = results.measurements.map((m) => {
    const g = groups.indexOf(m.workload);
    const v = variants.indexOf(m.variant);
    const h = (m.imagesPerSecond / max) * plotH;
    const x = pad.left + g * groupW + groupW * 0.1 + v * barW;
    const y = pad.top + plotH - h;
    return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[v % PALETTE.length]}"/>`
      + `<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle">${m.imagesPerSecond.toFixed(0)}</text>`;
  }).join('\n');
  const labels = groups.map((g, i) => `<text x="${(pad.left + i * groupW + groupW / 2).toFixed(1)}" y="${pad.top + plotH + 18}" text-anchor="middle" font-weight="bold">${g}</text>`).join('');
  const legend = variants.map((v, i) => `<rect x="${pad.left}" y="${pad.top + plotH + 30 + i * 18}" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/><text x="${pad.left + 18}" y="${pad.top + plotH + 40 + i * 18}">${v}</text>`).join('');
  const total = pad.top + plotH + 40 + 18 * variants.length;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${total}" font-family="DejaVu Sans, sans-serif" font-size="11">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${pad.left}" y="18" font-size="13" font-weight="bold">Images per second (higher is better), measured in one run</text>
<line x1="${pad.left}" y1="${pad.top + plotH}" x2="${width - pad.right}" y2="${pad.top + plotH}" stroke="#333"/>
${bars}
${labels}
${legend}
</svg>
`;
}
