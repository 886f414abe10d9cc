// History: every session (those still on the phone marked as such), mood before vs after,
// the change per routine with its confidence interval, practice days, retention per round.
import { h, fmtDate, fmtTime, sayDuration, errorBox, busy, toast, localDay, count } from './ui.js';
import { getCached, del } from './api.js';
import { kv, sessions as localSessions } from './store.js';
import { events, save } from './outbox.js';
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
  const offline = h('p.note-calm', { role: 'status', hidden: true }, 'Offline: showing what is saved on this phone.');
  view.mount(h('section.screen.history', h('h1', 'History'), err, offline, body));
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
  if (server.stale) offline.hidden = false;
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
    body.append(h('p.lead', `${count(totals.sessions, 'session')}, ${count(Math.round(totals.minutes), 'minute')} in the last 90 days. Streak: ${count(totals.streak_days, 'day')}.`));
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

  body.append(h('h2', 'Sessions'), h('ul.session-list', all.slice(0, 100).map((x) => sessionItem(x, nameOf(x), owner))));
}

// A session practised for under a minute is kept but counts nowhere (api.md `short`); an
// unsent one is judged here by the same rule.
const SHORT_SECONDS = 60;
const isShort = (x, secs) => x.short ?? (secs !== null && secs < SHORT_SECONDS);
const UNDO_MS = 6000;

function sessionItem(x, name, owner) {
  const secs = x.ended_at ? (Date.parse(x.ended_at) - Date.parse(x.started_at)) / 1000 : null;
  const mood = x.pre?.mood !== undefined && x.post?.mood !== undefined ? `Mood ${x.pre.mood} → ${x.post.mood}` : null;
  const state = x.sync === 'pending' ? `On this phone, not sent yet${x.waiting ? `. ${x.waiting}` : ''}`
    : x.sync === 'failed' ? `Not accepted: ${x.error}` : null;
  const short = isShort(x, secs);
  const item = h(`li.session${short ? '.short' : ''}`, { 'data-uuid': x.uuid });
  const tools = h('div.session-tools',
    h('button.link', { type: 'button', onclick: () => editForm(item, x, owner) }, 'Edit'),
    h('button.link.danger-text', { type: 'button', onclick: () => remove(item, x) }, 'Delete'));
  // DOM append would write a null as the word "null": keep only what is there.
  item.append(...[
    h('div.session-head', h('span.session-name', name), h('span.muted', `${fmtDate(x.started_at)} ${fmtTime(x.started_at)}`)),
    h('div.session-meta',
      secs !== null ? h('span', sayDuration(secs)) : null,
      mood ? h('span', mood) : null,
      x.details?.retention_seconds?.length ? h('span', `Holds: ${x.details.retention_seconds.map((v) => `${v.toFixed(0)} s`).join(', ')}`) : null,
      x.details?.water_temp_c !== undefined ? h('span', `Water ${x.details.water_temp_c} °C`) : null),
    x.post?.note ? h('p.note', x.post.note) : null,
    short ? h('p.badge', 'Short: under a minute, so it counts in no total or streak') : null,
    state ? h('p.badge', state) : null,
    tools,
  ].filter((child) => child !== null && child !== undefined && child !== false));
  return item;
}

/** Delete at once on screen, for good after a few seconds unless "Undo" is tapped. */
function remove(item, x) {
  const list = item.parentElement;
  const next = item.nextSibling;
  item.remove();
  let undone = false;
  const timer = setTimeout(async () => {
    if (undone) return;
    try {
      if (x.sync !== 'pending' && x.sync !== 'failed') await del(`/api/sessions/${x.uuid}`);
      await localSessions.delete(x.uuid);
    } catch (err) {
      list?.insertBefore(item, next);
      toast(`Not deleted: ${err.message}`);
    }
  }, UNDO_MS);
  toast('Session deleted', {
    label: 'Undo',
    timeout: UNDO_MS,
    run: () => {
      undone = true;
      clearTimeout(timer);
      list?.insertBefore(item, next);
    },
  });
}

const RATED = [['mood', 'Mood'], ['anxiety', 'Anxiety'], ['energy', 'Energy']];

/** Edit the ratings and note in place; saved through the outbox (PUT of the same uuid). */
function editForm(item, x, owner) {
  if (item.querySelector('form')) return;
  const err = errorBox();
  const pick = (id, value) => h('select', { id }, h('option', { value: '' }, '–'),
    Array.from({ length: 11 }, (_, i) => h('option', { value: i, selected: value === i }, String(i))));
  const inputs = {};
  const row = (when, rating) => h('fieldset.rating-edit', h('legend', when === 'pre' ? 'Before' : 'After'),
    RATED.map(([key, label]) => {
      const id = `edit-${x.uuid}-${when}-${key}`;
      inputs[`${when}.${key}`] = pick(id, rating?.[key]);
      return h('span.pick', h('label', { htmlFor: id }, label), inputs[`${when}.${key}`]);
    }));
  const note = h('textarea', { id: `edit-${x.uuid}-note`, maxLength: 500, rows: 2 }, x.post?.note || '');
  const saveBtn = h('button.primary', { type: 'submit' }, 'Save changes');
  const rating = (when) => {
    const out = {};
    for (const [key] of RATED) {
      const v = inputs[`${when}.${key}`].value;
      if (v !== '') out[key] = Number(v);
    }
    return out;
  };
  const form = h('form.session-edit', {
    onsubmit: (ev) => {
      ev.preventDefault();
      busy(saveBtn, err, async () => {
        const pre = rating('pre');
        const post = rating('post');
        if ((Object.keys(pre).length && pre.mood === undefined) || (Object.keys(post).length && post.mood === undefined)) {
          throw new Error('A rating needs its mood.');
        }
        if (note.value.trim()) {
          if (post.mood === undefined) throw new Error('A note goes with the rating after; add its mood.');
          post.note = note.value.trim();
        }
        const record = {
          ...x, pre: Object.keys(pre).length ? pre : undefined, post: Object.keys(post).length ? post : undefined,
          state: 'done', sync: 'pending', owner: x.owner ?? owner,
        };
        await save(record);
        toast('Saved');
      });
    },
  },
  h('h3', 'Edit this session'), row('pre', x.pre), row('post', x.post),
  h('div.field', h('label', { htmlFor: note.id }, 'Note'), note),
  err,
  h('div.actions', saveBtn, h('button.link', { type: 'button', onclick: () => form.remove() }, 'Cancel')));
  item.append(form);
  inputs['post.mood'].focus();
}
