// Small DOM helpers shared by every screen: build elements, never parse HTML strings (so no
// inline style or script can ever slip in under the CSP), announce to screen readers.

/** h('button.primary', {onclick}, 'Start') — tag with optional .classes and #id. */
export function h(spec, attrs, ...children) {
  const [, tag, rest] = spec.match(/^([a-z0-9-]+)(.*)$/i);
  const el = document.createElement(tag);
  for (const m of rest.matchAll(/([.#])([\w-]+)/g)) {
    if (m[1] === '.') el.classList.add(m[2]); else el.id = m[2];
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key in el && !key.startsWith('aria') && !key.startsWith('data') && key !== 'list') el[key] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Late-bound hooks between modules that load lazily (set by the session screen). */
export const hooks = { leave: null };

const SVG = 'http://www.w3.org/2000/svg';
/** An SVG element with attributes (presentation attributes, never style=). */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) el.setAttribute(key, value);
  }
  append(el, children);
  return el;
}

let turn = 0;

/**
 * The router opens one view for each route it shows. Its `mount` draws only while that route
 * is still the one shown (the same turn of the router, the same hash): a screen that awaits
 * its data never draws over the screen the person has gone on to. `current()` says the same
 * for work that is not drawing (a timer, a listener).
 */
export function openView() {
  if (!document.getElementById('toast')?.dataset.sticky) hideToast();
  const mine = ++turn;
  const at = location.hash;
  const current = () => mine === turn && location.hash === at;
  return {
    current,
    mount: (...children) => (current() ? draw(children) : null),
  };
}

/** Replace the main view's content and move focus to its heading for screen readers. */
function draw(children) {
  const main = document.getElementById('view');
  main.replaceChildren(...children.flat());
  const heading = main.querySelector('h1');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
  window.scrollTo(0, 0);
  return main;
}

/** Say something politely to screen readers (the shell's live region). */
export function announce(text) {
  const region = document.getElementById('live');
  if (!region) return;
  region.textContent = '';
  // A fresh text node in a later task is what makes every reader repeat identical words.
  setTimeout(() => { region.textContent = text; }, 30);
}

let toastTimer;
/**
 * A short message at the foot of the screen. `action` {label, run, timeout?, sticky?} adds a
 * button; without `timeout` an action's toast stays until tapped. A toast belongs to the
 * screen it was shown on: the next screen hides it, unless it is `sticky` (the update prompt).
 */
export function toast(text, action) {
  const box = document.getElementById('toast');
  box.replaceChildren(h('span', text));
  if (action) box.append(h('button.link', { type: 'button', onclick: () => { hideToast(); action.run(); } }, action.label));
  box.hidden = false;
  place(box);
  box.dataset.sticky = action?.sticky ? 'true' : '';
  document.body.classList.add('toasting');
  clearTimeout(toastTimer);
  const ms = action ? action.timeout : 5000;
  if (ms) toastTimer = setTimeout(hideToast, ms);
}

/** Controls a toast could hide: those of the screen and the tab bar. */
const CONTROLS = '#view button, #view a.button, #view a.chip, #view input, #view select, #view textarea, #tabs a';

function covered(box) {
  const a = box.getBoundingClientRect();
  let n = 0;
  for (const el of document.querySelectorAll(CONTROLS)) {
    const b = el.getBoundingClientRect();
    if (b.width && b.height && a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) n += 1;
  }
  return n;
}

/** At the foot of the screen unless it would cover a control there; then at the top. */
function place(box) {
  box.classList.remove('top');
  if (!covered(box)) return;
  box.classList.add('top');
  if (covered(box)) box.classList.remove('top');
}

function hideToast() {
  const box = document.getElementById('toast');
  if (box) box.hidden = true;
  document.body.classList.remove('toasting');
}

/** A paragraph that shows an error sentence where a form can see it. A limit reached (429)
 * is no error: it is shown calmly, as a note to wait, and announced politely. */
export function errorBox() {
  const box = h('p.error', { role: 'alert', hidden: true });
  box.show = (err) => {
    box.textContent = err ? (err.message || String(err)) : '';
    box.hidden = !err;
    const calm = !!err?.waiting;
    box.classList.toggle('waiting', calm);
    box.setAttribute('role', calm ? 'status' : 'alert');
  };
  return box;
}

/** Disable a button while a promise runs; show its error in `box`. */
export async function busy(button, box, work) {
  button.disabled = true;
  box?.show(null);
  try {
    return await work();
  } catch (err) {
    box?.show(err);
    return undefined;
  } finally {
    button.disabled = false;
  }
}

export function field(label, input, hint) {
  const id = input.id || (input.id = `f-${Math.random().toString(36).slice(2, 9)}`);
  const hintEl = hint ? h('small.hint', { id: `${id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  return h('div.field', h('label', { htmlFor: id }, label), input, hintEl);
}

export const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

export function fmtDuration(seconds) {
  seconds = Math.round(seconds);
  const m = Math.floor(seconds / 60), sec = seconds % 60;
  if (!m) return `${sec} s`;
  return sec ? `${m} min ${sec} s` : `${m} min`;
}

const plurals = new Intl.PluralRules('en');
const numbers = new Intl.NumberFormat('en');

/** "1 session", "3 sessions", "1 minute": the noun follows the number's plural rule. */
export function count(n, one, other = `${one}s`) {
  return `${numbers.format(n)} ${plural(n, one, other)}`;
}

export function plural(n, one, other = `${one}s`) {
  return plurals.select(n) === 'one' ? one : other;
}

/** A length as people say it: "45 s", "4½ min", "12 min", "1 h 5 min" (not "5 min 4 s"). */
export function sayDuration(seconds) {
  const s = Math.max(0, seconds);
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 600) {
    const halves = Math.round(s / 30);
    return `${Math.floor(halves / 2)}${halves % 2 ? '½' : ''} min`;
  }
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m / 60} h`;
}

/**
 * A mean change with its 95 % interval, in plain words for someone who asked how they are
 * doing: whether it clearly rose, clearly fell, or is not clear yet. The figures stay for
 * `numbers` (shown one tap away). `better` is the direction that is good (anxiety: down).
 */
export function sureness(mean, ci, { what = 'your mood', better = 'up' } = {}) {
  if (mean === null || mean === undefined) return { words: 'Not enough sessions to say yet.', numbers: null };
  const [lo, hi] = ci || [];
  const r = (v) => signed(v, 1);
  const numbers = ci
    ? (r(lo) === r(hi) ? `Average change ${r(mean)}.` : `Average change ${r(mean)}; 95\u00a0% interval ${r(lo)} to ${r(hi)}.`)
    : `Average change ${r(mean)}; too few sessions for an interval.`;
  let words;
  if (!ci) words = 'Too few sessions to say how sure this is.';
  else if (lo > 0) words = better === 'up' ? `${cap(what)} clearly tends to rise.` : `${cap(what)} tends to rise: not the way you want.`;
  else if (hi < 0) words = better === 'down' ? `${cap(what)} clearly tends to fall.` : `${cap(what)} tends to fall with it.`;
  else words = 'Not clear yet: it could go either way. More sessions will tell.';
  return { words, numbers };
}

const cap = (text) => text.charAt(0).toUpperCase() + text.slice(1);

export function fmtClock(seconds) {
  const total = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}

export function fmtDate(iso, opts = { weekday: 'short', day: 'numeric', month: 'short' }) {
  return new Date(iso).toLocaleDateString(undefined, opts);
}

export function fmtTime(iso) {
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** "+2" / "−3" with a real minus sign. */
export function signed(n, digits = 0) {
  const v = Number(n.toFixed(digits));
  if (v === 0) return '±0';
  return (v > 0 ? '+' : '−') + Math.abs(v).toFixed(digits);
}

export function localDay(date = new Date()) {
  const d = new Date(date);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
