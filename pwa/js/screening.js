// The safety questions (asked by the server: GET /api/me/screening gives them), answered yes
// or no and saved with PUT. Then what they mean: open, best left out (why, and a gentler
// routine), or still waiting for answers. A "yes" never closes the gentle breathing routines.
import { h, errorBox, busy } from './ui.js';
import { getCached, put } from './api.js';
import { routineNames } from './gate.js';

export async function screening(params, view) {
  const next = params.get('next');
  const err = errorBox();
  const [status, names] = await Promise.all([getCached('/api/me/screening').then((r) => r.data), routineNames()]);
  const name = (slug) => names[slug] || slug;
  const answers = status.answers || {};
  const questions = status.questions.map(({ key, text }) => {
    const radio = (value, label) => {
      const input = h('input', { type: 'radio', name: key, id: `${key}-${value}`, value, required: true, checked: answers[key] === (value === 'yes') });
      return h('span.choice', input, h('label', { htmlFor: input.id }, label));
    };
    const yes = radio('yes', 'Yes');
    return { key, yes: yes.firstChild, el: h('fieldset.question', h('legend', text), h('div.choices', yes, radio('no', 'No'))) };
  });
  const result = h('div.screening-result', { 'aria-live': 'polite' });
  const save = h('button.primary', { type: 'submit' }, 'Save answers');

  const show = (data) => {
    const nextOpen = next && data.cleared.includes(next);
    result.replaceChildren(h('div.card',
      h('h2', data.answers ? 'What your answers mean' : 'Not answered yet'),
      data.blocked.length ? [h('h3', 'Best left out for now'), h('ul.plain-list', data.blocked.map((b) => h('li',
        h('strong', name(b.slug)), h('p', b.reason),
        b.alternative ? h('a.button.secondary', { href: `#/run/${encodeURIComponent(b.alternative)}` }, `Try ${name(b.alternative)} instead`) : null)))] : null,
      data.needs_screening.length ? h('p', `Waiting for your answers: ${data.needs_screening.map(name).join(', ')}.`) : null,
      data.cleared.length ? h('p', `Open to you: ${data.cleared.map(name).join(', ')}.`) : null,
      h('p.small.muted', 'Every gentle breathing routine stays open whatever you answer.'),
      nextOpen ? h('a.button.primary', { href: `#/run/${encodeURIComponent(next)}` }, `Continue to ${name(next)}`) : null));
  };
  show(status);
  view.mount(h('section.screen.screening',
    h('h1', 'Safety questions'),
    h('p.lead', 'Power breathing and cold water ask a lot of the heart and breathing. A few yes-or-no questions keep them away from people they could harm. Your answers stay private.'),
    h('form', {
      onsubmit: (ev) => {
        ev.preventDefault();
        busy(save, err, async () => {
          const body = { answers: Object.fromEntries(questions.map((q) => [q.key, q.yes.checked])) };
          show(await put('/api/me/screening', body));
          result.scrollIntoView({ block: 'start' });
        });
      },
    }, questions.map((q) => q.el), err, save),
    result,
    h('p.small.muted', 'If any of these apply to you, please talk to your doctor before trying strong breathing or cold-water practice.')));
}
