// Your own routine: phases in 0.1 s steps, repeated a number of times or for a number of
// minutes. The server checks the same limits (1–40 phases, 0.5–600 s each, ≤ 60 minutes).
import { h, field, errorBox, busy, fmtDuration, toast } from './ui.js';
import { post, put, del } from './api.js';
import { WORDS } from './plan.js';
import { loadRoutine } from './routines.js';

const ACTIONS = ['inhale', 'sigh_inhale', 'hold', 'exhale', 'hold_empty', 'prepare', 'cold', 'rest'];

export function slugify(name) {
  const base = name.toLowerCase().normalize('NFKD').replace(/[^\w\s-]/g, '').trim()
    .replace(/[\s_]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'routine';
  return `${base.length < 2 ? `my-${base}` : base}-${Math.random().toString(36).slice(2, 6)}`;
}

export async function editor(slug, view) {
  let routine = {
    name: '', kind: 'breathing', goal: '', summary: '', cycles: 30,
    phases: [{ action: 'inhale', seconds: 4, cue: '' }, { action: 'exhale', seconds: 6, cue: '' }],
  };
  const editing = !!slug;
  const err = errorBox();
  if (editing) {
    try {
      routine = structuredClone(await loadRoutine(slug));
    } catch (e) {
      view.mount(h('section.screen', h('h1', 'Edit routine'), err));
      err.show(e);
      return;
    }
  }
  const phases = routine.phases.map((p) => ({ action: p.action, seconds: p.seconds, cue: p.cue || '' }));
  const name = h('input', { id: 'r-name', value: routine.name, maxLength: 60, required: true });
  const goal = h('input', { id: 'r-goal', value: routine.goal, maxLength: 120, placeholder: 'e.g. Wind down before sleep' });
  const kind = h('select', { id: 'r-kind' }, [['breathing', 'Breathing'], ['cold', 'Cold'], ['combined', 'Breathing and cold']]
    .map(([v, l]) => h('option', { value: v, selected: v === routine.kind }, l)));
  const list = h('ol.phase-list');
  const total = h('p.muted', { 'aria-live': 'polite' });
  const cycleSeconds = () => phases.reduce((s, p) => s + Math.round(p.seconds * 10), 0) / 10;

  const byMinutes = h('input', { type: 'radio', name: 'repeat', id: 'by-minutes', value: 'minutes' });
  const byCycles = h('input', { type: 'radio', name: 'repeat', id: 'by-cycles', value: 'cycles', checked: true });
  const amount = h('input', { type: 'number', id: 'r-amount', min: 1, max: 7200, step: 1, value: routine.cycles, inputMode: 'decimal' });
  const amountLabel = h('label', { htmlFor: 'r-amount' }, 'Repetitions');
  const cycles = () => {
    const v = Number(amount.value) || 1;
    return byMinutes.checked ? Math.max(1, Math.round((v * 60) / Math.max(0.5, cycleSeconds()))) : Math.max(1, Math.round(v));
  };
  const showTotal = () => { total.textContent = `One round ${fmtDuration(cycleSeconds())} · ${cycles()} rounds · ${fmtDuration(cycleSeconds() * cycles())} in all`; };
  const switchMode = () => {
    if (byMinutes.checked) {
      amountLabel.textContent = 'Minutes';
      amount.step = 0.5;
      amount.value = String(Math.max(1, Math.round((cycleSeconds() * Number(routine.cycles)) / 30) / 2));
    } else {
      amountLabel.textContent = 'Repetitions';
      amount.step = 1;
    }
    showTotal();
  };
  byMinutes.addEventListener('change', switchMode);
  byCycles.addEventListener('change', switchMode);
  amount.addEventListener('input', showTotal);

  const render = () => {
    list.replaceChildren(...phases.map((p, i) => {
      const action = h('select', { 'aria-label': `Phase ${i + 1} action`, onchange: () => { p.action = action.value; } },
        ACTIONS.map((a) => h('option', { value: a, selected: a === p.action }, WORDS[a])));
      const secs = h('input', {
        type: 'number', min: 0.5, max: 600, step: 0.1, value: p.seconds, inputMode: 'decimal',
        'aria-label': `Phase ${i + 1} seconds`,
        oninput: () => { p.seconds = Math.round((Number(secs.value) || 0) * 10) / 10; showTotal(); },
      });
      const cue = h('input', { value: p.cue, maxLength: 120, placeholder: 'Cue (optional)', 'aria-label': `Phase ${i + 1} cue`, oninput: () => { p.cue = cue.value; } });
      const move = (d) => () => { const j = i + d; if (j < 0 || j >= phases.length) return; [phases[i], phases[j]] = [phases[j], phases[i]]; render(); };
      return h('li.phase-row',
        h('div.phase-row-main', action, h('span.secs', secs, h('span.unit', 's'))),
        cue,
        h('div.phase-row-tools',
          h('button.icon', { type: 'button', onclick: move(-1), disabled: i === 0, 'aria-label': `Move phase ${i + 1} up` }, '↑'),
          h('button.icon', { type: 'button', onclick: move(1), disabled: i === phases.length - 1, 'aria-label': `Move phase ${i + 1} down` }, '↓'),
          h('button.icon', { type: 'button', onclick: () => { if (phases.length > 1) { phases.splice(i, 1); render(); } }, disabled: phases.length === 1, 'aria-label': `Remove phase ${i + 1}` }, '×')));
    }));
    showTotal();
  };
  render();

  const saveBtn = h('button.primary', { type: 'submit' }, editing ? 'Save changes' : 'Save routine');
  const form = h('form', {
    onsubmit: (ev) => {
      ev.preventDefault();
      busy(saveBtn, err, async () => {
        const words = phases.map((p) => `${WORDS[p.action].toLowerCase()} ${p.seconds} s`).join(', ');
        const body = {
          name: name.value.trim(),
          kind: kind.value,
          goal: goal.value.trim() || 'My own practice',
          summary: `${words}; ${cycles()} rounds, about ${fmtDuration(cycleSeconds() * cycles())}.`.replace(/^./, (c) => c.toUpperCase()),
          phases: phases.map((p) => ({ action: p.action, seconds: p.seconds, cue: p.cue.trim() })),
          cycles: cycles(),
        };
        const saved = editing ? await put(`/api/routines/${encodeURIComponent(slug)}`, body)
          : await post('/api/routines', { ...body, slug: slugify(body.name) });
        toast('Routine saved');
        location.hash = `#/routine/${encodeURIComponent(saved.slug)}`;
      });
    },
  },
  field('Name', name),
  field('What it is for', goal),
  field('Kind', kind),
  h('h2', 'Phases'),
  list,
  h('button.secondary', {
    type: 'button',
    onclick: () => { if (phases.length < 40) { phases.push({ action: 'exhale', seconds: 4, cue: '' }); render(); } },
  }, 'Add a phase'),
  h('fieldset.repeat',
    h('legend', 'Repeat'),
    h('div.radio', byCycles, h('label', { htmlFor: 'by-cycles' }, 'a number of times')),
    h('div.radio', byMinutes, h('label', { htmlFor: 'by-minutes' }, 'for a number of minutes')),
    h('div.field', amountLabel, amount)),
  total,
  err,
  h('div.actions', saveBtn,
    editing ? h('button.danger', {
      type: 'button',
      onclick: (ev) => busy(ev.currentTarget, err, async () => {
        await del(`/api/routines/${encodeURIComponent(slug)}`);
        toast('Routine deleted');
        location.hash = '#/library';
      }),
    }, 'Delete') : null));

  view.mount(h('section.screen.editor', h('h1', editing ? 'Edit routine' : 'New routine'),
    h('p.muted', 'Seconds in steps of 0.1. Breath holds are not allowed together with cold phases.'),
    form));
}
