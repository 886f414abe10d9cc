// The account's time zone (reminders and the weekly email follow it) against the phone's:
// change it in Settings, and when the phone is somewhere else, Home asks once whether to
// move them (per pair of zones, so a later trip asks again).
import { h, errorBox, busy, field } from './ui.js';
import { patch } from './api.js';
import { kv, cachePut } from './store.js';

export const deviceZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

const zones = () => {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return [];
  }
};

/** PATCH the zone; the server re-plans every reminder and the digest. The new /api/me. */
async function saveZone(zone) {
  const me = await patch('/api/me', { timezone: zone });
  cachePut('/api/me', me).catch(() => {});
  return me;
}

const movedWords = (zone) => `Reminders and the weekly email now follow ${zone}.`;

/** Settings: the account's zone, changeable. */
export function zoneCard(me) {
  const err = errorBox();
  const done = h('p.small', { 'aria-live': 'polite' });
  const list = [...new Set([me.timezone, deviceZone(), ...zones()])];
  const select = h('select', { id: 'tz' }, list.map((z) => h('option', { value: z, selected: z === me.timezone }, z.replace(/_/g, ' '))));
  const save = h('button.secondary', { type: 'submit' }, 'Save time zone');
  return h('form.card', {
    onsubmit: (ev) => {
      ev.preventDefault();
      busy(save, err, async () => {
        const saved = await saveZone(select.value);
        done.textContent = movedWords(saved.timezone);
      });
    },
  },
  h('h2', 'Time zone'),
  field('Time zone', select, `This phone is on ${deviceZone()} time.`),
  err, done, save);
}

/** Home: when the phone's zone is not the account's and this pair was not asked yet. */
export async function zoneQuestion(me) {
  const here = deviceZone();
  if (!me || !me.timezone || me.timezone === here) return null;
  const pair = `${here}|${me.timezone}`;
  if ((await kv.get('zoneAsked')) === pair) return null;
  const err = errorBox();
  const box = h('div.card.zone', { role: 'group', 'aria-label': 'Time zone' });
  const answered = (text) => {
    kv.set('zoneAsked', pair).catch(() => {});
    box.replaceChildren(h('p', text));
  };
  const move = h('button.secondary', { type: 'button' }, `Move them to ${here}`);
  move.addEventListener('click', () => busy(move, err, async () => {
    const saved = await saveZone(here);
    answered(movedWords(saved.timezone));
  }));
  const keep = h('button.link', { type: 'button', onclick: () => answered(`Kept: reminders and the weekly email follow ${me.timezone}.`) }, `Keep ${me.timezone}`);
  box.append(
    h('h2', 'New time zone?'),
    h('p', `This phone is on ${here} time; your reminders and weekly email follow ${me.timezone}.`),
    err,
    h('div.actions', move, keep));
  return box;
}
