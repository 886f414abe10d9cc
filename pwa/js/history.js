// History: every session (those still on the phone marked as such), mood before vs after,
// the change per routine with its confidence interval, practice days, retention per round.
import { h, fmtDate, fmtTime, fmtDuration, errorBox, localDay } from './ui.js';
import { getCached } from './api.js';
import { kv, sessions as localSessions } from './store.js';
import { events } from './outbox.js';
import { prePostChart, changeChart, streakCalendar, retentionChart } from './charts.js';
import { careCard } from './care.js';

export const items = (data) => (Array.isArray(data) ? data : data?.items || data?.sessions || []);

/** Server sessions plus the phone's unsent ones, newest first, each uuid once. */
export function merge(server, local) {
  const byUuid = new Map(server.map((x) => [x.uuid, { ...x, sync: 'synced' }]));
  for (const r of local) {
    if (r.state !== 'done') continue;
    if (!byUuid.has(r.uuid) || r.sync !== 'synced') byUuid.set(r.uuid, { ...byUuid.get(r.uuid), ...r });
  }
  return [...byUuid.values()].sort((a, b) => Date.parse(b.started_at) - Date.parse(a.started_at));
}

let listening = false;
let shown = null; // the history view on screen, redrawn when the outbox has sent

export async function history(view) {
  const err = errorBox();
  const body = h('div');
  view.mount(h('section.screen.history', h('h1', 'History'), err, body));
  shown = view;
  if (!listening) {
    listening = true;
    events.addEventListener('synced', () => { if (shown?.current()) history(shown); });
  }

  const [server, insights, routines, local] = await Promise.all([
    getCached('/api/sessions?limit=100').catch((e) => { err.show(e); return { data: [] }; }),
    getCached('/api/insights?days=90').then((r) => r.data).catch(() => null),
    getCached('/api/routines').then((r) => r.data).catch(() => []),
    localSessions.all(),
  ]);
  const owner = await kv.get('userId');
  if (server.stale) err.show({ message: 'Offline: showing what is saved on this phone.' });
  const names = new Map((Array.isArray(routines) ? routines : []).map((r) => [r.slug, r.name]));
  const nameOf = (x) => names.get(x.routine) || x.name || x.routine;
  const all = merge(items(server.data), local.filter((r) => r.owner === undefined || r.owner === owner));

  if (!all.length) {
    body.append(h('p.lead', 'Nothing yet. Your sessions will appear here, with how you felt before and after.'),
      h('a.button.primary', { href: '#/library' }, 'Choose a routine'));
    return;
  }

  if (insights?.care?.show) body.prepend(await careCard());
  const totals = insights?.totals;
  if (totals) {
    body.append(h('p.lead', `${totals.sessions} sessions, ${Math.round(totals.minutes)} minutes in the last 90 days. Streak: ${totals.streak_days} day${totals.streak_days === 1 ? '' : 's'}.`));
  }

  const rated = all.filter((x) => x.pre?.mood !== undefined && x.post?.mood !== undefined).slice(0, 30).reverse();
  if (rated.length) body.append(prePostChart(rated.map((x) => ({ at: x.started_at, pre: x.pre.mood, post: x.post.mood, name: nameOf(x) }))));

  const byRoutine = (insights?.by_routine || []).filter((r) => r.mood_delta && r.mood_delta.mean !== null && r.mood_delta.mean !== undefined);
  if (byRoutine.length) {
    body.append(changeChart(byRoutine.map((r) => ({
      name: names.get(r.routine) || r.routine,
      n: r.n,
      mean: r.mood_delta.mean,
      lo: r.mood_delta.ci95?.[0] ?? null,
      hi: r.mood_delta.ci95?.[1] ?? null,
    }))));
  }
  body.append(h('a.button.secondary.wide', { href: '#/what-helps' }, 'What helps me: a fair comparison'));

  body.append(streakCalendar(new Set(all.map((x) => localDay(x.started_at)))));

  const power = all.filter((x) => x.details?.retention_seconds?.length).slice(0, 8).reverse();
  if (power.length) body.append(retentionChart(power.map((x) => ({ at: x.started_at, retention: x.details.retention_seconds }))));

  body.append(h('h2', 'Sessions'), h('ul.session-list', all.slice(0, 100).map((x) => sessionItem(x, nameOf(x)))));
}

function sessionItem(x, name) {
  const secs = x.ended_at ? (Date.parse(x.ended_at) - Date.parse(x.started_at)) / 1000 : null;
  const mood = x.pre?.mood !== undefined && x.post?.mood !== undefined ? `Mood ${x.pre.mood} → ${x.post.mood}` : null;
  const state = x.sync === 'pending' ? 'On this phone, not sent yet' : x.sync === 'failed' ? `Not accepted: ${x.error}` : null;
  return h('li.session', { 'data-uuid': x.uuid },
    h('div.session-head', h('span.session-name', name), h('span.muted', `${fmtDate(x.started_at)} ${fmtTime(x.started_at)}`)),
    h('div.session-meta',
      secs !== null ? h('span', fmtDuration(secs)) : null,
      mood ? h('span', mood) : null,
      x.details?.retention_seconds?.length ? h('span', `Holds: ${x.details.retention_seconds.map((v) => `${v.toFixed(0)} s`).join(', ')}`) : null,
      x.details?.water_temp_c !== undefined ? h('span', `Water ${x.details.water_temp_c} °C`) : null),
    x.post?.note ? h('p.note', x.post.note) : null,
    state ? h('p.badge', state) : null);
}
