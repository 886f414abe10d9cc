// The routine library: breathing and cold, filtered; each routine's summary, evidence,
// cautions and steps, and a start button.
import { h, sayDuration, errorBox, count } from './ui.js';
import { verdict, screeningStatus } from './gate.js';
import { getCached } from './api.js';
import { WORDS, cycleMs } from './plan.js';
import { kindWord, loadRoutine, waterWarning } from './routines.js';

const FILTERS = [['', 'All'], ['breathing', 'Breathing'], ['cold', 'Cold'], ['combined', 'Combined']];

const totalSeconds = (r) => r.total_seconds ?? (cycleMs(r) * r.cycles) / 1000;

export async function library(params, view) {
  const kind = params.get('kind') || '';
  const err = errorBox();
  const offline = h('p.note-calm', { role: 'status', hidden: true }, 'Offline: showing the routines saved on this phone.');
  const list = h('ul.routine-list');
  view.mount(h('section.screen',
    h('h1', 'Routines'),
    h('div.chips', { role: 'group', 'aria-label': 'Filter' },
      FILTERS.map(([value, label]) => h('a.chip', {
        href: value ? `#/library?kind=${value}` : '#/library',
        'aria-current': value === kind ? 'true' : null,
      }, label))),
    err,
    offline,
    list,
    h('div.actions',
      h('a.button.secondary', { href: '#/plans' }, 'Four-week plans'),
      h('a.button.secondary', { href: '#/finder' }, 'Find your resonance rate')),
    h('a.button.secondary.wide', { href: '#/editor' }, 'Make your own routine')));
  try {
    const [{ data, stale }, status] = await Promise.all([
      getCached(kind ? `/api/routines?kind=${kind}` : '/api/routines'), screeningStatus()]);
    if (stale) offline.hidden = false;
    list.replaceChildren(...data.map((r) => h('li',
      h('a.routine-card', { href: `#/routine/${encodeURIComponent(r.slug)}` },
        h('span.routine-name', r.name),
        h('span.routine-meta', `${kindWord(r)} · about ${sayDuration(totalSeconds(r))}${r.builtin ? '' : ' · yours'}${gateWord(r, status)}`),
        r.summary ? h('span.routine-summary', r.summary) : null))));
    if (!data.length) list.append(h('li.muted', 'No routines here yet.'));
  } catch (e) {
    err.show(e);
  }
}

/** " · not open to you" / " · a few questions first" in the list. */
function gateWord(routine, status) {
  const v = verdict(routine, status);
  if (!v) return '';
  return v.state === 'blocked' ? ' · not open to you now' : ' · a few questions first';
}

/** "About 10 min: 60 breaths of 10 s" rather than "10 min · 60 × 10 s". */
export function lengthInWords(routine) {
  const total = `About ${sayDuration(totalSeconds(routine))}`;
  if (routine.cycles <= 1) return total;
  const breaths = routine.phases.filter((p) => p.action === 'inhale').length;
  const each = sayDuration(cycleMs(routine) / 1000);
  if (routine.kind === 'breathing' && breaths === 1) return `${total}: ${count(routine.cycles, 'breath')} of ${each} each`;
  return `${total}: ${count(routine.cycles, 'round')} of ${each} each`;
}

/** Start, or (blocked, or waiting for the safety questions) a disabled Start with the reason. */
function startOrReason(routine, v) {
  const href = `#/run/${encodeURIComponent(routine.slug)}`;
  if (!v) return h('div.actions', h('a.button.primary', { href }, 'Start'));
  const why = v.state === 'blocked'
    ? `Not open to you now: ${v.reason}`
    : 'Answer a few safety questions first: this one asks a lot of the heart and breathing.';
  return h('div.actions.blocked',
    h('button.primary', { type: 'button', disabled: true, 'aria-describedby': `why-${routine.slug}` }, 'Start'),
    h('p.small', { id: `why-${routine.slug}` }, why),
    h('a.button.secondary', { href: `#/screening?next=${encodeURIComponent(routine.slug)}` },
      v.state === 'blocked' ? 'Review your answers' : 'Answer the safety questions'));
}

export async function routineDetail(slug, view) {
  let routine;
  let gate;
  try {
    [routine, gate] = await Promise.all([loadRoutine(slug), screeningStatus()]);
    gate = verdict(routine, gate);
  } catch (e) {
    const err = errorBox();
    view.mount(h('section.screen', h('h1', 'Routine'), err, h('a.button.link', { href: '#/library' }, 'Back')));
    err.show(e);
    return;
  }
  const steps = routine.phases.map((p) => h('li', `${WORDS[p.action] || p.action}: ${p.seconds} s${p.cue ? ` · ${p.cue}` : ''}`));
  view.mount(h('section.screen.detail',
    h('p.eyebrow', kindWord(routine)),
    h('h1', routine.name),
    routine.goal ? h('p.lead', routine.goal) : null,
    routine.summary ? h('p', routine.summary) : null,
    h('p.muted', lengthInWords(routine)),
    waterWarning(routine),
    startOrReason(routine, gate),
    routine.cautions?.length ? h('div.card', h('h2', 'Cautions'), h('ul.cautions', routine.cautions.map((c) => h('li', c)))) : null,
    routine.evidence ? h('div.card', h('h2', 'What the evidence says'), h('p', routine.evidence)) : null,
    h('div.card', h('h2', 'Steps, repeated'), h('ol.steps', steps)),
    routine.builtin ? null : h('a.button.secondary', { href: `#/editor/${encodeURIComponent(routine.slug)}` }, 'Edit this routine'),
    h('a.button.link', { href: '#/library' }, 'All routines')));
}
