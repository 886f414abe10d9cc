// "What helps me": mood change per routine, raw and allowing for the start, in plain words;
// "surprise me" picks a favourite at random so each gets its share of good and bad days.
import { h, errorBox, busy, count, sureness } from './ui.js';
import { getCached, post } from './api.js';
import { kv } from './store.js';
import { allowed, screeningStatus } from './gate.js';

/** Plain words first; the figures one tap away. */
function change(effect) {
  const said = sureness(effect?.mean, effect?.ci95);
  return [said.words, said.numbers ? h('details.numbers', h('summary', 'The numbers'), h('p.small', said.numbers)) : null];
}

function routineItem(r) {
  return h('li.card.helps',
    h('h3', r.rank ? `${r.rank}. ${r.name}` : r.name),
    h('p.small.muted', `${count(r.n, 'session')} rated before and after`),
    h('div.change', h('p', h('strong', 'Mood, after minus before: '), change(r.raw))),
    h('div.change', h('p', h('strong', 'Allowing for how you felt beforehand: '), change(r.adjusted))),
    h('p', h('strong', r.words)),
    r.blocked ? h('p.warning', 'Not open to you now: ', r.blocked) : null);
}

export async function whatHelps(view) {
  const [{ data }, routines, status] = await Promise.all([
    getCached('/api/insights/what-helps'),
    getCached('/api/routines').then((r) => r.data).catch(() => []),
    screeningStatus(),
  ]);
  const usual = data.usual_start === null ? '' : ` (${data.usual_start.toFixed(1)} of 10)`;
  view.mount(h('section.screen.what-helps',
    h('h1', 'What helps me'),
    h('p.lead', data.summary),
    h('div.card',
      h('h2', 'Why “allowing for how you felt”?'),
      h('p', `People who start low tend to rise anyway, whatever they do. So a routine used mostly on bad days can look better than it is. Each routine is compared at your usual starting mood${usual}.`),
      h('details', h('summary', 'How it is worked out'), h('p.small', data.method))),
    data.routines.length ? h('ul.plain-list.helps-list', data.routines.map(routineItem)) : null,
    surpriseCard(routines.filter((r) => allowed(r, status))),
    h('a.button.link', { href: '#/history' }, 'History')));
}

function surpriseCard(routines) {
  const err = errorBox();
  const out = h('div', { 'aria-live': 'polite' });
  const name = (slug) => routines.find((r) => r.slug === slug)?.name || slug;
  const favourites = new Set();
  const count = h('span');
  const chips = h('div.chips', { role: 'group', 'aria-label': 'Favourites' });
  const sync = () => { count.textContent = favourites.size ? ` (${favourites.size})` : ''; kv.set('favourites', [...favourites]); };
  kv.get('favourites').then((saved) => {
    for (const slug of saved || []) if (routines.some((r) => r.slug === slug)) favourites.add(slug);
    count.textContent = favourites.size ? ` (${favourites.size})` : '';
    chips.append(...routines.map((r) => {
      const chip = h('button.chip', { type: 'button', 'aria-pressed': String(favourites.has(r.slug)) }, r.name);
      chip.addEventListener('click', () => {
        const on = chip.getAttribute('aria-pressed') !== 'true';
        chip.setAttribute('aria-pressed', String(on));
        if (on) favourites.add(r.slug); else favourites.delete(r.slug);
        sync();
      });
      return chip;
    }));
  });
  const button = h('button.primary', { type: 'button' }, 'Surprise me');
  button.addEventListener('click', () => busy(button, err, async () => {
    const pick = await post('/api/insights/surprise', favourites.size ? { favourites: [...favourites] } : {});
    out.replaceChildren(pick.routine
      ? h('div.card.suggest',
        h('h3', `Today: ${pick.name}`),
        h('p.small', `Picked at random from ${pick.chosen_from.map(name).join(', ')}, each with the same chance.`),
        pick.left_out.length ? h('p.small.muted', `Left out by your safety answers: ${pick.left_out.map((x) => name(x.slug)).join(', ')}.`) : null,
        h('a.button.primary', { href: `#/run/${encodeURIComponent(pick.routine)}` }, `Start ${pick.name}`))
      : h('p', pick.message));
  }));
  return h('div.card',
    h('h2', 'Surprise me'),
    h('p.small', 'Picks one of your favourite routines at random. Over time each gets its share of good and bad days, which keeps the comparison fair.'),
    h('details', h('summary', 'Your favourites', count), chips,
      h('p.small.muted', 'None chosen: the pick is among your three most practised routines.')),
    err, button, out);
}
