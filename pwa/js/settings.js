// Settings: the weekly email, the resonance rate, your data (export), the safety
// questions, the account (address, password, devices), passkeys, logging out and deleting the account.
import { h, errorBox, busy, WEEKDAYS, field, toast, count } from './ui.js';
import { getCached, patch, del, request } from './api.js';
import { sessions, kv } from './store.js';
import { pending, sync } from './outbox.js';
import { zoneCard } from './zone.js';
import { passkeysCard } from './passkeys.js';
import { emailCard, passwordCard, devicesCard, forget, logOut } from './account.js';

export async function settings(view) {
  const err = errorBox();
  let me;
  try {
    me = (await getCached('/api/me')).data;
  } catch (e) {
    view.mount(h('section.screen', h('h1', 'Settings'), err));
    err.show(e);
    return;
  }
  view.mount(h('section.screen.settings',
    h('h1', 'Settings'),
    h('p.muted', me.email),
    digestCard(me),
    zoneCard(me),
    resonanceCard(me),
    voiceCard(me),
    h('div.card', h('h2', 'Reminders and safety'),
      h('div.actions',
        h('a.button.secondary', { href: '#/reminders' }, 'Reminders'),
        h('a.button.secondary', { href: '#/screening' }, 'Safety questions'),
        h('a.button.secondary', { href: '#/help' }, 'Where to find help'))),
    exportCard(),
    emailCard(me),
    passwordCard(),
    devicesCard(),
    passkeysCard(),
    accountCard()));
}

function digestCard(me) {
  const err = errorBox();
  const enabled = h('input', { type: 'checkbox', id: 'digest-on', checked: me.digest.enabled });
  const day = h('select', { id: 'digest-day' }, WEEKDAYS.map((d, i) => h('option', { value: i, selected: i === me.digest.weekday }, d)));
  const time = h('input', { type: 'time', id: 'digest-time', value: me.digest.local_time, required: true });
  const save = h('button.secondary', { type: 'submit' }, 'Save');
  return h('form.card', {
    onsubmit: (ev) => {
      ev.preventDefault();
      busy(save, err, async () => {
        await patch('/api/me', { digest: { enabled: enabled.checked, weekday: Number(day.value), local_time: time.value } });
        toast(enabled.checked ? `Weekly email on ${WEEKDAYS[day.value]}s at ${time.value}` : 'Weekly email turned off');
      });
    },
  },
  h('h2', 'Weekly email'),
  h('div.switch', enabled, h('label', { htmlFor: 'digest-on' }, 'Send me a weekly summary')),
  h('div.row', field('Day', day), field('Time', time)),
  err,
  save);
}

/** Voice, tones and vibration (kept on this phone), the voice and its volume. */
function voiceCard(me) {
  const card = h('div.card.voice-card', h('h2', 'Voice, tones and vibration'));
  Promise.all([import('./voice.js'), import('./background.js'), kv.get('cuePrefs')]).then(async ([v, bg, stored]) => {
    const prefs = { sound: true, vibration: true, ...(stored || {}) };
    const lang = v.languageOf(me);
    const voices = await v.loadVoices(lang);
    const keep = () => kv.set('cuePrefs', { ...prefs });
    const sw = (id, label, key, onByDefault) => {
      const box = h('input', { type: 'checkbox', id, checked: prefs[key] ?? onByDefault,
        onchange: () => { prefs[key] = box.checked; keep(); } });
      return h('div.switch', box, h('label', { htmlFor: id }, label));
    };
    const note = [v.missingVoiceNote(lang, voices), bg.platformNote()].filter(Boolean).join(' ');
    const pick = voices.length > 1 ? h('select', { id: 'voice-pick',
      onchange: (ev) => { prefs.voiceURI = ev.target.value; keep(); } },
    voices.map((x) => h('option', { value: x.voiceURI, selected: x.voiceURI === prefs.voiceURI }, `${x.name} (${x.lang})`))) : null;
    const volume = h('input', { type: 'range', id: 'voice-volume', min: 0.2, max: 1, step: 0.1, value: prefs.voiceVolume ?? 1,
      onchange: () => { prefs.voiceVolume = Number(volume.value); keep(); } });
    const tryIt = h('button.secondary', { type: 'button', disabled: !voices.length,
      onclick: () => new v.Voice(lang, voices, { ...prefs, voice: true }).say('inhale') }, 'Try the voice');
    card.append(
      h('p.small.muted', 'Kept on this phone. Eyes closed turns the voice on unless you switch it off.'),
      sw('cue-voice', 'Spoken cues', 'voice', false),
      sw('cue-tones', 'Tones', 'sound', true),
      navigator.vibrate ? sw('cue-vibration', 'Vibration', 'vibration', true) : null,
      pick ? field('Voice', pick) : null,
      voices.length ? h('div.field', h('label', { htmlFor: 'voice-volume' }, 'Voice volume'), volume) : null,
      note ? h('p.small.muted', note) : null,
      h('div.actions', tryIt));
  });
  return card;
}

function resonanceCard(me) {
  const err = errorBox();
  const out = h('output', { htmlFor: 'bpm' }, `${me.resonance_bpm.toFixed(1)} breaths a minute`);
  const bpm = h('input.big-range', {
    type: 'range', id: 'bpm', min: 4, max: 7.5, step: 0.1, value: me.resonance_bpm,
    oninput: () => { out.textContent = `${Number(bpm.value).toFixed(1)} breaths a minute`; },
  });
  const save = h('button.secondary', { type: 'submit' }, 'Save');
  return h('form.card', {
    onsubmit: (ev) => {
      ev.preventDefault();
      busy(save, err, async () => {
        await patch('/api/me', { resonance_bpm: Number(bpm.value) });
        toast('Resonance rate saved');
      });
    },
  },
  h('h2', 'Resonance rate'),
  h('p.small.muted', 'Most adults’ resonance lies between 4.5 and 6.5 breaths a minute. Resonance breathing paces at this rate.'),
  h('label', { htmlFor: 'bpm' }, 'Breaths a minute'), bpm, out,
  err,
  h('div.actions', save, h('a.button.link', { href: '#/finder' }, 'Find it with the guided finder')));
}

function exportCard() {
  const err = errorBox();
  const download = (format) => (ev) => busy(ev.currentTarget, err, async () => {
    const response = await request('GET', `/api/me/export?format=${format}`, undefined, { raw: true });
    const blob = await response.blob();
    const name = /filename="?([^";]+)/.exec(response.headers.get('Content-Disposition') || '')?.[1]
      || `coach-export.${format === 'csv' ? (blob.type.includes('zip') ? 'zip' : 'csv') : 'json'}`;
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  });
  return h('div.card',
    h('h2', 'Your data'),
    h('p.small.muted', 'Everything the coach keeps about you, to keep or to take elsewhere.'),
    err,
    h('div.actions',
      h('button.secondary', { type: 'button', onclick: download('json') }, 'Download (JSON)'),
      h('button.secondary', { type: 'button', onclick: download('csv') }, 'Download (CSV)')));
}

function accountCard() {
  const err = errorBox();
  const logout = h('button.secondary', { type: 'button' }, 'Log out');
  logout.addEventListener('click', () => busy(logout, err, async () => {
    await sync();
    const waiting = pending(await sessions.all()).length;
    if (waiting && !confirm(`${count(waiting, 'session')} not sent yet will be lost if you log out now. Log out anyway?`)) return;
    await logOut();
  }));
  // The password and the "cannot be undone" are checked together, in one step: no question
  // comes before the password is known to be right, and its error sits under the field.
  const password = h('input', { type: 'password', id: 'delete-password', autocomplete: 'current-password', required: true });
  const wrong = h('p.error.field-error', { id: 'delete-password-error', role: 'alert', hidden: true });
  const understood = h('input', { type: 'checkbox', id: 'delete-understood', required: true });
  const remove = h('button.danger', { type: 'submit' }, 'Delete my account');
  const showWrong = (text) => {
    wrong.textContent = text || '';
    wrong.hidden = !text;
    if (text) password.setAttribute('aria-invalid', 'true'); else password.removeAttribute('aria-invalid');
  };
  password.addEventListener('input', () => showWrong(null));
  const form = h('form', {
    onsubmit: (ev) => {
      ev.preventDefault();
      showWrong(null);
      busy(remove, err, async () => {
        try {
          await del('/api/me', { password: password.value });
        } catch (e) {
          if (e.status !== 403) throw e;
          showWrong(e.message);
          password.focus();
          return;
        }
        await forget();
      });
    },
  },
  h('p.small.muted', 'Deletes your account, sessions, routines, reminders and notifications for good.'),
  h('div.field', h('label', { htmlFor: 'delete-password' }, 'Password'), password, wrong),
  h('div.switch', understood, h('label', { htmlFor: 'delete-understood' }, 'I understand this cannot be undone')),
  remove);
  password.setAttribute('aria-describedby', wrong.id);
  return h('div.card',
    h('h2', 'Account'),
    logout,
    h('details.danger-zone', h('summary', 'Delete account'), form),
    err);
}
