// Home: care first when recent ratings were very low, then today's suggestion (never a
// routine the safety screening does not allow), the streak, the plan in progress, and a
// one-tap start of the last routine.
import { h, plural, count } from './ui.js';
import { getCached } from './api.js';
import { kv, sessions } from './store.js';
import { pending } from './outbox.js';
import { allowed, screeningStatus } from './gate.js';
import { careCard } from './care.js';
import { activePlan } from './plans.js';
import { zoneQuestion } from './zone.js';

function greeting() {
  const hour = new Date().getHours();
  if (hour < 5) return 'Good night';
  if (hour < 12) return 'Good morning';
  if (hour < 18) return 'Good afternoon';
  return 'Good evening';
}

const START_TEXT = 'Slow breathing near six breaths a minute is the best-studied place to start.';

/**
 * The API's recommendation in whichever of its plain shapes it comes, as long as the
 * screening allows its routine; otherwise (and its words with it) the gentle default.
 */
export function suggestion(rec, routines, status) {
  const usable = (slug) => routines.find((r) => r.slug === slug && allowed(r, status));
  if (rec && typeof rec === 'object') {
    const slug = rec.routine || rec.slug;
    const text = rec.reason || rec.text || rec.message || '';
    if (slug) {
      if (usable(slug)) return { routine: usable(slug), text };
      return { routine: usable('resonance') || null, text: START_TEXT };
    }
  }
  // No routine named yet: slow breathing near 6 a minute is the best-studied start.
  const text = (typeof rec === 'string' ? rec : rec?.text) || START_TEXT;
  const fallback = usable('resonance') || routines.find((r) => allowed(r, status));
  return fallback || text ? { routine: fallback || null, text } : null;
}

export async function home(view) {
  const [insights, list, last, local, status, me] = await Promise.all([
    getCached('/api/insights?days=90').then((r) => r.data).catch(() => null),
    getCached('/api/routines').then((r) => r.data).catch(() => []),
    kv.get('lastRoutine'),
    sessions.all(),
    screeningStatus(),
    getCached('/api/me').then((r) => r.data).catch(() => null),
  ]);
  const routines = Array.isArray(list) ? list : [];
  const s = suggestion(insights?.recommendation, routines, status);
  const totals = insights?.totals || {};
  const waiting = pending(local, await kv.get('userId')).length;
  const streak = totals.streak_days || 0;
  const again = last && allowed(routines.find((r) => r.slug === last.slug) || last.slug, status) ? last : null;
  const [care, plan, zone] = await Promise.all([
    insights?.care?.show ? careCard() : null, activePlan().catch(() => null), zoneQuestion(me)]);

  view.mount(h('section.screen.home',
    h('h1', greeting()),
    care,
    zone,
    s ? h('div.card.suggest',
      h('p.eyebrow', 'Today’s suggestion'),
      s.routine ? h('h2', s.routine.name) : null,
      s.text ? h('p', s.text) : null,
      s.routine ? h('a.button.primary', { href: `#/run/${encodeURIComponent(s.routine.slug)}` }, `Start ${s.routine.name}`) : null) : null,
    plan,
    h('div.stats',
      stat(String(streak), `${plural(streak, 'day')} in a row`),
      stat(String(totals.sessions ?? 0), plural(totals.sessions ?? 0, 'session')),
      stat(String(Math.round(totals.minutes ?? 0)), plural(Math.round(totals.minutes ?? 0), 'minute'))),
    again ? h('a.button.secondary.wide', { href: `#/run/${encodeURIComponent(again.slug)}` }, `Again: ${again.name}`) : null,
    waiting ? h('p.muted', `${count(waiting, 'session')} saved on this phone, waiting to be sent.`) : null,
    h('nav.quick', { 'aria-label': 'More' },
      h('a.button.link', { href: '#/what-helps' }, 'What helps me'),
      h('a.button.link', { href: '#/plans' }, 'Plans'),
      h('a.button.link', { href: '#/finder' }, 'Find your rate'))));
}

function stat(value, label) {
  return h('div.stat', h('span.stat-value', value), h('span.stat-label', label));
}
