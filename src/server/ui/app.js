// The imgfleet page: choose photos, build the steps from the server's operations (with a live
// preview), run them as a job followed live, compare each result with its original.
// No framework and no build step: these modules are served as they are.

import { $, api, element, focusOn, state, whenUnauthorized } from './dom.js';
import { showInfo } from './info.js';
import { loadPresets } from './presets.js';
import { renderSamples, schedulePreview } from './preview.js';
import { cancelRun, restoreLastRun, runJob, updateRunButton } from './run.js';
import { addStep, applyCompact, EXAMPLES, onPipelineChecked, pageUrl, pipelineChanged, rememberedPipeline, syncOutputControls } from './steps.js';
import { explainError, formatBytes } from './words.js';

const FORMAT_NAMES = { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', avif: 'AVIF', tiff: 'TIFF', gif: 'GIF' };

// ---- signing in ----

whenUnauthorized(() => {
  $('login').hidden = false;
  $('token').focus();
});

// The server trades the token for a session cookie that this page's scripts never see.
$('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const response = await fetch('/v1/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: $('token').value }) });
  if (!response.ok) {
    $('token').setAttribute('aria-invalid', 'true');
    $('token').focus();
    return;
  }
  $('token').value = '';
  $('token').removeAttribute('aria-invalid');
  $('login').hidden = true;
  void start();
});

// ---- photos ----

let nextPhotoId = 1;

function addFiles(list) {
  const added = [];
  for (const file of list) {
    if (state.photos.some((p) => p.file.name === file.name && p.file.size === file.size)) continue;
    const photo = { id: nextPhotoId++, file, url: URL.createObjectURL(file), viewable: true };
    state.photos.push(photo);
    added.push(photo);
  }
  renderPhotos();
  for (const photo of added) void inspect(photo);
}

/** Its size from the browser's own decoder; a format the browser cannot show gets a thumbnail from the server. */
async function inspect(photo) {
  const image = new Image();
  image.src = photo.url;
  try {
    await image.decode();
    photo.width = image.naturalWidth;
    photo.height = image.naturalHeight;
  } catch {
    photo.viewable = false;
    try {
      const response = await api('/v1/process?pipeline=resize:width=640:height=640:enlarge=false,output:png', { method: 'POST', body: photo.file, headers: { 'Content-Type': 'application/octet-stream' } });
      photo.thumb = URL.createObjectURL(await response.blob());
    } catch (error) {
      photo.problem = explainError(error.code);
    }
  }
  if (state.photos.includes(photo)) {
    renderPhotos();
    schedulePreview();
  }
}

function renderPhotos() {
  $('chosen').replaceChildren(...state.photos.map((photo, index) => {
    const thumb = photo.viewable || photo.thumb
      ? element('img', { src: photo.viewable ? photo.url : photo.thumb, alt: '' })
      : element('span', { className: 'no-thumb' });
    const remove = element('button', { type: 'button', className: 'secondary icon', id: `remove-photo-${photo.id}`, textContent: '✕', 'aria-label': `Remove ${photo.file.name}` });
    remove.addEventListener('click', () => removePhoto(index));
    const about = element('span', { className: 'about' },
      element('span', { textContent: photo.file.name, title: photo.file.name }),
      element('span', { textContent: photo.problem ?? `${photo.width ? `${photo.width}×${photo.height} · ` : ''}${formatBytes(photo.file.size)}` }));
    return element('li', {}, thumb, about, remove);
  }));
  const total = state.photos.reduce((sum, p) => sum + p.file.size, 0);
  $('chosen-foot').hidden = state.photos.length === 0;
  $('chosen-total').textContent = `${state.photos.length} ${state.photos.length === 1 ? 'photo' : 'photos'}, ${formatBytes(total)}`;
  updateRunButton();
  renderSamples();
  showInfo();
}

function release(photo) {
  // Results on screen may still show it.
  if (!state.run?.originals?.some((o) => o.url === photo.url)) URL.revokeObjectURL(photo.url);
}

function removePhoto(index) {
  const [photo] = state.photos.splice(index, 1);
  release(photo);
  renderPhotos();
  const next = state.photos[index] ?? state.photos[index - 1];
  focusOn(next ? $(`remove-photo-${next.id}`) : $('choose'));
}

$('clear-photos').addEventListener('click', () => {
  for (const photo of state.photos.splice(0)) release(photo);
  renderPhotos();
  focusOn($('choose'));
});

$('choose').addEventListener('click', () => $('files').click());
$('files').addEventListener('change', (event) => {
  addFiles(event.target.files);
  event.target.value = '';
});
const drop = $('drop');
drop.addEventListener('dragover', (event) => {
  event.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (event) => {
  event.preventDefault();
  drop.classList.remove('over');
  addFiles(event.dataTransfer.files);
});

// ---- steps, result settings and the text form ----

$('add-step').addEventListener('click', () => {
  const step = addStep($('op-picker').value);
  // Focus goes to the new step's first setting, ready to be set.
  pipelineChanged({ redraw: true, focus: firstControlId(step) });
  document.getElementById(`step-${step.uid}`)?.scrollIntoView({ block: 'nearest' });
});

function firstControlId(step) {
  const first = Object.keys(state.ops[step.op].properties).find((name) => name !== 'op');
  return first ? `p-${step.uid}-${first}` : `step-${step.uid}-remove`;
}

$('op-picker').addEventListener('change', showOpHelp);
function showOpHelp() {
  $('op-help').textContent = state.ops[$('op-picker').value]?.description ?? '';
}

$('out-format').addEventListener('change', () => {
  state.output.format = $('out-format').value;
  pipelineChanged();
});
$('out-quality').addEventListener('input', () => {
  const text = $('out-quality').value;
  state.output.quality = text === '' ? undefined : Number(text);
  if (text !== '') $('out-quality-slider').value = text;
  pipelineChanged();
});
$('out-quality-slider').addEventListener('input', () => {
  $('out-quality').value = $('out-quality-slider').value;
  state.output.quality = Number($('out-quality-slider').value);
  pipelineChanged();
});
$('tile-size').addEventListener('input', () => {
  state.tile = $('tile-size').value.trim();
  pipelineChanged();
});

let appliedText;
const applyTyped = () => {
  const text = $('compact').value;
  if (text === appliedText) return;
  appliedText = text;
  void applyCompact(text);
};
$('compact').addEventListener('keydown', (event) => {
  if (event.key !== 'Enter') return;
  event.preventDefault();
  applyTyped();
});
$('compact').addEventListener('change', applyTyped);
$('compact').addEventListener('focus', () => { appliedText = $('compact').value; });

$('copy-link').addEventListener('click', async () => {
  const button = $('copy-link');
  try {
    await navigator.clipboard.writeText(new URL(pageUrl(), location.href).href);
    button.textContent = 'Link copied';
  } catch {
    button.textContent = 'The address bar has the link';
  }
  setTimeout(() => { button.textContent = 'Copy link'; }, 2500);
});

onPipelineChecked(() => {
  updateRunButton();
  schedulePreview();
});

// ---- run ----

$('run').addEventListener('click', runJob);
$('cancel').addEventListener('click', () => void cancelRun());

// ---- workers (cluster mode) ----

const lastDone = new Map();
async function pollWorkers() {
  try {
    const { mode, workers } = await (await api('/v1/workers')).json();
    if (mode !== 'cluster') return;
    $('workers-panel').hidden = false;
    $('mode').textContent = `Cluster: ${workers.length} ${workers.length === 1 ? 'worker' : 'workers'}`;
    const now = Date.now();
    $('workers').replaceChildren(...workers.map((w) => {
      const previous = lastDone.get(w.name);
      const rate = previous ? ((w.done - previous.done) * 1000) / Math.max(1, now - previous.at) : 0;
      lastDone.set(w.name, { done: w.done, at: now });
      const fill = element('div');
      fill.style.width = `${Math.min(100, (100 * w.active) / Math.max(1, w.concurrency))}%`;
      return element('tr', {},
        element('td', { textContent: w.name }), element('td', { textContent: w.host }),
        element('td', {}, element('span', { className: 'load', 'aria-hidden': true }, fill), `${w.active}/${w.concurrency}`),
        element('td', { textContent: String(w.done) }), element('td', { textContent: String(w.failed) }),
        element('td', { textContent: rate.toFixed(1) }), element('td', { textContent: `${((now - w.lastSeen) / 1000).toFixed(1)} s ago` }));
    }));
    setTimeout(pollWorkers, 2000);
  } catch {
    setTimeout(pollWorkers, 5000);
  }
}

// ---- start ----

async function start() {
  let ops;
  try {
    [ops, state.info] = await Promise.all([api('/v1/ops').then((r) => r.json()), api('/v1/info').then((r) => r.json())]);
  } catch (error) {
    $('run-hint').textContent = explainError(error.code);
    return;
  }
  state.ops = Object.fromEntries(Object.entries(ops.operations).filter(([, op]) => op.kind === 'image'));
  state.dataOps = new Set(Object.keys(ops.operations).filter((name) => !state.ops[name]));
  state.formats = ops.formats.filter((f) => f in FORMAT_NAMES);
  $('op-picker').replaceChildren(...Object.entries(state.ops).map(([name, op]) => element('option', { value: name, textContent: op.title ?? name })));
  showOpHelp();
  $('out-format').replaceChildren(element('option', { value: '', textContent: 'Same as the original' }),
    ...state.formats.map((f) => element('option', { value: f, textContent: FORMAT_NAMES[f] })));
  $('out-format-help').textContent = 'JPEG, WebP and AVIF are small; PNG and TIFF keep every pixel exactly.';
  $('out-quality-help').textContent = sentence(ops.output.properties.quality.description);
  $('examples').replaceChildren(...EXAMPLES.map(([name, text]) => {
    const chip = element('button', { type: 'button', className: 'secondary', textContent: name, title: text });
    chip.addEventListener('click', () => void applyCompact(text).then(() => focusOn(chip)));
    return chip;
  }));
  const { info } = state;
  $('mode').textContent = info.mode === 'cluster' ? 'Cluster' : 'Runs on this server';
  $('dashboard-link').hidden = info.mode !== 'cluster';
  $('limits').textContent = `Up to ${info.maxFiles} photos at once, ${formatBytes(info.limits.maxFileBytes)} and ${Math.round(info.limits.maxInputPixels / 1e6)} megapixels each. ${(info.formats?.read ?? Object.keys(FORMAT_NAMES)).map((f) => FORMAT_NAMES[f] ?? f.toUpperCase()).join(', ')}.`;
  if (info.mode === 'cluster') void pollWorkers();
  void loadPresets();

  const remembered = rememberedPipeline();
  state.tile = remembered.tile;
  syncOutputControls();
  if (remembered.text) {
    // A link's steps that do not check stay in the text form, with what is wrong.
    $('compact').value = remembered.text;
    await applyCompact(remembered.text);
  } else {
    pipelineChanged({ redraw: true, now: true });
  }
  await restoreLastRun();
  updateRunButton();
}

const sentence = (text) => `${text.charAt(0).toUpperCase()}${text.slice(1)}${text.endsWith('.') || text.endsWith(')') ? '' : '.'}`;

void start();
