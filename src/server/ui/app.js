// The imgfleet page: choose photos, build a pipeline from the server's operations, run it as a
// job, follow it live (Server-Sent Events), compare before/after, see histograms, download.

const $ = (id) => document.getElementById(id);
const TOKEN_COOKIE = 'imgfleet_token';

/** Plain words for each error code; the server's message follows in small print. */
const PLAIN_ERRORS = {
  NOT_AN_IMAGE: 'This file is not an image.',
  UNSUPPORTED_FORMAT: 'This image format is not supported.',
  CORRUPT_IMAGE: 'This image is damaged or cut short, so it could not be read.',
  EMPTY_FILE: 'This file is empty.',
  FILE_TOO_LARGE: 'This file is larger than the server accepts.',
  TOO_MANY_FILES: 'Too many files at once for this server.',
  TOO_MANY_PIXELS: 'This image has more pixels than the server accepts.',
  OUTPUT_TOO_LARGE: 'The result would be larger than the server allows.',
  BAD_PIPELINE: 'The pipeline has a mistake.',
  BAD_REGION: 'The crop region is outside this image.',
  TIMEOUT: 'This image took too long and was stopped.',
  QUEUE_FULL: 'The server is busy; try again in a moment.',
  UNAUTHORIZED: 'This server needs a valid token.',
  NOT_FOUND: 'Not found (the results may have expired).',
  INTERNAL: 'Something went wrong on the server.',
};

const state = {
  ops: {},
  output: {},
  files: [],
  steps: [],
  /** A result's before/after URLs, by result index. */
  results: [],
  /** Tiles of each large image in a running job, by result index. */
  tileMaps: [],
  job: null,
  events: null,
};

async function api(path, init = {}) {
  const response = await fetch(path, init);
  if (response.status === 401) {
    showLogin();
    throw new Error(PLAIN_ERRORS.UNAUTHORIZED);
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    const error = new Error(body.error?.message ?? `${response.status} ${response.statusText}`);
    error.code = body.error?.code;
    throw error;
  }
  return response;
}

function showLogin() {
  $('login').hidden = false;
  $('token').focus();
}

$('login').addEventListener('submit', (event) => {
  event.preventDefault();
  document.cookie = `${TOKEN_COOKIE}=${encodeURIComponent($('token').value)}; path=/; SameSite=Strict`;
  $('login').hidden = true;
  void start();
});

// ---- photos ----

function addFiles(list) {
  for (const file of list) {
    if (state.files.some((f) => f.file.name === file.name && f.file.size === file.size)) continue;
    state.files.push({ file, url: URL.createObjectURL(file) });
  }
  renderFiles();
}

function renderFiles() {
  const list = $('chosen');
  list.replaceChildren(...state.files.map((entry, index) => {
    const li = element('li');
    const img = element('img', { src: entry.url, alt: '' });
    const name = element('span', { textContent: `${entry.file.name} · ${formatBytes(entry.file.size)}`, title: entry.file.name });
    const remove = element('button', { type: 'button', textContent: '✕', ariaLabel: `Remove ${entry.file.name}` });
    remove.addEventListener('click', () => {
      URL.revokeObjectURL(entry.url);
      state.files.splice(index, 1);
      renderFiles();
    });
    li.append(img, name, remove);
    return li;
  }));
  updateRunButton();
}

const drop = $('drop');
$('files').addEventListener('change', (event) => {
  addFiles(event.target.files);
  event.target.value = '';
});
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

// ---- pipeline ----

function addStep(op, params = {}) {
  const schema = state.ops[op];
  const values = {};
  for (const [name, prop] of Object.entries(schema.properties)) {
    if (name === 'op') continue;
    if (name in params) values[name] = params[name];
    else if (prop.default !== undefined) values[name] = prop.default;
  }
  // A new step needs its required values to be valid; start from something sensible.
  if (op === 'resize' && values.width === undefined && values.height === undefined) values.width = 800;
  if (op === 'crop' && values.width === undefined) Object.assign(values, { left: 0, top: 0, width: 400, height: 400 });
  if (op === 'watermark' && values.text === undefined && values.image === undefined) values.text = 'imgfleet';
  state.steps.push({ op, values });
}

function renderSteps() {
  $('steps').replaceChildren(...state.steps.map((step, index) => {
    const schema = state.ops[step.op];
    const li = element('li', { className: 'step' });
    li.dataset.op = step.op;
    const head = element('div', { className: 'step-head' });
    const title = element('strong', { textContent: `${index + 1}. ${step.op}`, title: schema.description });
    const up = element('button', { type: 'button', textContent: '↑', ariaLabel: `Move ${step.op} up`, disabled: index === 0 });
    const down = element('button', { type: 'button', textContent: '↓', ariaLabel: `Move ${step.op} down`, disabled: index === state.steps.length - 1 });
    const remove = element('button', { type: 'button', textContent: '✕', ariaLabel: `Remove ${step.op}` });
    up.addEventListener('click', () => moveStep(index, -1));
    down.addEventListener('click', () => moveStep(index, 1));
    remove.addEventListener('click', () => {
      state.steps.splice(index, 1);
      pipelineChanged();
    });
    head.append(title, up, down, remove);
    const params = element('div', { className: 'params' });
    for (const [name, prop] of Object.entries(schema.properties)) {
      if (name === 'op') continue;
      params.append(paramControl(step, name, prop));
    }
    li.append(head, params);
    return li;
  }));
}

function moveStep(index, by) {
  const [step] = state.steps.splice(index, 1);
  state.steps.splice(index + by, 0, step);
  pipelineChanged();
}

/** One parameter as a proper control: slider + number for ranges, a list for choices, a switch, a colour. */
function paramControl(step, name, prop) {
  const label = element('label', { className: 'param', title: prop.description ?? '' });
  const caption = element('span', { textContent: name + (prop.default === undefined ? '' : ` (${prop.default})`) });
  const row = element('span', { className: 'row' });
  const set = (value) => {
    if (value === '' || value === undefined || Number.isNaN(value)) delete step.values[name];
    else step.values[name] = value;
    pipelineChanged({ keepControls: true });
  };
  const current = step.values[name];
  const aria = `${step.op} ${name}`;
  if (prop.enum) {
    const select = element('select', { ariaLabel: aria });
    if (prop.default === undefined) select.append(element('option', { value: '', textContent: '—' }));
    for (const option of prop.enum) select.append(element('option', { value: option, textContent: option }));
    select.value = current ?? '';
    select.addEventListener('change', () => set(select.value || undefined));
    row.append(select);
  } else if (prop.type === 'boolean') {
    const box = element('input', { type: 'checkbox', checked: Boolean(current), ariaLabel: aria });
    box.addEventListener('change', () => set(box.checked));
    row.append(box);
  } else if (prop.type === 'number' || prop.type === 'integer') {
    const step1 = prop.type === 'integer' ? 1 : rangeStep(prop);
    const number = element('input', { type: 'number', value: current ?? '', step: String(step1), ariaLabel: aria, placeholder: 'auto' });
    if (prop.minimum !== undefined) number.min = String(prop.minimum);
    if (prop.maximum !== undefined) number.max = String(prop.maximum);
    const read = (text) => (text === '' ? undefined : Number(text));
    number.addEventListener('change', () => set(read(number.value)));
    if (prop.minimum !== undefined && prop.maximum !== undefined && prop.maximum - prop.minimum <= 1000) {
      const slider = element('input', { type: 'range', min: String(prop.minimum), max: String(prop.maximum), step: String(step1), value: String(current ?? prop.default ?? prop.minimum), ariaLabel: `${aria} slider` });
      slider.addEventListener('input', () => { number.value = slider.value; });
      slider.addEventListener('change', () => set(read(slider.value)));
      number.addEventListener('input', () => { if (number.value !== '') slider.value = number.value; });
      row.append(slider);
    }
    row.append(number);
  } else if (prop.format === 'color') {
    const picker = element('input', { type: 'color', value: /^#[0-9a-f]{6}$/i.test(current ?? '') ? current : '#000000', ariaLabel: `${aria} picker` });
    const text = element('input', { type: 'text', value: current ?? '', ariaLabel: aria, size: 8 });
    picker.addEventListener('change', () => { text.value = picker.value; set(picker.value); });
    text.addEventListener('change', () => set(text.value || undefined));
    row.append(picker, text);
  } else {
    const text = element('input', { type: 'text', value: current ?? '', ariaLabel: aria });
    text.addEventListener('change', () => set(text.value || undefined));
    row.append(text);
  }
  label.append(caption, row);
  return label;
}

function rangeStep(prop) {
  const span = (prop.maximum ?? 10) - (prop.minimum ?? 0);
  return span <= 2 ? 0.01 : span <= 20 ? 0.1 : 1;
}

function pipelineSpec() {
  const output = {};
  if ($('out-format').value) output.format = $('out-format').value;
  if ($('out-quality').value) output.quality = Number($('out-quality').value);
  return { steps: state.steps.map((s) => ({ op: s.op, ...s.values })), output };
}

let checkTimer;
/** After any edit: redraw the steps (unless a control is being used) and have the server check and shorten it. */
function pipelineChanged({ keepControls = false } = {}) {
  if (!keepControls) renderSteps();
  clearTimeout(checkTimer);
  checkTimer = setTimeout(() => void checkPipeline(JSON.stringify(pipelineSpec()), false), 150);
  updateRunButton();
}

let pipelineValid = false;
async function checkPipeline(text, fromCompact) {
  if (pipelineSpec().steps.length === 0 && !fromCompact) {
    pipelineValid = false;
    $('compact').value = '';
    $('pipeline-error').textContent = '';
    updateRunButton();
    return;
  }
  try {
    const response = await api(`/v1/pipeline?pipeline=${encodeURIComponent(text)}`);
    const { spec, compact } = await response.json();
    $('pipeline-error').textContent = '';
    pipelineValid = true;
    if (fromCompact) {
      state.steps = [];
      for (const { op, ...params } of spec.steps) addStep(op, params);
      $('out-format').value = spec.output?.format ?? '';
      $('out-quality').value = spec.output?.quality ?? '';
      renderSteps();
    } else if (document.activeElement !== $('compact')) {
      $('compact').value = compact;
    }
  } catch (error) {
    pipelineValid = false;
    $('pipeline-error').textContent = error.message;
  }
  updateRunButton();
}

$('add-step').addEventListener('click', () => {
  addStep($('op-picker').value);
  pipelineChanged();
});
$('op-picker').addEventListener('change', () => {
  $('op-summary').textContent = state.ops[$('op-picker').value]?.description ?? '';
});
$('out-format').addEventListener('change', () => pipelineChanged({ keepControls: true }));
$('out-quality').addEventListener('change', () => pipelineChanged({ keepControls: true }));
$('compact').addEventListener('change', () => void checkPipeline($('compact').value, true));

function updateRunButton() {
  const running = state.job && !state.job.done;
  $('run').disabled = running || state.files.length === 0 || state.steps.length === 0 || !pipelineValid;
}

// ---- running ----

$('run').addEventListener('click', () => void runJob());

async function runJob() {
  state.events?.close();
  const form = new FormData();
  form.append('pipeline', JSON.stringify(pipelineSpec()));
  if ($('tile-size').value) form.append('tile', $('tile-size').value);
  for (const { file } of state.files) form.append('file', file, file.name);
  const originals = state.files.slice();
  state.job = { done: false };
  updateRunButton();
  $('zip').hidden = true;
  setProgress(0, originals.length, 'Uploading…');
  let job;
  try {
    job = await (await api('/v1/jobs', { method: 'POST', body: form })).json();
  } catch (error) {
    state.job = null;
    setProgress(0, 1, `${PLAIN_ERRORS[error.code] ?? 'The job could not start.'} ${error.message}`);
    updateRunButton();
    return;
  }
  state.job = { ...job, done: false };
  state.results = originals.map((o) => ({ before: o.url, after: null, name: o.file.name }));
  state.tileMaps = [];
  renderResults(originals.map((o) => ({ name: o.file.name, status: 'queued' })));
  const events = new EventSource(job.events);
  state.events = events;
  events.addEventListener('status', (event) => showStatus(JSON.parse(event.data)));
  events.addEventListener('file', (event) => {
    const file = JSON.parse(event.data);
    updateResult(file.index, file);
    countProgress();
  });
  events.addEventListener('tile', (event) => drawTile(JSON.parse(event.data)));
  events.addEventListener('end', (event) => {
    events.close();
    const status = JSON.parse(event.data);
    showStatus(status);
    state.job.done = true;
    const { done, failed, total } = status.counts;
    setProgress(total, total, `Done: ${done} of ${total} photos${failed ? `, ${failed} failed` : ''} in ${(status.elapsedMs / 1000).toFixed(1)} s.`);
    if (done > 0) {
      $('zip').href = job.archive;
      $('zip').hidden = false;
    }
    updateRunButton();
  });
  events.onerror = () => {
    if (state.job?.done) return;
    setProgress(0, 1, 'Lost the connection to the server; retrying…');
  };
}

function showStatus(status) {
  status.files.forEach((file, index) => updateResult(index, file));
  countProgress();
}

function countProgress() {
  const cards = [...$('results').children];
  const finished = cards.filter((c) => c.dataset.status === 'done' || c.dataset.status === 'failed').length;
  if (!state.job?.done) setProgress(finished, cards.length, `Processing: ${finished} of ${cards.length} photos finished…`);
}

function setProgress(done, total, text) {
  $('progress-fill').style.width = `${total ? (100 * done) / total : 0}%`;
  $('run-status').textContent = text;
}

function renderResults(files) {
  $('no-results').hidden = files.length > 0;
  $('results').replaceChildren(...files.map((file, index) => {
    const li = element('li', { className: 'result' });
    li.dataset.index = String(index);
    const pair = element('div', { className: 'pair', title: 'Compare before and after' });
    pair.append(element('img', { src: state.results[index].before, alt: `${file.name} before` }), element('div', { className: 'placeholder', textContent: 'waiting…' }));
    pair.addEventListener('click', () => openViewer(index));
    const meta = element('div', { className: 'meta' });
    meta.append(
      element('span', { className: 'name', textContent: file.name, title: file.name }),
      element('span', { className: 'status queued', textContent: 'queued' }),
      element('span', { className: 'info' }),
      element('div', { className: 'actions' }),
    );
    li.append(pair, meta);
    return li;
  }));
}

function updateResult(index, file) {
  const card = $('results').children[index];
  if (!card || card.dataset.status === file.status) return;
  card.dataset.status = file.status;
  const status = card.querySelector('.status');
  status.className = `status ${file.status}`;
  status.textContent = file.status;
  const info = card.querySelector('.info');
  const actions = card.querySelector('.actions');
  if (file.status === 'done' && file.output) {
    const after = `${file.output.url}`;
    state.results[index].after = after;
    card.querySelector('.pair').lastChild.replaceWith(element('img', { src: after, alt: `${file.name} after` }));
    info.textContent = `${file.output.width}×${file.output.height} ${file.output.format} · ${formatBytes(file.output.bytes)}${file.ms ? ` · ${file.ms} ms` : ''}${file.tiles ? ` · ${file.tiles.total} tiles` : ''}${file.worker ? ` · ${file.worker}` : ''}`;
    const download = element('a', { className: 'button', href: `${after}?download=1`, textContent: 'Download', download: file.output.name });
    const compare = element('button', { type: 'button', textContent: 'Compare' });
    compare.addEventListener('click', () => openViewer(index));
    const histogram = element('button', { type: 'button', textContent: 'Histogram' });
    histogram.addEventListener('click', () => openViewer(index, true));
    actions.replaceChildren(download, compare, histogram);
  } else if (file.status === 'done') {
    card.querySelector('.pair').lastChild.textContent = 'data';
    info.textContent = JSON.stringify(file.data).slice(0, 120);
  } else if (file.status === 'failed') {
    card.querySelector('.pair').lastChild.replaceWith(element('div', { className: 'placeholder', textContent: 'failed' }));
    info.replaceChildren(
      element('span', { className: 'why', textContent: PLAIN_ERRORS[file.error?.code] ?? 'This photo failed.' }),
      element('span', { className: 'detail', textContent: ` ${file.error?.message ?? ''}` }),
    );
  }
}

/** A large image runs as tiles: a map of them fills in as each one is done. */
function drawTile({ index, tile, status, done, total, worker }) {
  const card = $('results').children[index];
  if (!card || card.dataset.status === 'done' || card.dataset.status === 'failed') return;
  const tiles = (state.tileMaps[index] ??= new Map());
  tiles.set(tile.index, { rect: tile.keep, status });
  let canvas = card.querySelector('canvas.tilemap');
  if (!canvas) {
    canvas = element('canvas', { className: 'tilemap', width: 320, height: 240 });
    canvas.setAttribute('aria-label', `tile map of ${card.querySelector('.name').textContent}`);
    card.querySelector('.pair').lastChild.replaceWith(canvas);
  }
  const rects = [...tiles.values()];
  const width = Math.max(...rects.map((t) => t.rect.left + t.rect.width));
  const height = Math.max(...rects.map((t) => t.rect.top + t.rect.height));
  const scale = Math.min(canvas.width / width, canvas.height / height);
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, canvas.width, canvas.height);
  for (const t of rects) {
    g.fillStyle = t.status === 'done' ? '#1f8f4e' : '#d08a00';
    g.fillRect(t.rect.left * scale + 1, t.rect.top * scale + 1, t.rect.width * scale - 2, t.rect.height * scale - 2);
  }
  card.querySelector('.info').textContent = `tiles: ${done} of ${total} done${worker ? ` · last on ${worker}` : ''}`;
}

// ---- viewer: before/after with zoom, and the histogram ----

function openViewer(index, histogramFirst = false) {
  const result = state.results[index];
  $('viewer-title').textContent = result.name;
  $('before-img').src = result.before;
  $('after-img').src = result.after ?? result.before;
  setZoom(1);
  $('viewer').showModal();
  void drawHistogram(result);
  if (histogramFirst) $('histogram').scrollIntoView();
}

function setZoom(value) {
  $('zoom').value = String(value);
  $('zoom-value').textContent = `${value}×`;
  for (const id of ['before-img', 'after-img']) $(id).style.width = `${value * 100}%`;
}

$('zoom').addEventListener('input', () => setZoom(Number($('zoom').value)));
$('viewer-close').addEventListener('click', () => $('viewer').close());
// The two panes pan together, so the same spot is compared.
const panes = [...document.querySelectorAll('.pane')];
for (const pane of panes) {
  pane.addEventListener('scroll', () => {
    for (const other of panes) {
      if (other === pane || (other.scrollLeft === pane.scrollLeft && other.scrollTop === pane.scrollTop)) continue;
      other.scrollLeft = pane.scrollLeft;
      other.scrollTop = pane.scrollTop;
    }
  });
}

async function drawHistogram(result) {
  const canvas = $('histogram');
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, canvas.width, canvas.height);
  const source = result.after ?? result.before;
  $('histogram-caption').textContent = `Histogram of the ${result.after ? 'result' : 'original'}`;
  try {
    const image = await (await fetch(source)).blob();
    const data = await (await api('/v1/histogram?bins=256', { method: 'POST', body: image, headers: { 'Content-Type': 'application/octet-stream' } })).json();
    const channels = Object.entries(data.channels);
    const colours = { red: 'rgb(220 50 50 / .55)', green: 'rgb(40 160 70 / .55)', blue: 'rgb(50 90 220 / .55)', gray: 'rgb(60 60 60 / .7)' };
    const peak = Math.max(...channels.flatMap(([, counts]) => counts)) || 1;
    const w = canvas.width / data.bins;
    for (const [name, counts] of channels) {
      g.fillStyle = colours[name];
      counts.forEach((count, i) => {
        // A square-root scale, so one clipped level does not flatten every other bar.
        const h = Math.sqrt(count / peak) * (canvas.height - 4);
        g.fillRect(i * w, canvas.height - h, Math.max(1, w), h);
      });
    }
    $('histogram-caption').textContent += ` (${data.width}×${data.height}; bar heights on a square-root scale)`;
  } catch (error) {
    $('histogram-caption').textContent = `Histogram unavailable: ${error.message}`;
  }
}

// ---- workers (cluster mode) ----

const lastDone = new Map();
async function pollWorkers() {
  try {
    const { mode, workers } = await (await api('/v1/workers')).json();
    if (mode !== 'cluster') return;
    $('workers-panel').hidden = false;
    const now = Date.now();
    $('workers').replaceChildren(...workers.map((w) => {
      const previous = lastDone.get(w.name);
      const rate = previous ? ((w.done - previous.done) * 1000) / Math.max(1, now - previous.at) : 0;
      lastDone.set(w.name, { done: w.done, at: now });
      const tr = element('tr');
      const load = element('td');
      const bar = element('span', { className: 'load' });
      const fill = element('div');
      fill.style.width = `${Math.min(100, (100 * w.active) / Math.max(1, w.concurrency))}%`;
      bar.append(fill);
      load.append(bar, `${w.active}/${w.concurrency}`);
      tr.append(element('td', { textContent: w.name }), element('td', { textContent: w.host }), load,
        element('td', { textContent: String(w.done) }), element('td', { textContent: String(w.failed) }),
        element('td', { textContent: rate.toFixed(1) }), element('td', { textContent: `${((now - w.lastSeen) / 1000).toFixed(1)} s ago` }));
      return tr;
    }));
    setTimeout(pollWorkers, 2000);
  } catch {
    setTimeout(pollWorkers, 5000);
  }
}

// ---- helpers and start ----

function element(tag, props = {}) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'ariaLabel') node.setAttribute('aria-label', value);
    else node[key] = value;
  }
  return node;
}

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function start() {
  try {
    const [ops, info] = await Promise.all([api('/v1/ops').then((r) => r.json()), api('/v1/info').then((r) => r.json())]);
    state.ops = Object.fromEntries(Object.entries(ops.operations).filter(([, op]) => op.kind === 'image'));
    $('op-picker').replaceChildren(...Object.keys(state.ops).map((name) => element('option', { value: name, textContent: name })));
    $('op-summary').textContent = state.ops[$('op-picker').value]?.description ?? '';
    $('out-format').replaceChildren(element('option', { value: '', textContent: 'same as input' }), ...ops.formats.map((f) => element('option', { value: f, textContent: f })));
    $('mode').textContent = info.mode === 'cluster' ? 'cluster' : 'local';
    $('dashboard-link').hidden = info.mode !== 'cluster';
    $('limits').textContent = `up to ${info.maxFiles} photos, ${formatBytes(info.limits.maxFileBytes)} and ${Math.round(info.limits.maxInputPixels / 1e6)} MP each`;
    if (info.mode === 'cluster') void pollWorkers();
    updateRunButton();
  } catch (error) {
    $('run-status').textContent = error.message;
  }
}

void start();
