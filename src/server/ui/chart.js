// Histograms as SVG charts with axes and a legend, and the same numbers as a table.

import { element } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
/** Line colours with at least 3:1 contrast on white. */
export const CHANNELS = {
  red: { label: 'Red', colour: '#c62828' },
  green: { label: 'Green', colour: '#2e7d32' },
  blue: { label: 'Blue', colour: '#1565c0' },
  gray: { label: 'Grey', colour: '#3d3d3d' },
};
const BOX = { width: 320, height: 172, left: 44, right: 312, top: 10, bottom: 128 };
const TABLE_RANGES = 8;

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

const total = (counts) => counts.reduce((a, b) => a + b, 0);
const percent = (share) => `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;

/** A chart of one histogram: a filled line per channel, on a square-root scale so one spike does not flatten the rest. */
export function histogramFigure(caption, histogram) {
  const channels = Object.entries(histogram.channels);
  const pixels = total(channels[0][1]) || 1;
  const peak = Math.max(...channels.flatMap(([, counts]) => counts)) / pixels || 1;
  const { left, right, top, bottom } = BOX;
  const x = (bin) => left + ((bin + 0.5) / histogram.bins) * (right - left);
  const y = (share) => bottom - Math.sqrt(share / peak) * (bottom - top);
  const chart = svg('svg', { viewBox: `0 0 ${BOX.width} ${BOX.height}`, role: 'img', 'aria-label': `${caption}: ${describe(histogram)}` });
  // Axes, ticks and their words.
  chart.append(svg('line', { x1: left, y1: bottom, x2: right, y2: bottom, stroke: '#566070' }), svg('line', { x1: left, y1: top, x2: left, y2: bottom, stroke: '#566070' }));
  for (const level of [0, 64, 128, 192, 255]) {
    const at = left + ((level + 0.5) / 256) * (right - left);
    chart.append(svg('line', { x1: at, y1: bottom, x2: at, y2: bottom + 4, stroke: '#566070' }), svg('text', { x: at, y: bottom + 15, 'text-anchor': 'middle' }, String(level)));
  }
  for (const share of [0, peak / 4, peak]) {
    chart.append(svg('line', { x1: left - 4, y1: y(share), x2: left, y2: y(share), stroke: '#566070' }),
      svg('text', { x: left - 6, y: y(share) + 3, 'text-anchor': 'end' }, percent(share)));
  }
  chart.append(svg('text', { x: (left + right) / 2, y: BOX.height - 8, 'text-anchor': 'middle' }, 'level: 0 dark … 255 light'),
    svg('text', { x: 10, y: (top + bottom) / 2, 'text-anchor': 'middle', transform: `rotate(-90 10 ${(top + bottom) / 2})` }, 'pixels (√ scale)'));
  for (const [name, counts] of channels) {
    const points = counts.map((count, bin) => `${x(bin).toFixed(1)},${y(count / pixels).toFixed(1)}`);
    const colour = CHANNELS[name].colour;
    chart.append(svg('path', { d: `M${x(0).toFixed(1)},${bottom} L${points.join(' L')} L${x(counts.length - 1).toFixed(1)},${bottom} Z`, fill: colour, 'fill-opacity': 0.16, stroke: colour, 'stroke-width': 1.3, 'stroke-linejoin': 'round' }));
  }
  return element('figure', {}, element('figcaption', { textContent: `${caption} · ${histogram.width}×${histogram.height}` }), chart);
}

/** The chart in words: the mean of each channel and how much is dark or light. */
export function describe(histogram) {
  const parts = [];
  let dark = 0;
  let light = 0;
  let all = 0;
  for (const [name, counts] of Object.entries(histogram.channels)) {
    const pixels = total(counts) || 1;
    const mean = counts.reduce((sum, count, bin) => sum + count * ((bin + 0.5) * 256) / histogram.bins, 0) / pixels;
    parts.push(`${CHANNELS[name].label.toLowerCase()} ${Math.round(mean - 0.5)}`);
    counts.forEach((count, bin) => {
      const level = (bin * 256) / histogram.bins;
      if (level < 64) dark += count;
      if (level >= 192) light += count;
    });
    all += pixels;
  }
  return `mean level ${parts.join(', ')}; ${percent(dark / all)} of values are dark (below 64) and ${percent(light / all)} light (192 and above)`;
}

export function legend(histograms) {
  const names = new Set(histograms.flatMap((h) => Object.keys(h.channels)));
  return [...names].map((name) => element('span', {}, Object.assign(element('i', { 'aria-hidden': true }), { style: `color: ${CHANNELS[name].colour}; background: ${CHANNELS[name].colour}29` }), CHANNELS[name].label));
}

/** The same histograms as a table: the share of pixels in each eighth of the levels. */
export function histogramTable(named) {
  const columns = named.flatMap(([caption, histogram]) => Object.entries(histogram.channels).map(([channel, counts]) => ({ heading: `${caption}: ${CHANNELS[channel].label.toLowerCase()}`, counts, bins: histogram.bins })));
  const head = element('tr', {}, element('th', { scope: 'col', textContent: 'Levels' }), ...columns.map((c) => element('th', { scope: 'col', textContent: c.heading })));
  const rows = Array.from({ length: TABLE_RANGES }, (_, range) => {
    const from = (range * 256) / TABLE_RANGES;
    const to = from + 256 / TABLE_RANGES - 1;
    return element('tr', {}, element('th', { scope: 'row', textContent: `${from}–${to}` }), ...columns.map((c) => {
      let sum = 0;
      c.counts.forEach((count, bin) => { const level = (bin * 256) / c.bins; if (level >= from && level <= to) sum += count; });
      return element('td', { textContent: percent(sum / (total(c.counts) || 1)) });
    }));
  });
  return element('table', {}, element('caption', { className: 'visually-hidden', textContent: 'Share of pixels in each range of levels, 0 dark to 255 light' }), element('thead', {}, head), element('tbody', {}, ...rows));
}
