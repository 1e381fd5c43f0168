// The preset picker: the server's named pipelines (GET /v1/presets), shown only when it has some.
// Picking one puts its steps in the editor, where they can be changed like any others.

import { $, api, element, focusOn } from './dom.js';
import { applyCompact } from './steps.js';

export async function loadPresets() {
  let presets;
  try {
    ({ presets } = await (await api('/v1/presets')).json());
  } catch {
    return;
  }
  if (!presets?.length) return;
  const picker = $('preset-picker');
  picker.replaceChildren(element('option', { value: '', textContent: 'Choose a preset…' }),
    ...presets.map((preset) => element('option', { value: preset.compact, textContent: preset.name, title: preset.compact })));
  $('presets-row').hidden = false;
  picker.addEventListener('change', () => {
    if (picker.value === '') return;
    void applyCompact(picker.value).then(() => focusOn(picker));
  });
}
