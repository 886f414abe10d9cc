// The care card (insights `care`): supportive words, not treatment, where to find help
// (GET /api/care/resources). Hidden for a day at most; #/help is always one tap away.
import { h, localDay, errorBox, busy } from './ui.js';
import { getCached } from './api.js';
import { kv } from './store.js';

// Offline and never fetched: still somewhere to turn.
const FALLBACK = {
  words: {
    title: 'You don’t have to carry this alone',
    body: 'Talking can help: with someone you trust, your doctor, or a support line.',
    not_treatment: 'This app is not treatment.',
    emergency: 'If you are in danger, call your local emergency number now.',
  },
};

const digits = (phone) => phone.replace(/[^\d+]/g, '');

function countryName(code) {
  try { return new Intl.DisplayNames(undefined, { type: 'region' }).of(code) || code; } catch { return code; }
}

function line(l) {
  return h('li.help-line',
    h('strong', l.name),
    l.description ? h('span', l.description) : null,
    h('span.help-ways',
      l.phone ? h('a.button.secondary', { href: `tel:${digits(l.phone)}` }, `Call ${l.phone}`) : null,
      l.sms ? h('a.button.secondary', { href: `sms:${digits(l.sms)}` }, `Text ${l.sms}`) : null,
      l.url ? h('a', { href: l.url, target: '_blank', rel: 'noopener' }, new URL(l.url).host.replace(/^www\./, '')) : null),
    l.hours ? h('small.muted', l.hours) : null);
}

async function resources() {
  const country = await kv.get('careCountry');
  try {
    return (await getCached(`/api/care/resources${country ? `?country=${country}` : ''}`)).data;
  } catch {
    return FALLBACK;
  }
}

function helpBody(r, rerender) {
  const w = r.words || FALLBACK.words;
  const err = errorBox();
  const code = h('input', { id: 'care-country', maxLength: 2, autocomplete: 'country', value: r.country || '', size: 4 });
  const show = h('button.secondary', { type: 'submit' }, 'Show lines');
  const where = r.country ? countryName(r.country) : 'your country';
  return [
    h('p', w.body),
    h('p.warning', w.emergency, r.emergency ? [' ', h('a', { href: `tel:${digits(r.emergency)}` }, `Call ${r.emergency}`)] : null),
    r.lines?.length ? [h('h3', `In ${where}`), h('ul.help-lines', r.lines.map(line))] : null,
    r.international?.length ? [h('h3', r.lines?.length ? 'Anywhere in the world' : 'Find a line near you'), h('ul.help-lines', r.international.map(line))] : null,
    h('p.small.muted', w.not_treatment),
    h('details.small',
      h('summary', r.country_guessed !== false && r.country ? `Not in ${where}?` : 'Another country'),
      h('form.row-form', {
        onsubmit: (ev) => {
          ev.preventDefault();
          busy(show, err, async () => {
            const value = code.value.trim().toUpperCase();
            if (!/^[A-Z]{2}$/.test(value)) throw new Error('Use the two-letter country code, e.g. DE or GB.');
            await getCached(`/api/care/resources?country=${value}`); // refused codes say why, here
            await kv.set('careCountry', value);
            rerender();
          });
        },
      }, h('label', { htmlFor: 'care-country' }, 'Country code'), code, show),
      err),
  ];
}

/** Home and history's card, or a link to #/help when hidden today. */
export async function careCard() {
  const box = h('div');
  const render = async () => {
    if ((await kv.get('careHiddenOn')) === localDay()) {
      box.replaceChildren(h('p.care-link', h('a', { href: '#/help' }, 'Where to find help')));
      return;
    }
    const r = await resources();
    box.replaceChildren(h('section.card.care', { 'aria-labelledby': 'care-title' },
      h('h2#care-title', (r.words || FALLBACK.words).title),
      helpBody(r, render),
      h('button.link', {
        type: 'button',
        onclick: async () => { await kv.set('careHiddenOn', localDay()); render(); },
      }, 'Hide for today')));
  };
  await render();
  return box;
}

export async function helpScreen(view) {
  const r = await resources();
  view.mount(h('section.screen', h('h1', 'Where to find help'), h('p.lead', (r.words || FALLBACK.words).title), helpBody(r, () => helpScreen(view))));
}
