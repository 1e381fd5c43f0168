// Small helpers shared by the page's modules: elements, the API, and the one state object.

export const $ = (id) => document.getElementById(id);

/** An element with properties; `aria-*`, `data-*` and `for` go in as attributes. */
export function element(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('aria-') || key.startsWith('data-') || key === 'for' || key === 'role') node.setAttribute(key, value === true ? 'true' : String(value));
    else node[key] = value;
  }
  node.append(...children.filter((c) => c !== undefined && c !== null && c !== false));
  return node;
}

export const state = {
  /** Image operations by name, with their JSON Schema (title = label, description = help). */
  ops: {},
  /** Operations that yield data instead of an image (the page does not run them as steps). */
  dataOps: new Set(),
  formats: [],
  info: { maxFiles: 100, limits: {}, resultTtlSeconds: 3600, mode: 'local' },
  /** Chosen photos: { id, file, url, width, height, viewable, thumb }. */
  photos: [],
  /** Steps as the page shows them: { uid, op, values }. */
  steps: [],
  output: { format: '', quality: undefined },
  tile: '',
  /** Logo files chosen for watermark steps, by file name. */
  logos: new Map(),
  /** The last check of the pipeline by the server. */
  check: { valid: false, problems: [], compact: '' },
  /** The run on screen (see run.js). */
  run: null,
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorized = () => {};
export function whenUnauthorized(fn) { onUnauthorized = fn; }
/** The server refused the token (or wants one): ask for it. */
export function askForToken() { onUnauthorized(); }

/** fetch, with the server's `{ error: { code, message } }` thrown as an ApiError. */
export async function api(path, init = {}) {
  const response = await fetch(path, init);
  if (response.ok) return response;
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) onUnauthorized();
  throw new ApiError(response.status, body.error?.code ?? 'INTERNAL', body.error?.message ?? `${response.status} ${response.statusText}`);
}

/** Moves focus to an element, if it is there and can take it. */
export function focusOn(node) {
  if (node && !node.disabled && !node.hidden && node.isConnected) {
    node.focus();
    return document.activeElement === node;
  }
  return false;
}

export function announce(text) {
  const live = $('announce');
  live.textContent = '';
  // A change after a tick makes screen readers say the same words again.
  setTimeout(() => { live.textContent = text; }, 30);
}

export const reducedMotion = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;
