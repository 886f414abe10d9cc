// Plans (GET /api/plans): the server keeps the day a plan began (PUT …/enrolment), so every
// device shows the same day, and says from the sessions where the person is and today's step
// (a length, or seconds of cold). A plan can be stopped (DELETE …/enrolment).
import { h, fmtDate, fmtDuration, localDay, errorBox, busy, toast } from './ui.js';
import { getCached, put, del } from './api.js';
import { kv } from './store.js';
import { gateCard, routineNames } from './gate.js';

const enrolment = (slug) => `/api/plans/${encodeURIComponent(slug)}/enrolment`;

/** Start days an older version kept on this phone only: hand them to the server once. */
async function moveLocalStarts() {
  const local = await kv.get('planStarts');
  if (!local) return;
  for (const [slug, start] of Object.entries(local)) await put(enrolment(slug), { start }).catch(() => {});
  await kv.delete('planStarts');
}

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
  await moveLocalStarts().catch(() => {});
  const { data } = await getCached('/api/plans');
  view.mount(h('section.screen',
    h('h1', 'Plans'),
    h('p.lead', 'Small steps over four weeks. Start when it suits you; the plan follows the sessions you do.'),
    h('ul.routine-list', data.map((p) => h('li',
      h('a.routine-card', { href: `#/plan/${encodeURIComponent(p.slug)}` },
        h('span.routine-name', p.name),
        h('span.routine-meta', `${p.weeks.length} weeks · ${p.routine_name} · ${amount(p, p.weeks[0].low)} to ${amount(p, p.weeks.at(-1).high)}${p.start ? ' · started' : ''}`),
        h('span.routine-summary', p.summary))))),
    h('a.button.link', { href: '#/library' }, 'All routines')));
}

async function fetchPlan(slug) {
  return (await getCached(`/api/plans/${encodeURIComponent(slug)}`)).data;
}

export async function planDetail(slug, view) {
  const plan = await fetchPlan(slug);
  const p = plan.progress;
  const err = errorBox();
  const begin = (button) => busy(button, err, async () => {
    await put(enrolment(slug), { start: localDay() });
    toast('Plan started');
    await planDetail(slug, view);
  });
  const stop = (button) => busy(button, err, async () => {
    await del(enrolment(slug));
    toast('Plan stopped. Your sessions stay in your history.');
    await planDetail(slug, view);
  });
  let top;
  if (plan.blocked) {
    top = gateCard({ slug: plan.routine, name: plan.routine_name }, { state: 'blocked', reason: plan.blocked, alternative: plan.alternative }, await routineNames());
  } else if (!p) {
    top = h('div.actions', h('button.primary', { type: 'button', onclick: (ev) => begin(ev.currentTarget) }, 'Start this plan today'));
  } else {
    top = todayCard(plan, p);
  }
  view.mount(h('section.screen.plan',
    h('p.eyebrow', `Plan · ${plan.routine_name}`),
    h('h1', plan.name),
    h('p.lead', plan.summary),
    top,
    err,
    h('div.card', h('h2', 'Week by week'), h('ol.weeks', plan.weeks.map((w, i) => weekItem(plan, w, p?.weeks[i], p?.week === w.week)))),
    plan.cautions.length ? h('div.card', h('h2', 'Go gently'), h('ul.cautions', plan.cautions.map((c) => h('li', c)))) : null,
    h('details.card', h('summary', 'Why this pace'), h('p', plan.evidence)),
    p ? h('div.actions',
      plan.blocked ? null : h('button.link', {
        type: 'button',
        onclick: (ev) => { if (confirm('Start this plan again from today?')) begin(ev.currentTarget); },
      }, 'Start again from today'),
      h('button.link.danger-text', {
        type: 'button',
        onclick: (ev) => { if (confirm('Stop this plan? Your sessions stay in your history.')) stop(ev.currentTarget); },
      }, 'Stop this plan')) : null,
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
  await moveLocalStarts().catch(() => {});
  const { data } = await getCached('/api/plans');
  for (const slug of data.filter((x) => x.start).map((x) => x.slug)) {
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
