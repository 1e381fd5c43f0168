import { INPUT_TITLES } from './rows.js';
import type { Tool } from './run-matrix.js';
import { ratioOf, type MatrixRowResult } from './table.js';

const COLOURS: Record<Tool, string> = { imgfleet: '#3e63dd', Pillow: '#f5a524', sharp: '#30a46c' };

/**
 * The matrix as horizontal bars: per row, each tool's images per second as a share of the
 * row's fastest (rows run at very different speeds), labelled with the figure itself, and
 * imgfleet's ratio to the faster baseline on the right, red where it is below 1.
 */
export function matrixSvg(rows: MatrixRowResult[]): string {
  const tools: Tool[] = ['imgfleet', 'Pillow', 'sharp'];
  const bar = 9;
  const groupH = bar * tools.length + 10;
  const left = 260;
  const plotW = 380;
  const width = left + plotW + 150;
  const top = 46;
  const height = top + rows.length * groupH + 20;
  const groups = rows.map((row, i) => {
    const y0 = top + i * groupH;
    const max = Math.max(...row.cells.map((c) => c.imagesPerSecond));
    const bars = tools.map((tool, k) => {
      const c = row.cells.find((x) => x.tool === tool);
      const y = y0 + k * bar;
      if (!c) return `<text x="${left + 4}" y="${y + bar - 1}" fill="#888">${tool}: n/a</text>`;
      const w = (c.imagesPerSecond / max) * plotW;
      return `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${bar - 1}" fill="${COLOURS[tool]}"/>`
        + `<text x="${(left + w + 4).toFixed(1)}" y="${y + bar - 1}">${c.imagesPerSecond.toFixed(c.imagesPerSecond < 100 ? 1 : 0)}</text>`;
    }).join('');
    const r = ratioOf(row);
    const ratio = r ? `<text x="${width - 10}" y="${y0 + 2 * bar}" text-anchor="end" font-weight="bold" fill="${r.ratio < 1 ? '#e5484d' : '#1a7f37'}">${r.ratio.toFixed(2)}×</text>` : '';
    return `<text x="${left - 8}" y="${y0 + bar + 2}" text-anchor="end"><tspan font-weight="bold">${row.id}</tspan> · ${INPUT_TITLES[row.input]}</text>`
      + `<text x="${left - 8}" y="${y0 + 2 * bar + 3}" text-anchor="end" fill="#555">${escapeXml(row.title)}</text>${bars}${ratio}`;
  }).join('\n');
  const legend = tools.map((tool, i) => `<rect x="${left + i * 110}" y="26" width="12" height="10" fill="${COLOURS[tool]}"/><text x="${left + 16 + i * 110}" y="35">${tool}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif" font-size="10">
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="16" font-size="13" font-weight="bold">Images per second, as a share of each row's fastest tool (one run)</text>
<text x="${width - 10}" y="35" text-anchor="end" font-weight="bold">imgfleet / faster</text>
${legend}
${groups}
</svg>
`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
