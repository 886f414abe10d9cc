// Home: today's suggestion, the streak, and a one-tap start of the last routine.
import { h, mount } from './ui.js';
import { getCached } from './api.js';
import { kv, sessions } from './store.js';
import { pending } from './outbox.js';

function greeting() {
  const hour = new Date().getHours();
  if (hour < 5) return 'Good night';
  if (hour < 12) return 'Good morning';
  if (hour < 18) return 'Good afternoon';
  return 'Good evening';
}

/** The API's recommendation in whichever of its plain shapes it comes. */
export function suggestion(rec, routines) {
  const bySlug = (slug) => routines.find((r) => r.slug === slug);
  if (rec && typeof rec === 'object') {
    const slug = rec.routine || rec.slug;
    const text = rec.reason || rec.text || rec.message || '';
    if (slug && bySlug(slug)) return { routine: bySlug(slug), text };
  }
  // No routine named yet: slow breathing near 6 a minute is the best-studied start.
  const text = (typeof rec === 'string' ? rec : rec?.text) || 'Slow breathing near six breaths a minute is the best-studied place to start.';
  const fallback = bySlug('resonance') || routines[0];
  return fallback || text ? { routine: fallback || null, text } : null;
}

export async function home() {
  const [insights, list, last, local] = await Promise.all([
    getCached('/api/insights?days=90').then((r) => r.data).catch(() => null),
    getCached('/api/routines').then((r) => r.data).catch(() => []),
    kv.get('lastRoutine'),
    sessions.all(),
  ]);
  const routines = Array.isArray(list) ? list : [];
  const s = suggestion(insights?.recommendation, routines);
  const totals = insights?.totals || {};
  const waiting = pending(local, await kv.get('userId')).length;
  const streak = totals.streak_days || 0;

  mount(h('section.screen.home',
    h('h1', greeting()),
    insights?.care?.show ? careCard() : null,
    s ? h('div.card.suggest',
      h('p.eyebrow', 'Today’s suggestion'),
      s.routine ? h('h2', s.routine.name) : null,
      s.text ? h('p', s.text) : null,
      s.routine ? h('a.button.primary', { href: `#/run/${encodeURIComponent(s.routine.slug)}` }, `Start ${s.routine.name}`) : null) : null,
    h('div.stats',
      stat(String(streak), streak === 1 ? 'day in a row' : 'days in a row'),
      stat(String(totals.sessions ?? 0), 'sessions'),
      stat(String(Math.round(totals.minutes ?? 0)), 'minutes')),
    last ? h('a.button.secondary.wide', { href: `#/run/${encodeURIComponent(last.slug)}` }, `Again: ${last.name}`) : null,
    waiting ? h('p.muted', `${waiting} session${waiting > 1 ? 's' : ''} saved on this phone, waiting to be sent.`) : null,
    h('nav.quick', { 'aria-label': 'More' },
      h('a.button.link', { href: '#/library' }, 'All routines'),
      h('a.button.link', { href: '#/reminders' }, 'Reminders'))));
}

function stat(value, label) {
  return h('div.stat', h('span.stat-value', value), h('span.stat-label', label));
}

function careCard() {
  return h('div.card.care', { role: 'note' },
    h('h2', 'Go gently with yourself'),
    h('p', 'Your mood has been low after several recent sessions. That happens, and you do not have to carry it alone. Talking with someone you trust, or with your doctor, can help.'),
    h('p', 'If you feel unsafe or in crisis, call your local emergency number or a crisis line now.'));
}
