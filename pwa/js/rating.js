// Mood, anxiety and energy on one screen: three large sliders a thumb can move, each
// with words at both ends (a quick valence/arousal check-in, evidence.md).
import { h } from './ui.js';

const SCALES = [
  { key: 'mood', label: 'Mood', low: 'Very bad', high: 'Very good' },
  { key: 'anxiety', label: 'Anxiety', low: 'None', high: 'Extreme' },
  { key: 'energy', label: 'Energy', low: 'Exhausted', high: 'Full of energy' },
];

/**
 * Resolves with {mood, anxiety, energy[, note]} (or the keys of `scales`) or null when skipped.
 * `initial` pre-fills (the post rating starts from the pre rating, so only change is asked).
 */
export function ratingView({ title, intro, initial, withNote = false, skipLabel = 'Skip', nextLabel = 'Next', scales = SCALES }) {
  let finish;
  const done = new Promise((resolve) => { finish = resolve; });
  // Every slider starts in the middle, so no answer is suggested.
  const values = { ...Object.fromEntries(scales.map((x) => [x.key, 5])), ...(initial || {}) };
  const sliders = scales.map((scale) => {
    const id = `rate-${scale.key}`;
    const out = h('output.rating-value', { htmlFor: id }, String(values[scale.key]));
    const input = h('input.big-range', {
      type: 'range', id, min: 0, max: 10, step: 1, value: values[scale.key],
      'aria-valuetext': `${values[scale.key]} of 10`,
      oninput: () => {
        values[scale.key] = Number(input.value);
        out.textContent = input.value;
        input.setAttribute('aria-valuetext', `${input.value} of 10`);
      },
    });
    return h('div.rating',
      h('div.rating-head', h('label', { htmlFor: id }, scale.label), out),
      input,
      h('div.rating-ends', { 'aria-hidden': 'true' }, h('span', `0 · ${scale.low}`), h('span', `${scale.high} · 10`)));
  });
  const note = withNote ? h('textarea', { id: 'rate-note', maxLength: 500, rows: 3, placeholder: 'Anything you noticed (optional)' }) : null;
  const form = h('form.rating-form', {
    onsubmit: (ev) => {
      ev.preventDefault();
      const result = Object.fromEntries(scales.map((x) => [x.key, values[x.key]]));
      if (note && note.value.trim()) result.note = note.value.trim().slice(0, 500);
      finish(result);
    },
  },
  sliders,
  note ? h('div.field', h('label', { htmlFor: 'rate-note' }, 'Note'), note) : null,
  h('div.actions',
    h('button.primary', { type: 'submit' }, nextLabel),
    h('button.link', { type: 'button', onclick: () => finish(null) }, skipLabel)));
  const el = h('section.screen',
    h('h1', title),
    intro ? h('p.lead', intro) : null,
    form);
  return { el, done };
}
