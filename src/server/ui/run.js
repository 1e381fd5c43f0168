// Running the photos as a job: the upload with its progress, the job followed live (files and
// tiles feed one bar, with a time estimate), Cancel, the result cards and the summary.

import { $, announce, api, askForToken, element, focusOn, reducedMotion, state } from './dom.js';
import { pipelineSpec, usedLogos } from './steps.js';
import { openViewer } from './viewer.js';
import { explainError, formatBytes, formatChange, formatRemaining, formatSeconds, PLAIN_ERRORS } from './words.js';

const LAST_RUN = 'imgfleet.lastRun';
/** Formats an <img> shows; the others are shown through the server's PNG preview. */
const BROWSER_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'avif']);
/** Of a tiled image's share of the bar, what the tiles fill; the rest is writing the result. */
const TILES_SHARE = 0.9;

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const busy = () => state.run && ['uploading', 'processing', 'stopping'].includes(state.run.phase);

export function updateRunButton() {
  const count = state.photos.length;
  $('run').textContent = count ? `Run on ${plural(count, 'photo')}` : 'Run';
  let hint = '';
  if (busy()) hint = 'Running…';
  else if (!count) hint = 'Choose photos first.';
  else if (!state.steps.length) hint = 'Add at least one step.';
  else if (!state.check.valid) hint = 'Fix what is marked in the steps first.';
  $('run').disabled = hint !== '';
  $('run-hint').textContent = busy() ? '' : hint;
}

// ---- starting: the upload ----

export function runJob() {
  if (busy()) return;
  stopFollowing();
  const photos = state.photos.slice();
  const form = new FormData();
  form.append('pipeline', JSON.stringify(pipelineSpec()));
  if (state.tile) form.append('tile', state.tile);
  for (const name of usedLogos()) form.append('logo', state.logos.get(name), name);
  for (const photo of photos) form.append('file', photo.file, photo.file.name);

  const run = {
    phase: 'uploading', started: performance.now(), files: photos.map((p) => ({ name: p.file.name, status: 'queued' })),
    originals: photos.map((p) => original(p)),
    tiles: new Map(),
  };
  state.run = run;
  renderCards(run);
  $('summary').hidden = true;
  $('progress-block').hidden = false;
  setProgress(0, `Uploading ${plural(photos.length, 'photo')}…`);
  $('cancel').hidden = false;
  updateRunButton();
  focusOn($('cancel'));
  bringIntoView();
  announce(`Uploading ${plural(photos.length, 'photo')}.`);

  const xhr = new XMLHttpRequest();
  run.xhr = xhr;
  xhr.open('POST', '/v1/jobs');
  xhr.responseType = 'json';
  xhr.upload.addEventListener('progress', (event) => {
    if (!event.lengthComputable || run.phase !== 'uploading') return;
    const fraction = event.loaded / event.total;
    const seconds = (performance.now() - run.started) / 1000;
    const left = fraction > 0.02 && seconds > 0.5 ? formatRemaining(((1 - fraction) * seconds * 1000) / fraction) : '';
    setProgress(fraction * 100, `Uploading ${plural(photos.length, 'photo')}: ${Math.floor(fraction * 100)}% (${formatBytes(event.loaded)} of ${formatBytes(event.total)})${left ? `, ${left}` : ''}`);
  });
  xhr.addEventListener('load', () => {
    if (state.run !== run) return;
    if (xhr.status === 202) follow(run, xhr.response);
    else endInFailure(run, xhr.response?.error ?? { code: 'INTERNAL', message: `${xhr.status}` });
  });
  xhr.addEventListener('error', () => endInFailure(run, { code: 'INTERNAL', message: 'the connection to the server was lost during the upload' }));
  xhr.addEventListener('abort', () => {
    if (state.run !== run) return;
    run.phase = 'stopped';
    showStopped(run, 'Stopped before the upload finished; nothing was run.');
  });
  xhr.send(form);
}

/** What a card shows of a photo; its size may still be being read when the run starts. */
function original(photo) {
  return {
    name: photo.file.name, bytes: photo.file.size,
    get url() { return photo.viewable ? photo.url : photo.thumb; },
    /** Whether the browser shows the file itself (a TIFF gets the server's thumbnail). */
    get local() { return photo.viewable; },
    get width() { return photo.width; },
    get height() { return photo.height; },
  };
}

function endInFailure(run, error) {
  if (state.run !== run || run.phase === 'stopped') return;
  run.phase = 'failed';
  $('progress-block').hidden = true;
  $('cancel').hidden = true;
  for (const [index] of run.files.entries()) updateCard(run, index, { ...run.files[index], status: 'stopped' });
  showSummary('partial', `The run could not start. ${explainError(error.code)}`, error.message);
  updateRunButton();
  if (error.code === 'UNAUTHORIZED') return askForToken();
  focusOn($('run')) || focusOn($('results-title'));
  announce(`The run could not start. ${PLAIN_ERRORS[error.code]?.title ?? ''}`);
}

// ---- following the job ----

function follow(run, job) {
  run.phase = 'processing';
  run.job = job;
  run.processingStarted = performance.now();
  remember(run);
  setProgress(0, `Processing ${plural(run.files.length, 'photo')}…`);
  announce('Upload done; processing.');
  const events = new EventSource(job.events);
  run.events = events;
  events.addEventListener('status', (event) => applyStatus(run, JSON.parse(event.data)));
  events.addEventListener('file', (event) => {
    const file = JSON.parse(event.data);
    updateCard(run, file.index, file);
    showProcessing(run);
  });
  events.addEventListener('tile', (event) => {
    const tile = JSON.parse(event.data);
    drawTile(run, tile);
    showProcessing(run);
  });
  events.addEventListener('end', (event) => finish(run, JSON.parse(event.data)));
  events.onerror = () => {
    if (state.run === run && run.phase === 'processing') $('progress-label').textContent = 'Lost the connection to the server; trying again…';
  };
  // The estimate moves on between events too.
  run.ticker = setInterval(() => showProcessing(run), 1000);
}

function stopFollowing() {
  const run = state.run;
  if (!run) return;
  run.events?.close();
  clearInterval(run.ticker);
}

function applyStatus(run, status) {
  status.files.forEach((file, index) => updateCard(run, index, file));
  showProcessing(run);
}

/** The share of the work done: finished photos count whole, a tiled photo by its tiles. */
function doneFraction(run) {
  let sum = 0;
  for (const [index, file] of run.files.entries()) {
    if (file.status === 'done' || file.status === 'failed') sum += 1;
    else if (file.status === 'running' && run.tiles.has(index)) {
      const { done, total } = run.tiles.get(index);
      sum += TILES_SHARE * (done / total);
    }
  }
  return run.files.length ? sum / run.files.length : 0;
}

function showProcessing(run) {
  if (state.run !== run || run.phase !== 'processing') return;
  const fraction = doneFraction(run);
  const finished = run.files.filter((f) => f.status === 'done' || f.status === 'failed').length;
  const elapsed = performance.now() - run.processingStarted;
  const parts = [`Processing: ${finished} of ${plural(run.files.length, 'photo')} finished`];
  for (const [index, tiles] of run.tiles) {
    const file = run.files[index];
    if (file.status !== 'running') continue;
    parts.push(tiles.done < tiles.total ? `${file.name}: tile ${tiles.done} of ${tiles.total}` : `${file.name}: all tiles done, writing the result`);
  }
  const left = fraction > 0.02 && elapsed > 1500 ? formatRemaining((elapsed * (1 - fraction)) / fraction) : '';
  setProgress(fraction * 100, `${parts.join('; ')}${left ? ` · ${left}` : ''}`);
}

function setProgress(percent, text) {
  $('progress').value = Math.max(0, Math.min(100, percent));
  $('progress-label').textContent = text;
}

function finish(run, status) {
  if (state.run !== run) return;
  stopFollowing();
  applyStatus(run, status);
  run.phase = 'done';
  run.status = status;
  remember(run);
  $('cancel').hidden = true;
  setProgress(100, 'Finished.');
  $('progress-block').hidden = true;
  const { done, failed, total } = status.counts;
  let bytesIn = 0;
  let bytesOut = 0;
  for (const [index, file] of status.files.entries()) {
    if (file.status === 'done' && file.output && run.originals[index]?.bytes) {
      bytesIn += run.originals[index].bytes;
      bytesOut += file.output.bytes;
    }
  }
  const time = formatSeconds(status.elapsedMs);
  const sizes = bytesIn ? ` ${formatBytes(bytesIn)} → ${formatBytes(bytesOut)} (${formatChange(bytesIn, bytesOut)}).` : '';
  const words = failed === 0
    ? `Done: ${done} of ${plural(total, 'photo')} in ${time}.${sizes}`
    : `Done: ${done} of ${plural(total, 'photo')} in ${time}; ${failed} failed (each card says why).${sizes}`;
  showSummary(failed ? 'partial' : 'done', words);
  $('zip').hidden = done === 0;
  $('zip').href = run.job.archive;
  if (status.expiresAt) {
    const until = new Date(status.expiresAt);
    const minutes = Math.max(1, Math.round((until - Date.now()) / 60_000));
    $('expiry').textContent = `The results stay on the server until ${until.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })} (in about ${plural(minutes, 'minute')}); download them before then.`;
  }
  updateRunButton();
  if (run.restored) return;
  bringIntoView();
  announce(`${words} The results are below.`);
  const active = document.activeElement;
  if (!active || active === document.body || active.hidden || active.closest('[hidden]') || active === $('cancel')) focusOn($('zip')) || focusOn($('results-title'));
}

function showSummary(kind, text, detail) {
  const summary = $('summary');
  summary.hidden = false;
  summary.className = `summary ${kind}`;
  $('summary-text').replaceChildren(text, ...(detail ? [element('br'), element('small', { textContent: detail })] : []));
  $('zip').hidden = true;
  $('expiry').textContent = '';
}

/** The run card at the top of the window: its progress, and the results just below it. */
function bringIntoView() {
  $('run-card').scrollIntoView({ block: 'start', behavior: reducedMotion() ? 'auto' : 'smooth' });
}

// ---- Cancel ----

export async function cancelRun() {
  const run = state.run;
  if (!run) return;
  if (run.phase === 'uploading') {
    run.xhr.abort();
  } else if (run.phase === 'processing') {
    run.phase = 'stopping';
    stopFollowing();
    setProgress($('progress').value, 'Stopping: the photos being processed finish first…');
    try {
      await api(run.job.status, { method: 'DELETE' });
    } catch (error) {
      if (error.code !== 'NOT_FOUND') throw error;
    }
    run.phase = 'stopped';
    const finished = run.files.filter((f) => f.status === 'done').length;
    showStopped(run, `Stopped. ${finished} of ${plural(run.files.length, 'photo')} had finished; the server deleted this run's files.`);
  }
}

function showStopped(run, text) {
  stopFollowing();
  forget();
  $('progress-block').hidden = true;
  $('cancel').hidden = true;
  for (const index of run.files.keys()) updateCard(run, index, { ...run.files[index], status: 'stopped' });
  showSummary('stopped', text);
  updateRunButton();
  focusOn($('run')) || focusOn($('results-title'));
  announce(text);
}

// ---- result cards ----

function renderCards(run) {
  $('results-card').hidden = false;
  $('results').replaceChildren(...run.files.map((file, index) => {
    const original = run.originals[index];
    const li = element('li', { className: 'result', 'data-index': index, 'data-status': 'queued' });
    const thumbs = element('div', { className: 'thumbs' }, originalImage(original), element('div', { className: 'placeholder', textContent: 'Waiting' }));
    const meta = element('div', { className: 'meta' },
      element('p', { className: 'name', textContent: file.name, title: file.name }),
      element('p', { className: 'status queued', textContent: 'Waiting' }),
      element('p', { className: 'sizes' }),
      element('div', { className: 'why-block' }),
      element('div', { className: 'actions' }));
    li.append(thumbs, meta);
    return li;
  }));
}

function originalImage(original, alt = `Original of ${original.name}`) {
  return original.url
    ? element('img', { src: original.url, alt, decoding: 'async' })
    : element('div', { className: 'placeholder', textContent: 'No preview' });
}

const STATUS_WORDS = { queued: 'Waiting', running: 'Working…', done: 'Done', failed: 'Failed', stopped: 'Not run' };

function updateCard(run, index, file) {
  const card = $('results').children[index];
  if (!card) return;
  const previous = run.files[index];
  run.files[index] = { ...previous, ...file };
  const settled = card.dataset.status === 'done' || card.dataset.status === 'failed';
  if (file.status === 'stopped') {
    if (card.dataset.status === 'done') {
      // Its files went with the run; what is on screen stays, without links to them.
      card.querySelector('.actions').replaceChildren();
      card.querySelector('.sizes').append(' (deleted on the server)');
      return;
    }
    if (settled) return;
  } else if (settled || card.dataset.status === file.status) {
    return;
  }
  card.dataset.status = file.status;
  const pill = card.querySelector('.status');
  pill.className = `status ${file.status}`;
  pill.textContent = STATUS_WORDS[file.status] ?? file.status;
  const original = run.originals[index] ?? {};
  if (!original.url && run.job) run.originals[index] = { ...original, url: `${jobBase(run)}/previews/${index}/input` };
  if (file.status === 'running' && !run.tiles.has(index)) card.querySelector('.thumbs .placeholder:last-child')?.replaceChildren('Working…');
  if (file.status === 'done' && file.output) showDone(run, card, index, file);
  if (file.status === 'failed') showFailed(run, card, index, file);
  if (file.status === 'stopped') card.querySelector('.thumbs').lastChild.replaceWith(element('div', { className: 'placeholder', textContent: 'Not run' }));
}

const jobBase = (run) => run.job.status;

/** Where the browser can see an output: the file itself, or the server's PNG of it (TIFF). */
function resultUrl(run, index, output) {
  return BROWSER_FORMATS.has(output.format) ? output.url : `${jobBase(run)}/previews/${index}/output`;
}

function showDone(run, card, index, file) {
  const original = run.originals[index];
  const output = file.output;
  const button = element('button', { type: 'button', className: 'thumbs', 'aria-label': `Compare ${file.name}: original and result` },
    originalImage(run.originals[index], ''), element('img', { src: resultUrl(run, index, output), alt: '', decoding: 'async' }));
  button.addEventListener('click', () => openViewer(resultInfo(index), button));
  card.querySelector('.thumbs').replaceWith(button);
  const sizes = card.querySelector('.sizes');
  const dims = original.width ? `${original.width}×${original.height} → ` : '';
  sizes.replaceChildren(`${dims}${output.width}×${output.height} ${output.format.toUpperCase()} · `);
  if (original.bytes) {
    const change = formatChange(original.bytes, output.bytes);
    sizes.append(`${formatBytes(original.bytes)} → ${formatBytes(output.bytes)} `,
      element('span', { className: `saving${output.bytes > original.bytes ? ' grew' : ''}`, textContent: change, title: output.bytes > original.bytes ? 'larger than the original' : 'smaller than the original' }));
  } else {
    sizes.append(formatBytes(output.bytes));
  }
  const download = element('a', { className: 'button', href: `${output.url}?download=1`, download: output.name, textContent: 'Download', 'aria-label': `Download ${output.name}` });
  const compare = element('button', { type: 'button', className: 'secondary', textContent: 'Compare', 'aria-label': `Compare ${file.name}` });
  compare.addEventListener('click', () => openViewer(resultInfo(index), compare));
  card.querySelector('.actions').replaceChildren(download, compare);
}

function showFailed(run, card, index, file) {
  const code = file.error?.code ?? 'INTERNAL';
  const plain = PLAIN_ERRORS[code] ?? PLAIN_ERRORS.INTERNAL;
  card.querySelector('.thumbs').lastChild.replaceWith(element('div', { className: 'placeholder failed', textContent: 'Failed' }));
  card.querySelector('.why-block').replaceChildren(
    element('p', { className: 'why', textContent: plain.title }),
    element('p', { className: 'advice', textContent: plain.advice }),
    element('p', { className: 'detail', textContent: `Details: ${file.error?.message ?? 'none given'}` }));
}

/** A large image runs as tiles: a map of them fills in, with its words for screen readers. */
function drawTile(run, { index, tile, status, done, total }) {
  run.tiles.set(index, { done, total });
  const card = $('results').children[index];
  if (!card || card.dataset.status === 'done' || card.dataset.status === 'failed') return;
  const name = run.files[index].name;
  let canvas = card.querySelector('canvas.tilemap');
  if (!canvas) {
    canvas = element('canvas', { className: 'tilemap', width: 320, height: 240, role: 'img' });
    card.querySelector('.thumbs').lastChild.replaceWith(canvas);
    canvas.rects = new Map();
  }
  canvas.rects.set(tile.index, { rect: tile.keep, status });
  const rects = [...canvas.rects.values()];
  const width = Math.max(...rects.map((t) => t.rect.left + t.rect.width));
  const height = Math.max(...rects.map((t) => t.rect.top + t.rect.height));
  const scale = Math.min(canvas.width / width, canvas.height / height);
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, canvas.width, canvas.height);
  for (const t of rects) {
    g.fillStyle = t.status === 'done' ? '#136b3a' : '#b86e00';
    g.fillRect(t.rect.left * scale + 1, t.rect.top * scale + 1, Math.max(1, t.rect.width * scale - 2), Math.max(1, t.rect.height * scale - 2));
  }
  const words = done < total ? `Tiles of ${name}: ${done} of ${total} done` : `All ${total} tiles of ${name} done; writing the result`;
  canvas.setAttribute('aria-label', words);
  card.querySelector('.sizes').textContent = done < total ? `Tile ${done} of ${total}` : 'Writing the result…';
}

/** What the compare view needs about result `index`. */
export function resultInfo(index) {
  const run = state.run;
  const file = run.files[index];
  const original = run.originals[index];
  return {
    name: file.name,
    original: { url: original.local ? original.url : `${jobBase(run)}/previews/${index}/input`, bytes: original.bytes },
    result: { url: resultUrl(run, index, file.output), bytes: file.output.bytes, width: file.output.width, height: file.output.height, format: file.output.format },
    histograms: `${jobBase(run)}/histograms/${index}`,
  };
}

// ---- the last run, kept over a reload ----

function remember(run) {
  try {
    localStorage.setItem(LAST_RUN, JSON.stringify({ job: run.job, originals: run.originals.map((o) => ({ name: o.name, bytes: o.bytes, width: o.width, height: o.height })) }));
  } catch { /* no storage */ }
}

function forget() {
  try { localStorage.removeItem(LAST_RUN); } catch { /* no storage */ }
}

/** After a reload: the last run's results while the server keeps them, or its progress if it still runs. */
export async function restoreLastRun() {
  let saved;
  try { saved = JSON.parse(localStorage.getItem(LAST_RUN) ?? 'null'); } catch { return; }
  if (!saved?.job) return;
  let status;
  try {
    status = await (await api(saved.job.status)).json();
  } catch {
    forget();
    return;
  }
  const run = {
    phase: 'processing', restored: true, job: saved.job, tiles: new Map(), started: performance.now(),
    files: status.files.map((f) => ({ name: f.name, status: 'queued' })),
    originals: status.files.map((f, index) => ({ ...saved.originals?.[index], name: f.name, url: `${saved.job.status}/previews/${index}/input` })),
  };
  state.run = run;
  renderCards(run);
  applyStatus(run, status);
  if (status.state === 'done') {
    finish(run, status);
    return;
  }
  $('progress-block').hidden = false;
  $('cancel').hidden = false;
  follow(run, saved.job);
  run.restored = false;
  updateRunButton();
}
