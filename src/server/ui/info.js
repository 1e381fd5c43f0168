// The info panel: what the server says of the photo chosen for the preview (POST /v1/info), with
// its ThumbHash placeholder drawn beside it, as a page would show it while the photo loads.

import { $, api, element, state } from './dom.js';
import { explainError, formatBytes } from './words.js';

/** Answers by photo id: each photo is asked about once. */
const known = new Map();
let shownId;

/** The photo the preview shows: the one picked in its list, else the first. */
function chosenPhoto() {
  return state.photos.find((p) => String(p.id) === $('sample').value) ?? state.photos[0];
}

export function showInfo() {
  const photo = chosenPhoto();
  $('info-card').hidden = !photo;
  if (!photo) {
    shownId = undefined;
    return;
  }
  if (shownId === photo.id) return;
  shownId = photo.id;
  if (!known.has(photo.id)) known.set(photo.id, askAbout(photo));
  $('info-status').textContent = `Reading ${photo.file.name}…`;
  $('info-body').hidden = true;
  void known.get(photo.id).then((answer) => {
    if (shownId === photo.id) renderInfo(photo, answer);
  });
}

async function askAbout(photo) {
  const form = new FormData();
  form.append('file', photo.file, photo.file.name);
  try {
    return { info: await (await api('/v1/info', { method: 'POST', body: form })).json() };
  } catch (error) {
    return { error };
  }
}

function renderInfo(photo, { info, error }) {
  if (error) {
    $('info-status').textContent = `No information: ${explainError(error.code)} (${error.message})`;
    return;
  }
  const placeholder = $('info-placeholder');
  placeholder.src = info.placeholderDataUrl;
  placeholder.alt = `Placeholder of ${photo.file.name}`;
  const image = $('info-image');
  image.src = photo.viewable ? photo.url : (photo.thumb ?? info.placeholderDataUrl);
  image.alt = photo.file.name;
  const camera = [info.camera?.make, info.camera?.model].filter(Boolean).join(' ');
  const facts = [
    ['Size', `${info.width}×${info.height}${info.frames > 1 ? `, ${info.frames} frames` : ''}`],
    ['Format', `${info.format.toUpperCase()}${info.alpha ? ' with transparency' : ''}, ${formatBytes(info.bytes)}`],
    ['Orientation', info.orientation === 1 ? undefined : String(info.orientation)],
    ['Colour profile', info.icc],
    ['Taken', info.date?.replace('T', ' ')],
    ['Camera', camera || undefined],
    ['Dominant colour', info.dominant],
    ['ThumbHash', info.thumbhash],
    ['BlurHash', info.blurhash],
  ].filter(([, value]) => value !== undefined);
  $('info-facts').replaceChildren(...facts.flatMap(([name, value]) => [
    element('dt', { textContent: name }),
    element('dd', { className: name.endsWith('Hash') ? 'mono' : undefined, textContent: value },
      name === 'Dominant colour' ? swatch(value) : undefined),
  ]));
  $('info-body').hidden = false;
  $('info-status').textContent = `About ${photo.file.name}.`;
}

function swatch(colour) {
  const chip = element('span', { className: 'swatch', 'aria-hidden': true });
  chip.style.background = colour;
  return chip;
}

$('sample').addEventListener('change', showInfo);
