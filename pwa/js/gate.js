// The safety gate: what the screening (decided by the server) allows, and the kind words and
// gentler routine that replace a start it does not.
import { h } from './ui.js';
import { getCached } from './api.js';

// Before answering; once blocked, the server names the alternative.
const GENTLER = { 'power-breathing': 'cyclic-sighing', 'cold-plunge': 'cold-face' };

/** The screening status, or null (offline, never fetched). */
export async function screeningStatus() {
  try {
    return (await getCached('/api/me/screening')).data;
  } catch {
    return null;
  }
}

/** null if allowed, else {state: 'blocked' | 'needs', reason, alternative}. */
export function verdict(routine, status) {
  const slug = routine.slug || routine;
  const blocked = status?.blocked?.find((b) => b.slug === slug);
  if (blocked) return { state: 'blocked', reason: blocked.reason, alternative: blocked.alternative };
  const needs = status ? status.needs_screening?.includes(slug) : routine.requires_screening;
  if (needs) return { state: 'needs', reason: null, alternative: GENTLER[slug] || 'extended-exhale' };
  return null;
}

export const allowed = (routine, status) => !verdict(routine, status);

/** The card in place of a start. names: slug → name. */
export function gateCard(routine, v, names = {}, { sessionRefused = false } = {}) {
  const alt = v.alternative;
  const altName = alt && (names[alt] || alt.replace(/-/g, ' '));
  const next = `#/screening?next=${encodeURIComponent(routine.slug)}`;
  const words = v.state === 'needs'
    ? [h('p', `${routine.name} asks a lot of the heart and breathing, so it stays closed until a few short health questions are answered. It takes a minute, and your answers stay private.`)]
    : [h('p', sessionRefused
      ? 'Your safety answers say this one is best left out for now, so the coach could not record this session. It stays on this phone.'
      : 'Your safety answers say this one is best left out for now.'),
    h('p', v.reason)];
  return h('div.card.gate', { role: 'note' },
    h('h2', v.state === 'needs' ? 'A few questions first' : 'Not this one for now'),
    words,
    alt ? h('p', `${altName} is a gentler choice that suits you.`) : null,
    h('div.actions',
      alt ? h('a.button.primary', { href: `#/run/${encodeURIComponent(alt)}` }, `Try ${altName} instead`) : null,
      h(`a.button.${v.state === 'needs' ? 'secondary' : 'link'}`, { href: next },
        v.state === 'needs' ? 'Answer the safety questions' : 'Review your answers')));
}

export function gateScreen(view, routine, v, names) {
  view.mount(h('section.screen',
    h('p.eyebrow', routine.kind === 'breathing' ? 'Breathing' : 'Cold'),
    h('h1', routine.name),
    gateCard(routine, v, names),
    h('a.button.link', { href: '#/library' }, 'All routines')));
}

export async function routineNames() {
  try {
    const { data } = await getCached('/api/routines');
    return Object.fromEntries(data.map((r) => [r.slug, r.name]));
  } catch {
    return {};
  }
}
