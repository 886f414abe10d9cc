// Plans (GET /api/plans): the phone keeps the day a plan began, the server says from the
// sessions where the person is and today's step (a length, or seconds of cold).
import { h, fmtDate, fmtDuration, localDay } from './ui.js';
import { getCached } from './api.js';
import { kv } from './store.js';
import { gateCard, routineNames } from './gate.js';

const starts = async () => (await kv.get('planStarts')) || {};

/** "15–30 s", "1–2 min", "8–10 min", "5 min". */
export function amount(plan, lo, hi = lo) {
  if (plan.measure === 'minutes') return lo === hi ? `${lo} min` : `${lo}–${hi} min`;
  if (lo === hi) return fmtDuration(lo);
  if (hi < 60) return `${lo}–${hi} s`;
  if (lo % 60 === 0 && hi % 60 === 0) return `${lo / 60}–${hi / 60} min`;
  return `${fmtDuration(lo)} to ${fmtDuration(hi)}`;
}

const stepLink = (plan, value) => `#/run/${encodeURIComponent(plan.routine)}?${plan.measure === 'minutes' ? 'minutes' : 'cold'}=${value}`;

export async function plans(view) {
  const [{ data }, begun] = await Promise.all([getCached('/api/plans'), starts()]);
  view.mount(h('section.screen',
    h('h1', 'Plans'),
    h('p.lead', 'Small steps over four weeks. Start when it suits you; the plan follows the sessions you do.'),
    h('ul.routine-list', data.map((p) => h('li',
      h('a.routine-card', { href: `#/plan/${encodeURIComponent(p.slug)}` },
        h('span.routine-name', p.name),
        h('span.routine-meta', `${p.weeks.length} weeks · ${p.routine_name} · ${amount(p, p.weeks[0].low)} to ${amount(p, p.weeks.at(-1).high)}${begun[p.slug] ? ' · started' : ''}`),
        h('span.routine-summary', p.summary))))),
    h('a.button.link', { href: '#/library' }, 'All routines')));
}

async function fetchPlan(slug) {
  const start = (await starts())[slug];
  const path = `/api/plans/${encodeURIComponent(slug)}${start ? `?start=${start}` : ''}`;
  return (await getCached(path)).data;
}

export async function planDetail(slug, view) {
  const plan = await fetchPlan(slug);
  const p = plan.progress;
  const begin = async () => {
    await kv.set('planStarts', { ...(await starts()), [slug]: localDay() });
    planDetail(slug, view);
  };
  let top;
  if (plan.blocked) {
    top = gateCard({ slug: plan.routine, name: plan.routine_name }, { state: 'blocked', reason: plan.blocked, alternative: plan.alternative }, await routineNames());
  } else if (!p) {
    top = h('div.actions', h('button.primary', { type: 'button', onclick: begin }, 'Start this plan today'));
  } else {
    top = todayCard(plan, p);
  }
  view.mount(h('section.screen.plan',
    h('p.eyebrow', `Plan · ${plan.routine_name}`),
    h('h1', plan.name),
    h('p.lead', plan.summary),
    top,
    h('div.card', h('h2', 'Week by week'), h('ol.weeks', plan.weeks.map((w, i) => weekItem(plan, w, p?.weeks[i], p?.week === w.week)))),
    plan.cautions.length ? h('div.card', h('h2', 'Go gently'), h('ul.cautions', plan.cautions.map((c) => h('li', c)))) : null,
    h('details.card', h('summary', 'Why this pace'), h('p', plan.evidence)),
    p && !plan.blocked ? h('button.link', {
      type: 'button',
      onclick: () => { if (confirm('Start this plan again from today?')) begin(); },
    }, 'Start again from today') : null,
    h('a.button.link', { href: '#/plans' }, 'All plans')));
}

function todayCard(plan, p) {
  const value = p.today.value;
  const current = p.week ? p.weeks[p.week - 1] : null;
  const head = {
    not_started: `Starts ${fmtDate(`${p.start}T12:00:00`)}`,
    finished: 'Plan complete: well done',
    in_progress: `Week ${p.week} of ${plan.weeks.length}`,
  }[p.state];
  return h('div.card.suggest',
    h('p.eyebrow', head),
    current ? [
      h('p', `${current.sessions} of ${current.target_sessions} sessions this week${current.best !== null ? ` · best ${amount(plan, current.best)}` : ''}`),
      h('progress', { max: current.target_sessions, value: Math.min(current.sessions, current.target_sessions), 'aria-label': 'Sessions this week' }),
    ] : null,
    h('h2', `Today: ${amount(plan, value)}${plan.measure === 'cold_seconds' ? ' of cold' : ''}`),
    p.today.done_today ? h('p.small.muted', 'You have practised today already. Another session is fine if it feels right; rest is fine too.') : null,
    p.state === 'finished' ? h('p.small', 'Keep going at the length that suits you.') : null,
    h('a.button.primary', { href: stepLink(plan, value) }, 'Start today’s step'));
}

function weekItem(plan, w, got, now) {
  const done = got && got.sessions ? ` · done ${got.sessions}${got.best !== null ? `, best ${amount(plan, got.best)}` : ''}` : '';
  return h(`li.week${now ? '.now' : ''}`, { 'aria-current': now ? 'step' : null },
    h('strong', `Week ${w.week}: ${w.sessions} × ${amount(plan, w.low, w.high)}`),
    h('span.small.muted', done),
    h('p.small', w.text));
}

/** Home's card for the first plan in progress, or null. */
export async function activePlan() {
  const begun = await starts();
  for (const slug of Object.keys(begun)) {
    const plan = await fetchPlan(slug).catch(() => null);
    const p = plan?.progress;
    if (!p || p.state !== 'in_progress' || plan.blocked) continue;
    return h('div.card',
      h('p.eyebrow', `${plan.name} · week ${p.week}`),
      h('p', `Today: ${amount(plan, p.today.value)}${plan.measure === 'cold_seconds' ? ' of cold' : ''}${p.today.done_today ? ' (done)' : ''}`),
      h('div.actions',
        h('a.button.secondary', { href: stepLink(plan, p.today.value) }, 'Start'),
        h('a.button.link', { href: `#/plan/${encodeURIComponent(slug)}` }, 'See the plan')));
  }
  return null;
}
