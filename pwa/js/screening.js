// The safety questions for power breathing and cold plunges. Answers are private; a "yes"
// never blocks the gentle routines, and the reason is given in plain words.
import { h, mount, errorBox, busy } from './ui.js';
import { getCached, put } from './api.js';

const QUESTIONS = [
  ['heart_condition', 'A heart condition'],
  ['arrhythmia', 'An irregular heartbeat (arrhythmia)'],
  ['high_blood_pressure', 'High blood pressure that is not under control'],
  ['pregnancy', 'Pregnancy'],
  ['epilepsy', 'Epilepsy or seizures'],
  ['raynauds', 'Raynaud’s or another circulation problem'],
  ['respiratory', 'Asthma, COPD or another lung condition'],
  ['panic_disorder', 'Panic attacks or panic disorder'],
];

export async function screening(params) {
  const next = params.get('next');
  const err = errorBox();
  let current = null;
  try { current = (await getCached('/api/me/screening')).data; } catch { /* not answered yet */ }
  const answers = current?.answers || {};
  const inputs = QUESTIONS.map(([key, label]) => {
    const yes = h('input', { type: 'radio', name: key, id: `${key}-yes`, value: 'yes', checked: answers[key] === true });
    const no = h('input', { type: 'radio', name: key, id: `${key}-no`, value: 'no', checked: answers[key] === false, required: true });
    return {
      key,
      value: () => yes.checked,
      el: h('fieldset.question', h('legend', label),
        h('span.choice', yes, h('label', { htmlFor: yes.id }, 'Yes')),
        h('span.choice', no, h('label', { htmlFor: no.id }, 'No'))),
    };
  });
  const result = h('div');
  const save = h('button.primary', { type: 'submit' }, 'Save answers');
  const showResult = (data) => {
    result.replaceChildren(
      data.blocked?.length ? h('div.card', h('h2', 'Best left out for now'),
        h('ul', data.blocked.map((b) => h('li', h('strong', `${b.slug}: `), b.reason)))) : null,
      data.cleared?.length ? h('p', `Open to you: ${data.cleared.join(', ')}.`) : null,
      next && data.cleared?.includes(next) ? h('a.button.primary', { href: `#/run/${encodeURIComponent(next)}` }, 'Continue to the routine') : null);
  };
  if (current) showResult(current);
  mount(h('section.screen',
    h('h1', 'Safety questions'),
    h('p.lead', 'Do any of these apply to you? Power breathing and cold plunges strain the heart and breathing, so they stay closed when one does. Please talk to a doctor first.'),
    h('form', {
      onsubmit: (ev) => {
        ev.preventDefault();
        busy(save, err, async () => {
          const body = { answers: Object.fromEntries(inputs.map((i) => [i.key, i.value()])) };
          showResult(await put('/api/me/screening', body));
        });
      },
    }, inputs.map((i) => i.el), err, save),
    result));
}
