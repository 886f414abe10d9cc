// The routine library: breathing and cold, filtered; each routine's summary, evidence,
// cautions and steps, and a start button.
import { h, fmtDuration, errorBox } from './ui.js';
import { getCached } from './api.js';
import { WORDS, cycleMs } from './plan.js';
import { kindWord, loadRoutine, waterWarning } from './routines.js';

const FILTERS = [['', 'All'], ['breathing', 'Breathing'], ['cold', 'Cold'], ['combined', 'Combined']];

const totalSeconds = (r) => r.total_seconds ?? (cycleMs(r) * r.cycles) / 1000;

export async function library(params, view) {
  const kind = params.get('kind') || '';
  const err = errorBox();
  const list = h('ul.routine-list');
  view.mount(h('section.screen',
    h('h1', 'Routines'),
    h('div.chips', { role: 'group', 'aria-label': 'Filter' },
      FILTERS.map(([value, label]) => h('a.chip', {
        href: value ? `#/library?kind=${value}` : '#/library',
        'aria-current': value === kind ? 'true' : null,
      }, label))),
    err,
    list,
    h('div.actions',
      h('a.button.secondary', { href: '#/plans' }, 'Four-week plans'),
      h('a.button.secondary', { href: '#/finder' }, 'Find your resonance rate')),
    h('a.button.secondary.wide', { href: '#/editor' }, 'Make your own routine')));
  try {
    const { data, stale } = await getCached(kind ? `/api/routines?kind=${kind}` : '/api/routines');
    if (stale) err.show({ message: 'Offline: showing the routines saved on this phone.' });
    list.replaceChildren(...data.map((r) => h('li',
      h('a.routine-card', { href: `#/routine/${encodeURIComponent(r.slug)}` },
        h('span.routine-name', r.name),
        h('span.routine-meta', `${kindWord(r)} · ${fmtDuration(totalSeconds(r))}${r.builtin ? '' : ' · yours'}${r.requires_screening ? ' · safety questions' : ''}`),
        r.summary ? h('span.routine-summary', r.summary) : null))));
    if (!data.length) list.append(h('li.muted', 'No routines here yet.'));
  } catch (e) {
    err.show(e);
  }
}

export async function routineDetail(slug, view) {
  let routine;
  try {
    routine = await loadRoutine(slug);
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
    h('p.muted', `${fmtDuration(totalSeconds(routine))} · ${routine.cycles} × ${fmtDuration(cycleMs(routine) / 1000)}`),
    waterWarning(routine),
    h('div.actions', h('a.button.primary', { href: `#/run/${encodeURIComponent(routine.slug)}` }, 'Start')),
    routine.cautions?.length ? h('div.card', h('h2', 'Cautions'), h('ul.cautions', routine.cautions.map((c) => h('li', c)))) : null,
    routine.evidence ? h('div.card', h('h2', 'What the evidence says'), h('p', routine.evidence)) : null,
    h('div.card', h('h2', 'Steps, repeated'), h('ol.steps', steps)),
    routine.builtin ? null : h('a.button.secondary', { href: `#/editor/${encodeURIComponent(routine.slug)}` }, 'Edit this routine'),
    h('a.button.link', { href: '#/library' }, 'All routines')));
}
