// The steps editor: one form per step, built from the operations' schemas (labels and help
// from the registry), checked by the server as it changes, each problem shown at its field.

import { $, api, element, focusOn, state } from './dom.js';
import { plainProblem, formatBytes } from './words.js';

const STORAGE_KEY = 'imgfleet.pipeline';
const TILE_KEY = 'imgfleet.tile';

/** Ready-made starting points, in the compact syntax. */
export const EXAMPLES = [
  ['Thumbnails', 'resize:width=512:height=512:fit=cover:enlarge=false,output:format=jpeg:quality=80'],
  ['For the web', 'resize:width=1600:height=1600:enlarge=false,sharpen:amount=0.5,output:format=webp:quality=80'],
  ['Black and white', 'grayscale,contrast:factor=1.2'],
  ['Watermark', 'resize:width=1600:enlarge=false,watermark:text=© imgfleet:opacity=0.6'],
];

/**
 * Values a new step starts with, so that it is valid and unsurprising: a resize never enlarges
 * unless asked (a 10×10 icon stays 10×10), whatever the registry's default for scripts.
 */
const STARTING_VALUES = {
  resize: { width: 1600, enlarge: false },
  crop: { left: 0, top: 0, width: 400, height: 400 },
  watermark: { text: '© imgfleet' },
};

let nextUid = 1;
const listeners = [];
/** Called after every check of the pipeline by the server. */
export function onPipelineChecked(fn) { listeners.push(fn); }

export function addStep(op, params, { starting = true } = {}) {
  const schema = state.ops[op];
  const values = {};
  const given = params ?? (starting ? STARTING_VALUES[op] ?? {} : {});
  for (const [name, prop] of paramsOf(schema)) {
    if (name in given) values[name] = given[name];
    else if (prop.default !== undefined) values[name] = prop.default;
  }
  const step = { uid: nextUid++, op, values };
  state.steps.push(step);
  return step;
}

function paramsOf(schema) {
  return Object.entries(schema.properties).filter(([name]) => name !== 'op');
}

/** The pipeline as JSON, as the API takes it. */
export function pipelineSpec() {
  const output = {};
  if (state.output.format) output.format = state.output.format;
  if (state.output.quality !== undefined) output.quality = state.output.quality;
  return { steps: state.steps.map((s) => ({ op: s.op, ...s.values })), output };
}

/** Names of the logo files the steps use, which a run must send with the photos. */
export function usedLogos() {
  return [...new Set(state.steps.filter((s) => s.op === 'watermark' && s.values.image).map((s) => s.values.image))]
    .filter((name) => state.logos.has(name));
}

// ---- drawing the steps ----

const title = (step) => state.ops[step.op]?.title ?? step.op;
export const stepName = (index) => `Step ${index + 1} (${title(state.steps[index])})`;

/**
 * Draws every step again. `focus` names the control to give focus to afterwards (by id), so
 * moving or removing a step never drops focus to the page.
 */
export function renderSteps(focus) {
  $('steps').replaceChildren(...state.steps.map((step, index) => stepItem(step, index)));
  showProblems();
  if (focus) focusOn(document.getElementById(focus)) || focusOn($('op-picker'));
}

function stepItem(step, index) {
  const schema = state.ops[step.op];
  const name = title(step);
  const li = element('li', { className: 'step', id: `step-${step.uid}`, 'data-op': step.op, 'aria-labelledby': `step-${step.uid}-title` });
  const up = element('button', { type: 'button', className: 'secondary icon', id: `step-${step.uid}-up`, textContent: '↑', disabled: index === 0, 'aria-label': `Move step ${index + 1}, ${name}, up` });
  const down = element('button', { type: 'button', className: 'secondary icon', id: `step-${step.uid}-down`, textContent: '↓', disabled: index === state.steps.length - 1, 'aria-label': `Move step ${index + 1}, ${name}, down` });
  const remove = element('button', { type: 'button', className: 'secondary icon', id: `step-${step.uid}-remove`, textContent: '✕', 'aria-label': `Remove step ${index + 1}, ${name}` });
  up.addEventListener('click', () => moveStep(index, -1, 'up'));
  down.addEventListener('click', () => moveStep(index, 1, 'down'));
  remove.addEventListener('click', () => removeStep(index));
  const head = element('div', { className: 'step-head' },
    element('h3', { id: `step-${step.uid}-title`, textContent: `${index + 1}. ${name}` }), up, down, remove);
  const params = element('div', { className: 'params' }, ...paramsOf(schema).map(([param, prop]) => paramControl(step, param, prop)));
  li.append(head, element('p', { className: 'step-help', textContent: sentence(schema.description) }), params,
    element('p', { className: 'field-error', id: `step-${step.uid}-error`, hidden: true }));
  return li;
}

function moveStep(index, by, which) {
  const [step] = state.steps.splice(index, 1);
  state.steps.splice(index + by, 0, step);
  const other = which === 'up' ? 'down' : 'up';
  const landed = index + by;
  // At the top (or bottom) the same button is disabled: the other one keeps the focus.
  const keep = (which === 'up' && landed === 0) || (which === 'down' && landed === state.steps.length - 1) ? other : which;
  pipelineChanged({ focus: `step-${step.uid}-${keep}` });
}

function removeStep(index) {
  state.steps.splice(index, 1);
  const next = state.steps[index] ?? state.steps[index - 1];
  pipelineChanged({ focus: next ? `step-${next.uid}-remove` : 'op-picker' });
}

const controlId = (step, name) => `p-${step.uid}-${name}`;

/** One parameter: its label, a control that fits its type, its help and a place for its error. */
function paramControl(step, name, prop) {
  const id = controlId(step, name);
  const helpId = `${id}-help`;
  const errorId = `${id}-error`;
  const described = `${helpId} ${errorId}`;
  const current = step.values[name];
  const set = (value) => {
    if (value === '' || value === undefined || Number.isNaN(value)) delete step.values[name];
    else step.values[name] = value;
    pipelineChanged();
  };
  const wrap = element('div', { className: 'param', 'data-param': name });
  const label = element('label', { for: id, textContent: prop.title ?? name });
  let control;
  if (prop.type === 'boolean') {
    const box = element('input', { type: 'checkbox', id, checked: Boolean(current), 'aria-describedby': described });
    box.addEventListener('change', () => set(box.checked));
    wrap.append(element('label', { className: 'check', for: id }, box, prop.title ?? name));
    control = box;
  } else if (prop.enum) {
    const select = element('select', { id, 'aria-describedby': described });
    if (prop.default === undefined) select.append(element('option', { value: '', textContent: 'automatic' }));
    for (const option of prop.enum) select.append(element('option', { value: option, textContent: option }));
    select.value = current ?? '';
    select.addEventListener('change', () => set(select.value || undefined));
    wrap.append(label, select);
    control = select;
  } else if (prop.type === 'number' || prop.type === 'integer') {
    const stepSize = prop.type === 'integer' ? 1 : fineStep(prop);
    const number = element('input', { type: 'number', id, value: current ?? '', step: String(stepSize), placeholder: 'auto', 'aria-describedby': described, inputMode: prop.type === 'integer' ? 'numeric' : 'decimal' });
    const low = prop.minimum ?? prop.exclusiveMinimum;
    if (low !== undefined) number.min = String(low);
    if (prop.maximum !== undefined) number.max = String(prop.maximum);
    const read = (text) => (text === '' ? undefined : Number(text));
    number.addEventListener('input', () => set(read(number.value)));
    const row = element('div', { className: 'row' });
    if (low !== undefined && prop.maximum !== undefined && prop.maximum - low <= 1000) {
      // The slider is for pointers; keyboards use the number, which says the same.
      const slider = element('input', { type: 'range', min: String(low), max: String(prop.maximum), step: String(stepSize), value: String(current ?? prop.default ?? low), tabIndex: -1, 'aria-hidden': true });
      slider.addEventListener('input', () => { number.value = slider.value; set(read(slider.value)); });
      number.addEventListener('input', () => { if (number.value !== '') slider.value = number.value; });
      row.append(slider);
    }
    row.append(number);
    wrap.append(label, row);
    control = number;
  } else if (prop.format === 'color') {
    const text = element('input', { type: 'text', id, value: current ?? '', size: 9, spellcheck: false, 'aria-describedby': described });
    const picker = element('input', { type: 'color', value: /^#[0-9a-f]{6}$/i.test(current ?? '') ? current : '#000000', 'aria-label': `Pick ${(prop.title ?? name).toLowerCase()}` });
    picker.addEventListener('input', () => { text.value = picker.value; set(picker.value); });
    text.addEventListener('input', () => set(text.value.trim() || undefined));
    wrap.append(label, element('div', { className: 'row' }, picker, text));
    control = text;
  } else if (step.op === 'watermark' && name === 'image') {
    wrap.append(label, logoControl(step, id, described));
    control = wrap.querySelector('input[type=text]');
  } else {
    const text = element('input', { type: 'text', id, value: current ?? '', 'aria-describedby': described });
    text.addEventListener('input', () => set(text.value === '' ? undefined : text.value));
    wrap.append(label, element('div', { className: 'row' }, text));
    control = text;
  }
  wrap.append(element('p', { className: 'help', id: helpId, textContent: help(prop, step, name) }),
    element('p', { className: 'field-error', id: errorId, hidden: true }));
  control.dataset.field = name;
  return wrap;
}

/** A logo is chosen from the person's files and sent with each run; its name goes in the step. */
function logoControl(step, id, described) {
  const text = element('input', { type: 'text', id, value: step.values.image ?? '', 'aria-describedby': described, placeholder: 'none' });
  text.addEventListener('input', () => {
    if (text.value) { step.values.image = text.value; delete step.values.text; } else delete step.values.image;
    pipelineChanged();
  });
  const file = element('input', { type: 'file', accept: 'image/*', className: 'visually-hidden', tabIndex: -1, 'aria-hidden': true });
  const choose = element('button', { type: 'button', className: 'secondary', id: `${id}-choose`, textContent: 'Choose a logo…' });
  choose.addEventListener('click', () => file.click());
  file.addEventListener('change', () => {
    const chosen = file.files?.[0];
    if (!chosen) return;
    state.logos.set(chosen.name, chosen);
    step.values.image = chosen.name;
    // A watermark draws a text or a logo, not both.
    delete step.values.text;
    pipelineChanged({ focus: choose.id });
  });
  return element('div', { className: 'logo-row' }, text, choose, file);
}

function help(prop, step, name) {
  const parts = [sentence(prop.description ?? '')];
  const low = prop.minimum ?? prop.exclusiveMinimum;
  if (low !== undefined && prop.maximum !== undefined) parts.push(`From ${low} to ${prop.maximum}.`);
  else if (low !== undefined) parts.push(`At least ${low}.`);
  if (step.op === 'watermark' && name === 'image' && step.values.image) {
    const logo = state.logos.get(step.values.image);
    parts.push(logo ? `Sent with each run: ${logo.name} (${formatBytes(logo.size)}).` : 'Choose the logo file again: logos are sent with each run, and this page has not got it.');
  }
  return parts.filter(Boolean).join(' ');
}

const sentence = (text) => (text ? `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?)]$/.test(text) ? '' : '.'}` : '');

function fineStep(prop) {
  const span = (prop.maximum ?? 10) - (prop.minimum ?? 0);
  return span <= 2 ? 0.01 : span <= 20 ? 0.1 : 1;
}

// ---- changes, checks and problems ----

let checkTimer;
let checkSeq = 0;

/** After any edit: redraw the steps when their number or order changed, then let the server check them. */
export function pipelineChanged({ focus, redraw = focus !== undefined, now = false } = {}) {
  if (redraw) renderSteps(focus);
  clearTimeout(checkTimer);
  checkTimer = setTimeout(() => void checkPipeline(), now ? 0 : 250);
}

/** Asks the server whether the pipeline (and tile size) would run, and where each problem is. */
export async function checkPipeline() {
  const seq = ++checkSeq;
  if (state.steps.length === 0) {
    state.check = { valid: false, problems: [], compact: '', empty: true };
    finishCheck();
    return;
  }
  const query = new URLSearchParams({ pipeline: JSON.stringify(pipelineSpec()) });
  if (state.tile) query.set('tile', state.tile);
  const logos = usedLogos();
  if (logos.length) query.set('logos', logos.join(','));
  try {
    const result = await (await api(`/v1/pipeline/check?${query}`)).json();
    if (seq !== checkSeq) return;
    state.check = result;
  } catch (error) {
    if (seq !== checkSeq) return;
    state.check = { valid: false, problems: [{ code: error.code, message: error.message }], compact: '' };
  }
  finishCheck();
}

function finishCheck() {
  showProblems();
  if (state.check.valid || state.check.empty) {
    const text = state.check.compact ? readable(state.check.compact) : '';
    if (document.activeElement !== $('compact')) $('compact').value = text;
    hideError('compact');
    remember(text);
  }
  for (const fn of listeners) fn(state.check);
}

/** Marks each problem at its field (or its step, or the text form), in words a person can act on. */
export function showProblems() {
  for (const node of document.querySelectorAll('[aria-invalid="true"]')) node.removeAttribute('aria-invalid');
  for (const node of document.querySelectorAll('.field-error')) { node.hidden = true; node.textContent = ''; }
  for (const node of document.querySelectorAll('.step.invalid')) node.classList.remove('invalid');
  const lines = [];
  for (const problem of state.check.problems ?? []) {
    const step = problem.step !== undefined ? state.steps[problem.step] : undefined;
    const missingLogo = step?.op === 'watermark' && problem.field === 'image' && !state.logos.has(step.values.image);
    const text = missingLogo ? 'Choose the logo file: the page sends it with each run.' : plainProblem(problem.message);
    let where = '';
    if (step) {
      where = stepName(problem.step);
      $(`step-${step.uid}`)?.classList.add('invalid');
      const field = problem.field && document.getElementById(controlId(step, problem.field));
      if (field) {
        where += `, ${state.ops[step.op].properties[problem.field]?.title ?? problem.field}`;
        markField(field, `${controlId(step, problem.field)}-error`, text);
      } else {
        showError(`step-${step.uid}`, text);
      }
    } else if (problem.field === 'output.format') {
      where = 'Format'; markField($('out-format'), 'out-format-error', text);
    } else if (problem.field === 'output.quality') {
      where = 'Quality'; markField($('out-quality'), 'out-quality-error', text);
    } else if (problem.field === 'tile') {
      where = 'Tile size'; markField($('tile-size'), 'tile-error', text);
    } else {
      showError('compact', text);
    }
    if (problem.code === 'NOT_TILEABLE') markField($('tile-size'), 'tile-error', `${text} Clear the tile size to run these steps whole.`);
    lines.push(where ? `${where}: ${text}` : text);
  }
  const status = $('pipeline-status');
  status.classList.toggle('bad', lines.length > 0);
  if (lines.length) status.textContent = `${lines.length === 1 ? 'One thing to fix' : `${lines.length} things to fix`}. ${lines.join(' ')}`;
  else if (state.check.valid) status.textContent = `Ready: ${state.steps.length} ${state.steps.length === 1 ? 'step' : 'steps'}.${state.check.tiling?.possible === false && state.tile === '' ? ' Large images run whole with these steps.' : ''}`;
  else status.textContent = state.steps.length ? '' : 'Add a step, or start from an example.';
}

function markField(control, errorId, text) {
  control.setAttribute('aria-invalid', 'true');
  const error = $(errorId);
  error.textContent = text;
  error.hidden = false;
}

function showError(prefix, text) {
  const error = $(`${prefix}-error`);
  if (!error) return;
  error.textContent = text;
  error.hidden = false;
  if (prefix === 'compact') $('compact').setAttribute('aria-invalid', 'true');
}

function hideError(prefix) {
  const error = $(`${prefix}-error`);
  error.hidden = true;
  error.textContent = '';
}

// ---- the steps as text: readable, shareable, remembered ----

/**
 * The compact form with only the escapes its syntax needs: spaces and slashes inside a value
 * are written plainly (`© me`, not `©%20me`); `,` `:` `=` `%` stay escaped.
 */
export function readable(compact) {
  return compact.replace(/%2F/g, '/').replace(/(?<=[^=:,])%20(?=[^:,])/g, ' ');
}

/** A URL query value that keeps the compact form legible in the address bar. */
function shareable(compact) {
  return encodeURIComponent(compact).replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%3D/g, '=').replace(/%2F/g, '/').replace(/%20/g, '+');
}

export function pageUrl() {
  const query = [];
  const text = $('compact').value.trim();
  if (text) query.push(`pipeline=${shareable(text)}`);
  if (state.tile) query.push(`tile=${state.tile}`);
  return `${location.pathname}${query.length ? `?${query.join('&')}` : ''}`;
}

function remember(text) {
  try {
    localStorage.setItem(STORAGE_KEY, text);
    localStorage.setItem(TILE_KEY, state.tile);
  } catch { /* private mode: the URL still keeps it */ }
  const url = pageUrl();
  if (`${location.pathname}${location.search}` !== url) history.replaceState(null, '', url);
}

/** The pipeline to start with: the URL's (a shared link), else the last one used here. */
export function rememberedPipeline() {
  const query = new URLSearchParams(location.search);
  let stored = null;
  let storedTile = '';
  try {
    stored = localStorage.getItem(STORAGE_KEY);
    storedTile = localStorage.getItem(TILE_KEY) ?? '';
  } catch { /* no storage */ }
  if (query.has('pipeline')) return { text: query.get('pipeline'), tile: query.get('tile') ?? '' };
  return { text: stored ?? '', tile: storedTile };
}

/**
 * Reads the steps from their text form (typed, pasted, from a link or an example): the server
 * parses and checks it; if it is good the forms are rebuilt from it.
 */
export async function applyCompact(text, { focus } = {}) {
  const trimmed = text.trim();
  if (trimmed === '') {
    state.steps = [];
    pipelineChanged({ focus: focus ?? undefined, redraw: true, now: true });
    return true;
  }
  const seq = ++checkSeq;
  const query = new URLSearchParams({ pipeline: trimmed });
  if (state.tile) query.set('tile', state.tile);
  const names = [...state.logos.keys()];
  if (names.length) query.set('logos', names.join(','));
  let result;
  try {
    result = await (await api(`/v1/pipeline/check?${query}`)).json();
  } catch (error) {
    result = { valid: false, problems: [{ code: error.code, message: error.message }] };
  }
  if (seq !== checkSeq) return false;
  // Steps with mistakes in them still become forms, with each mistake marked at its field.
  const read = result.spec ?? result.parsed;
  const steps = Array.isArray(read?.steps) ? read.steps : undefined;
  const unknown = steps?.find((step) => !state.ops[step?.op]);
  if (!steps || unknown) {
    state.check = { ...result, valid: false };
    showProblems();
    const words = unknown && state.dataOps.has(unknown.op)
      ? `${unknown.op} gives data, not an image, so the page cannot run it as a step; each result's compare view shows its histograms.`
      : result.problems.map((p) => (p.step !== undefined ? `Step ${p.step + 1}: ` : '') + plainProblem(p.message)).join(' ');
    showError('compact', words);
    for (const fn of listeners) fn(state.check);
    return false;
  }
  state.steps = [];
  for (const { op, ...params } of steps) addStep(op, params, { starting: false });
  const output = typeof read.output === 'object' && read.output !== null ? read.output : {};
  state.output = { format: output.format ?? '', quality: output.quality };
  syncOutputControls();
  state.check = result;
  renderSteps(focus);
  finishCheck();
  return result.valid;
}

export function syncOutputControls() {
  $('out-format').value = state.output.format;
  $('out-quality').value = state.output.quality ?? '';
  $('out-quality-slider').value = String(state.output.quality ?? 80);
  $('tile-size').value = state.tile;
}
