import { loadSharp } from '../image/sharp-module.js';
import type { HistogramData } from '../ops/histogram.js';

const COLOURS: Record<string, string> = { red: '#e5484d', green: '#30a46c', blue: '#3e63dd', gray: '#6f6f6f' };

/** A bar chart of the histogram as an SVG: one translucent layer per channel, log-free linear counts. */
export function histogramSvg(histogram: HistogramData, title: string, width = 768, height = 320): string {
  const pad = { left: 48, right: 16, top: 32, bottom: 28 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const channels = Object.entries(histogram.channels) as [string, number[]][];
  const max = Math.max(1, ...channels.flatMap(([, counts]) => counts));
  const barW = plotW / histogram.bins;
  const layers = channels.map(([name, counts]) => {
    const bars = counts.map((count, i) => {
      const h = (count / max) * plotH;
      return h > 0 ? `<rect x="${(pad.left + i * barW).toFixed(2)}" y="${(pad.top + plotH - h).toFixed(2)}" width="${Math.max(barW, 1).toFixed(2)}" height="${h.toFixed(2)}"/>` : '';
    }).join('');
    return `<g fill="${COLOURS[name]}" fill-opacity="${channels.length > 1 ? 0.5 : 0.85}">${bars}</g>`;
  }).join('');
  const legend = channels.map(([name], i) =>
    `<rect x="${width - pad.right - 70}" y="${8 + i * 14}" width="10" height="10" fill="${COLOURS[name]}"/><text x="${width - pad.right - 55}" y="${17 + i * 14}">${name}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, sans-serif" font-size="11">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="${pad.left}" y="20" font-size="13" font-weight="bold">${escapeXml(title)}</text>
${layers}
<line x1="${pad.left}" y1="${pad.top + plotH}" x2="${pad.left + plotW}" y2="${pad.top + plotH}" stroke="#333"/>
<text x="${pad.left}" y="${height - 8}">0</text><text x="${pad.left + plotW}" y="${height - 8}" text-anchor="end">255</text>
<text x="${pad.left - 6}" y="${pad.top + 8}" text-anchor="end">${max}</text>
${legend}
</svg>`;
}

export function histogramPng(histogram: HistogramData, title: string): Promise<Buffer> {
  return loadSharp()(Buffer.from(histogramSvg(histogram, title))).png().toBuffer();
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
