// The live preview: the steps applied to one chosen photo through POST /v1/process, a moment
// after each change, so settings can be tried before the whole batch runs.

import { $, api, element, state } from './dom.js';
import { pipelineSpec, usedLogos } from './steps.js';
import { explainError, formatBytes, formatChange } from './words.js';

const WAIT_MS = 450;
const BROWSER_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'avif']);
let timer;
let controller;
let lastKey;
let shownUrl;

export function schedulePreview() {
  clearTimeout(timer);
  timer = setTimeout(() => void refreshPreview(), WAIT_MS);
}

/** The photos to preview with, in a list; the first one unless another is chosen. */
export function renderSamples() {
  const select = $('sample');
  const chosen = select.value;
  select.replaceChildren(...state.photos.map((p) => element('option', { value: String(p.id), textContent: p.file.name })));
  if (state.photos.some((p) => String(p.id) === chosen)) select.value = chosen;
  $('sample-row').hidden = state.photos.length < 2;
  schedulePreview();
}

$('sample').addEventListener('change', schedulePreview);

const inputFormat = (file) => (/tiff?$/i.test(file.type) || /\.tiff?$/i.test(file.name) ? 'tiff' : file.type.replace('image/', ''));

async function refreshPreview() {
  const photo = state.photos.find((p) => String(p.id) === $('sample').value) ?? state.photos[0];
  const status = $('preview-status');
  if (!photo) {
    $('preview-pair').hidden = true;
    status.textContent = 'Choose a photo and add a step to see a preview.';
    lastKey = undefined;
    return;
  }
  $('preview-pair').hidden = false;
  const before = $('preview-before');
  const beforeUrl = photo.viewable ? photo.url : photo.thumb;
  if (beforeUrl && before.getAttribute('src') !== beforeUrl) before.src = beforeUrl;
  before.alt = `Original: ${photo.file.name}`;
  $('preview-before-caption').textContent = `Original · ${photo.width ? `${photo.width}×${photo.height} · ` : ''}${formatBytes(photo.file.size)}`;
  const after = $('preview-after');
  if (!state.steps.length || !state.check.valid) {
    after.classList.add('stale');
    status.textContent = state.steps.length ? 'Fix what is marked in the steps to update the preview.' : 'Add a step to see a preview.';
    lastKey = undefined;
    return;
  }
  const spec = pipelineSpec();
  const format = spec.output.format || inputFormat(photo.file);
  // A TIFF result is shown as a PNG of the same pixels: browsers do not show TIFF.
  const asPng = !BROWSER_FORMATS.has(format);
  if (asPng) spec.output = { format: 'png' };
  const logos = usedLogos();
  const key = JSON.stringify([spec, photo.id, logos]);
  if (key === lastKey) return;
  lastKey = key;
  controller?.abort();
  controller = new AbortController();
  const form = new FormData();
  form.append('pipeline', JSON.stringify(spec));
  for (const name of logos) form.append('logo', state.logos.get(name), name);
  form.append('file', photo.file, photo.file.name);
  after.classList.add('stale');
  status.textContent = 'Updating the preview…';
  try {
    const response = await api('/v1/process', { method: 'POST', body: form, signal: controller.signal });
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const image = new Image();
    image.src = url;
    await image.decode();
    if (lastKey !== key) return URL.revokeObjectURL(url);
    if (shownUrl) URL.revokeObjectURL(shownUrl);
    shownUrl = url;
    after.src = url;
    after.alt = `Preview of the result for ${photo.file.name}`;
    after.classList.remove('stale');
    $('preview-after-caption').textContent = `Result · ${image.naturalWidth}×${image.naturalHeight} · ${formatBytes(blob.size)}${asPng ? ' as PNG (shown instead of TIFF)' : ` (${formatChange(photo.file.size, blob.size)})`}`;
    status.textContent = `Preview of ${photo.file.name}.`;
  } catch (error) {
    if (error.name === 'AbortError') return;
    lastKey = undefined;
    status.textContent = `No preview: ${explainError(error.code)} (${error.message})`;
  }
}
