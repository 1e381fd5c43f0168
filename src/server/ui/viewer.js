// The compare view: the original and the result in one picture, split by a line that moves.
// Fitted, it scales smoothly; at 100% one result pixel is one screen pixel (1:1), and closer
// still pixels show as squares. Wheel and pinch zoom around the pointer; dragging pans.

import { $, api, focusOn } from './dom.js';
import { histogramFigure, histogramTable, legend } from './chart.js';
import { explainError, formatBytes, formatChange } from './words.js';

const MAX_SCALE = 32;
const canvas = $('compare-canvas');
const stage = $('stage');
const dialog = $('viewer');
const g = canvas.getContext('2d');

/** `scale`: device pixels per result pixel; `x`, `y`: where the result's top-left corner is, in device pixels. */
const view = { scale: 1, x: 0, y: 0, split: 0.5, fitted: true };
let shown;
let before;
let after;
let opener;

export async function openViewer(info, from) {
  shown = info;
  opener = from;
  before = after = undefined;
  $('viewer-title').textContent = `${info.name}: original and result`;
  $('label-before').textContent = 'Original';
  $('label-after').textContent = `Result · ${info.result.width}×${info.result.height} · ${formatBytes(info.result.bytes)}${info.original.bytes ? ` (${formatChange(info.original.bytes, info.result.bytes)})` : ''}`;
  setSplit(0.5);
  if (!dialog.open) dialog.showModal();
  dialog.scrollTop = 0;
  sizeCanvas();
  g.clearRect(0, 0, canvas.width, canvas.height);
  void showHistograms(info);
  try {
    [before, after] = await Promise.all([load(info.original.url), load(info.result.url)]);
  } catch {
    $('label-after').textContent = 'The images could not be loaded: they may have expired.';
    return;
  }
  if (shown !== info) return;
  $('label-before').textContent = `Original · ${before.naturalWidth}×${before.naturalHeight}${info.original.bytes ? ` · ${formatBytes(info.original.bytes)}` : ''}`;
  fit();
}

async function load(url) {
  const image = new Image();
  image.src = url;
  await image.decode();
  return image;
}

dialog.addEventListener('close', () => {
  shown = undefined;
  focusOn(opener);
});
$('viewer-close').addEventListener('click', () => dialog.close());

// ---- the view ----

function sizeCanvas() {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.max(1, Math.round(stage.clientWidth * ratio));
  canvas.height = Math.max(1, Math.round(stage.clientHeight * ratio));
}

function fit() {
  if (!after) return;
  const scale = Math.min(canvas.width / after.naturalWidth, canvas.height / after.naturalHeight);
  view.scale = scale;
  view.x = (canvas.width - after.naturalWidth * scale) / 2;
  view.y = (canvas.height - after.naturalHeight * scale) / 2;
  view.fitted = true;
  draw();
}

/** Zooms to `scale` keeping the image point under (px, py) where it is. */
function zoomAt(scale, px = canvas.width / 2, py = canvas.height / 2) {
  if (!after) return;
  const fitted = Math.min(canvas.width / after.naturalWidth, canvas.height / after.naturalHeight);
  const next = Math.max(Math.min(fitted, 1) / 2, Math.min(MAX_SCALE, scale));
  view.x = px - ((px - view.x) * next) / view.scale;
  view.y = py - ((py - view.y) * next) / view.scale;
  view.scale = next;
  // At whole multiples of a pixel, pixels land on whole device pixels: real pixels, not resampled.
  if (Number.isInteger(Math.round(next * 1e6) / 1e6)) {
    view.scale = Math.round(next);
    view.x = Math.round(view.x);
    view.y = Math.round(view.y);
  }
  view.fitted = false;
  draw();
}

/** One result pixel on one screen pixel. */
function realPixels(px, py) {
  zoomAt(1, px, py);
}

function pan(dx, dy) {
  if (!after) return;
  const width = after.naturalWidth * view.scale;
  const height = after.naturalHeight * view.scale;
  const keep = 48 * (window.devicePixelRatio || 1);
  view.x = Math.min(canvas.width - keep, Math.max(keep - width, view.x + dx));
  view.y = Math.min(canvas.height - keep, Math.max(keep - height, view.y + dy));
  if (view.scale === Math.round(view.scale)) { view.x = Math.round(view.x); view.y = Math.round(view.y); }
  view.fitted = false;
  draw();
}

function setSplit(fraction) {
  view.split = Math.max(0, Math.min(1, fraction));
  const percent = Math.round(view.split * 100);
  $('split').value = String(percent);
  $('split').setAttribute('aria-valuetext', `${percent}% original, ${100 - percent}% result`);
  draw();
}

function draw() {
  g.setTransform(1, 0, 0, 1, 0, 0);
  g.clearRect(0, 0, canvas.width, canvas.height);
  if (!before || !after) return;
  const { scale, x, y } = view;
  const width = after.naturalWidth * scale;
  const height = after.naturalHeight * scale;
  const at = Math.round(view.split * canvas.width);
  // The original fills the same frame as the result (a resize shows the same picture at both sides).
  const fitBefore = Math.min(width / before.naturalWidth, height / before.naturalHeight);
  const bw = before.naturalWidth * fitBefore;
  const bh = before.naturalHeight * fitBefore;
  clipped(0, at, () => {
    smoothing(fitBefore < 1);
    g.drawImage(before, x + (width - bw) / 2, y + (height - bh) / 2, bw, bh);
  });
  clipped(at, canvas.width, () => {
    smoothing(scale < 1);
    g.drawImage(after, x, y, width, height);
  });
  const ratio = window.devicePixelRatio || 1;
  g.fillStyle = '#17202c';
  g.fillRect(at - 2 * ratio, 0, 4 * ratio, canvas.height);
  g.fillStyle = '#fff';
  g.fillRect(at - ratio, 0, 2 * ratio, canvas.height);
  g.beginPath();
  g.arc(at, canvas.height / 2, 14 * ratio, 0, 2 * Math.PI);
  g.fill();
  g.lineWidth = 2 * ratio;
  g.strokeStyle = '#17202c';
  g.stroke();
  g.font = `${14 * ratio}px system-ui, sans-serif`;
  g.fillStyle = '#17202c';
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  g.fillText('‹ ›', at, canvas.height / 2);
  const percent = `${Math.round(scale * 100)}%`;
  $('zoom-level').textContent = scale === 1 ? '100% (1:1)' : percent;
  stage.dataset.scale = String(scale);
  stage.dataset.originX = String(x);
  stage.dataset.originY = String(y);
  stage.dataset.sampling = scale < 1 ? 'smooth' : 'pixels';
  stage.setAttribute('aria-label', `${shown?.name ?? ''}: the original on the left of the line, the result on the right; split at ${Math.round(view.split * 100)}%; zoom ${percent} of real pixels${view.fitted ? ', fitted' : ''}`);
}

function clipped(from, to, paint) {
  g.save();
  g.beginPath();
  g.rect(from, 0, to - from, canvas.height);
  g.clip();
  paint();
  g.restore();
}

function smoothing(on) {
  g.imageSmoothingEnabled = on;
  if (on) g.imageSmoothingQuality = 'high';
}

// ---- controls: buttons, keys, wheel, pointers ----

$('zoom-fit').addEventListener('click', fit);
$('zoom-real').addEventListener('click', () => realPixels());
$('zoom-in').addEventListener('click', () => zoomAt(view.scale * 1.5));
$('zoom-out').addEventListener('click', () => zoomAt(view.scale / 1.5));
$('split').addEventListener('input', () => setSplit(Number($('split').value) / 100));

stage.addEventListener('keydown', (event) => {
  const step = 48 * (window.devicePixelRatio || 1);
  const actions = {
    ArrowLeft: () => pan(step, 0), ArrowRight: () => pan(-step, 0), ArrowUp: () => pan(0, step), ArrowDown: () => pan(0, -step),
    '+': () => zoomAt(view.scale * 1.5), '=': () => zoomAt(view.scale * 1.5), '-': () => zoomAt(view.scale / 1.5),
    0: fit, 1: () => realPixels(),
  };
  const action = actions[event.key];
  if (!action) return;
  event.preventDefault();
  action();
});

const devicePoint = (event) => {
  const box = canvas.getBoundingClientRect();
  const ratio = window.devicePixelRatio || 1;
  return { x: (event.clientX - box.left) * ratio, y: (event.clientY - box.top) * ratio };
};

stage.addEventListener('wheel', (event) => {
  event.preventDefault();
  const { x, y } = devicePoint(event);
  const amount = event.deltaMode === 1 ? event.deltaY * 30 : event.deltaY;
  zoomAt(view.scale * Math.exp(-amount * 0.0015), x, y);
}, { passive: false });

stage.addEventListener('dblclick', (event) => {
  const { x, y } = devicePoint(event);
  if (view.scale < 1) realPixels(x, y);
  else fit();
});

const pointers = new Map();
let gesture;

stage.addEventListener('pointerdown', (event) => {
  stage.setPointerCapture(event.pointerId);
  pointers.set(event.pointerId, devicePoint(event));
  const points = [...pointers.values()];
  if (points.length === 1) {
    const nearLine = Math.abs(points[0].x - view.split * canvas.width) < 20 * (window.devicePixelRatio || 1);
    gesture = { kind: nearLine ? 'split' : 'pan', last: points[0] };
  } else if (points.length === 2) {
    gesture = { kind: 'pinch', distance: distance(points), middle: middle(points) };
  }
  stage.classList.add('dragging');
});

stage.addEventListener('pointermove', (event) => {
  if (!pointers.has(event.pointerId) || !gesture) return;
  pointers.set(event.pointerId, devicePoint(event));
  const points = [...pointers.values()];
  if (gesture.kind === 'split') {
    setSplit(points[0].x / canvas.width);
  } else if (gesture.kind === 'pan') {
    pan(points[0].x - gesture.last.x, points[0].y - gesture.last.y);
    gesture.last = points[0];
  } else if (gesture.kind === 'pinch' && points.length === 2) {
    const spread = distance(points);
    const centre = middle(points);
    zoomAt(view.scale * (spread / gesture.distance), centre.x, centre.y);
    pan(centre.x - gesture.middle.x, centre.y - gesture.middle.y);
    gesture = { kind: 'pinch', distance: spread, middle: centre };
  }
});

const release = (event) => {
  pointers.delete(event.pointerId);
  if (pointers.size === 0) {
    gesture = undefined;
    stage.classList.remove('dragging');
  } else if (pointers.size === 1) {
    gesture = { kind: 'pan', last: [...pointers.values()][0] };
  }
};
stage.addEventListener('pointerup', release);
stage.addEventListener('pointercancel', release);

const distance = ([a, b]) => Math.hypot(a.x - b.x, a.y - b.y) || 1;
const middle = ([a, b]) => ({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });

new ResizeObserver(() => {
  if (!dialog.open) return;
  const centre = { x: canvas.width / 2, y: canvas.height / 2 };
  sizeCanvas();
  if (view.fitted) fit();
  else {
    view.x += canvas.width / 2 - centre.x;
    view.y += canvas.height / 2 - centre.y;
    draw();
  }
}).observe(stage);

// ---- histograms of both, from the server ----

async function showHistograms(info) {
  const charts = $('charts');
  charts.replaceChildren();
  $('histogram-legend').replaceChildren();
  $('histogram-table').replaceChildren();
  $('histograms-status').textContent = 'Counting the levels of both images…';
  try {
    const { input, output } = await (await api(info.histograms)).json();
    if (shown !== info) return;
    const named = [['Original', input], ...(output ? [['Result', output]] : [])];
    charts.replaceChildren(...named.map(([caption, histogram]) => histogramFigure(caption, histogram)));
    $('histogram-legend').replaceChildren(...legend(named.map(([, h]) => h)));
    $('histogram-table').replaceChildren(histogramTable(named));
    $('histograms-status').textContent = 'How many pixels have each level, from dark (0) to light (255).';
  } catch (error) {
    if (shown === info) $('histograms-status').textContent = `The histograms are not available. ${explainError(error.code)}`;
  }
}
