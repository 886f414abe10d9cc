// Reminders: create, edit, delete; and the push permission, asked only when the user taps
// the button. A refusal is respected and explained; reminders stay saved either way.
import { h, errorBox, busy, WEEKDAYS, toast, field } from './ui.js';
import { get, post, patch, del, getCached } from './api.js';
import { kv } from './store.js';
import { iosHint, isIOS, isStandalone } from './onboarding.js';
import { verdict, screeningStatus } from './gate.js';

export function b64uToBytes(text) {
  const pad = '='.repeat((4 - (text.length % 4)) % 4);
  const raw = atob((text + pad).replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

const pushSupported = () => 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
// How long the browser may take to set up notifications before the coach gives up and says so.
const PUSH_SETUP_MS = 20000;

/** What went wrong turning notifications on, in plain words. */
export const PUSH_WORDS = {
  denied: 'Notifications are blocked for the coach. That is fine: your reminders are kept. To get them, allow notifications for this site in your browser’s site settings, then come back here.',
  unsupported: 'This browser cannot receive notifications. Your reminders are kept and will work on a browser that can.',
  ios: 'On iPhone, reminders arrive only from the coach on the Home Screen: in Safari tap Share, then “Add to Home Screen”, and open the coach from there.',
  offline: 'No connection: notifications could not be turned on. Try again when you are online.',
  timeout: 'The browser did not answer in time, so notifications are not on yet. Try again; if it keeps happening, this browser may not be able to receive them.',
};

class PushProblem extends Error {
  constructor(kind) {
    super(PUSH_WORDS[kind]);
    this.kind = kind;
  }
}

function withTimeout(promise, ms) {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new PushProblem('timeout')), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Subscribe this browser and tell the server. Must run from a tap (permission prompt).
 * Resolves 'granted' or the permission the person chose; a step that fails or hangs throws
 * a PushProblem whose message says what happened. */
export async function enablePush() {
  if (!pushSupported()) throw new PushProblem(isIOS() && !isStandalone() ? 'ios' : 'unsupported');
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') return permission;
  if (!navigator.onLine) throw new PushProblem('offline');
  try {
    return await withTimeout(subscribe(), PUSH_SETUP_MS);
  } catch (err) {
    if (err instanceof PushProblem) throw err;
    if (err.offline || !navigator.onLine) throw new PushProblem('offline');
    throw err;
  }
}

async function subscribe() {
  const reg = await navigator.serviceWorker.ready;
  const { key } = await get('/api/push/vapid-public-key', { auth: false });
  let sub = await reg.pushManager.getSubscription();
  const current = sub?.options?.applicationServerKey;
  if (sub && current && btoa(String.fromCharCode(...new Uint8Array(current))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') !== key) {
    await sub.unsubscribe(); // made for another server key: start afresh
    sub = null;
  }
  sub ||= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64uToBytes(key) });
  await kv.set('vapidKey', key); // the service worker re-subscribes with it on pushsubscriptionchange
  await post('/api/push/subscriptions', sub.toJSON());
  return 'granted';
}

async function disablePush() {
  const reg = await navigator.serviceWorker.ready;
  const sub = await reg.pushManager.getSubscription();
  if (!sub) return;
  await del('/api/push/subscriptions', { endpoint: sub.endpoint });
  await sub.unsubscribe();
}

/** Whether reminders can reach this phone now: notifications allowed and subscribed. */
async function reachesThisPhone() {
  if (!pushSupported() || Notification.permission !== 'granted') return false;
  const reg = await navigator.serviceWorker.getRegistration();
  return !!(reg && await reg.pushManager.getSubscription());
}

async function pushPanel(onChange) {
  const err = errorBox();
  const box = h('div.card.push', h('h2', 'Notifications on this phone'));
  const render = async () => {
    box.replaceChildren(box.firstChild);
    onChange?.();
    if (!pushSupported()) {
      box.append(h('p', isIOS() && !isStandalone()
        ? 'Reminders reach an iPhone only from the coach on the Home Screen (see below).'
        : 'This browser cannot receive notifications. Your reminders are kept and will work on a browser that can.'));
      return;
    }
    const reg = await navigator.serviceWorker.getRegistration();
    const sub = reg ? await reg.pushManager.getSubscription() : null;
    if (Notification.permission === 'denied') {
      box.append(h('p', PUSH_WORDS.denied));
    } else if (Notification.permission === 'granted' && sub) {
      const off = h('button.secondary', { type: 'button' }, 'Turn off on this phone');
      off.addEventListener('click', () => busy(off, err, async () => { await disablePush(); toast('Notifications turned off'); render(); }));
      box.append(h('p', 'On: reminders arrive as notifications.'), off);
    } else {
      const on = h('button.primary', { type: 'button' }, 'Turn on notifications');
      on.addEventListener('click', () => busy(on, err, async () => {
        const result = await enablePush();
        if (result === 'granted') toast('Notifications are on');
        await render();
      }));
      box.append(h('p', 'Your browser will ask for permission. You can turn them off at any time.'), on);
    }
    box.append(err);
  };
  await render();
  return box;
}

export async function reminders(view) {
  const err = errorBox();
  const list = h('ul.reminder-list');
  const formSlot = h('div');
  const [routines, status] = await Promise.all([
    getCached('/api/routines').then((r) => r.data).catch(() => []), screeningStatus()]);
  const names = new Map(routines.map((r) => [r.slug, r.name]));
  let reaches = await reachesThisPhone().catch(() => false);
  const recheck = () => reachesThisPhone().catch(() => false).then((now) => {
    if (now !== reaches) { reaches = now; load(); }
  });

  const load = async () => {
    try {
      const { data } = await getCached('/api/reminders');
      const items = Array.isArray(data) ? data : data.items || [];
      list.replaceChildren(...items.map((r) => item(r)));
      if (!items.length) list.append(h('li.muted', 'No reminders yet.'));
    } catch (e) { err.show(e); }
  };

  const item = (r) => {
    const days = r.weekdays.length === 7 ? 'Every day' : r.weekdays.map((d) => WEEKDAYS[d].slice(0, 3)).join(', ');
    const toggle = h('input', { type: 'checkbox', id: `rem-${r.id}`, checked: r.enabled });
    toggle.addEventListener('change', () => busy(toggle, err, async () => { await patch(`/api/reminders/${r.id}`, { enabled: toggle.checked }); await load(); }));
    return h('li.reminder',
      h('div.reminder-main',
        h('span.reminder-time', r.local_time),
        h('span', days),
        h('span.muted', r.routine ? names.get(r.routine) || r.routine : 'Today’s suggestion'),
        r.enabled && r.next_fire_at ? h('span.small.muted', `Next: ${new Date(r.next_fire_at).toLocaleString(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' })}`) : null,
        r.enabled && !reaches ? h('span.small.unreachable', 'Will not reach this phone: notifications are off here.') : null),
      h('div.reminder-tools',
        h('div.switch', toggle, h('label', { htmlFor: `rem-${r.id}` }, 'On')),
        h('button.link', { type: 'button', onclick: () => showForm(r) }, 'Edit'),
        h('button.link.danger-text', { type: 'button', onclick: (ev) => busy(ev.currentTarget, err, async () => { await del(`/api/reminders/${r.id}`); await load(); }) }, 'Delete')));
  };

  const showForm = (r = { local_time: '07:30', weekdays: [0, 1, 2, 3, 4, 5, 6], routine: null, enabled: true }) => {
    const time = h('input', { type: 'time', id: 'rem-time', value: r.local_time, required: true });
    const boxes = WEEKDAYS.map((d, i) => h('input', { type: 'checkbox', id: `wd-${i}`, value: i, checked: r.weekdays.includes(i) }));
    const routine = h('select', { id: 'rem-routine' }, h('option', { value: '' }, 'Today’s suggestion'),
      routines.map((x) => {
        // A routine the safety answers close is shown, marked and not offered.
        const v = verdict(x, status);
        const note = v ? (v.state === 'blocked' ? ' (not open to you now)' : ' (safety questions first)') : '';
        return h('option', { value: x.slug, selected: x.slug === r.routine, disabled: !!v && x.slug !== r.routine }, `${x.name}${note}`);
      }));
    const ferr = errorBox();
    const save = h('button.primary', { type: 'submit' }, r.id ? 'Save' : 'Add reminder');
    formSlot.replaceChildren(h('form.card', {
      onsubmit: (ev) => {
        ev.preventDefault();
        busy(save, ferr, async () => {
          const body = {
            local_time: time.value,
            weekdays: boxes.filter((b) => b.checked).map((b) => Number(b.value)),
            routine: routine.value || null,
          };
          if (!body.weekdays.length) throw new Error('Choose at least one day.');
          if (r.id) await patch(`/api/reminders/${r.id}`, body);
          else await post('/api/reminders', { ...body, routine: body.routine || undefined, enabled: true });
          formSlot.replaceChildren();
          toast(reaches ? 'Reminder saved' : 'Reminder saved. It will not reach this phone until notifications are on.');
          await load();
        });
      },
    },
    h('h2', r.id ? 'Edit reminder' : 'New reminder'),
    field('Time', time),
    h('fieldset.days', h('legend', 'Days'), boxes.map((b, i) => h('span.day-check', b, h('label', { htmlFor: b.id }, WEEKDAYS[i].slice(0, 3))))),
    field('Routine', routine),
    ferr,
    h('div.actions', save, h('button.link', { type: 'button', onclick: () => formSlot.replaceChildren() }, 'Cancel'))));
    time.focus();
  };

  view.mount(h('section.screen',
    h('h1', 'Reminders'),
    h('p.lead', 'A gentle nudge at the times you choose, in your time zone.'),
    await pushPanel(recheck),
    err,
    list,
    formSlot,
    h('button.secondary.wide', { type: 'button', onclick: () => showForm() }, 'Add a reminder'),
    iosHint()));
  await load();
}
