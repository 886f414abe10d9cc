// The resonance finder (Lehrer's protocol): five paces of 2 min (quick: 1) on the pacer, calm
// and comfort rated after each, RR intervals from an optional strap or from the phone's camera
// over a fingertip; the server cleans the beats and picks the rate.
import { h, errorBox, busy, toast } from './ui.js';
import { get, post, patch } from './api.js';
import { kv } from './store.js';
import { plan } from './plan.js';
import { pacerView, toggle } from './pacer.js';
import { Cues } from './cues.js';
import { ratingView } from './rating.js';
import { gentleCard } from './gentle.js';
import { hasBluetooth, connectStrap } from './hr.js';
import { hasCamera, openCamera, advice } from './camera.js';

export const RATES = [6.5, 6.0, 5.5, 5.0, 4.5];
const SCALES = [
  { key: 'calm', label: 'Calm', low: 'Not calm', high: 'Very calm' },
  { key: 'comfort', label: 'Comfort', low: 'Strained', high: 'Easy' },
];

/** Whole breaths at `bpm` for about `minutes`, in:out 4:6. */
export function stepTimeline(bpm, minutes) {
  const period = 60 / bpm;
  return plan({
    phases: [{ action: 'inhale', seconds: period * 0.4 }, { action: 'exhale', seconds: period * 0.6 }],
  }, Math.max(1, Math.round(bpm * minutes)));
}

/** RR intervals the API takes (250–2000 ms, ≤ 2000), or undefined with < 2. */
export function cleanRR(rr) {
  const ok = rr.filter((v) => v >= 250 && v <= 2000).slice(0, 2000);
  return ok.length >= 2 ? ok : undefined;
}

const show = (view, screen) => { view.mount(screen.el); return screen.done; };
let sink = null; // the running pace's RR list, filled by the strap
let onPulse = () => {}; // the screen showing the camera's state, if any
let lastPulse = null; // the camera's latest state: the worker speaks only when it changes

/** The line under the pacer title while the camera records a pace. */
function pulseLine(camera) {
  const state = h('span', advice(null, camera.torch));
  const rate = h('span.pulse-rate', { 'aria-hidden': 'true' });
  const preview = h('span.pulse-check');
  camera.attach(preview);
  const el = h('div.pulse-line', preview, h('p.pulse-status', { role: 'status' }, state, ' ', rate));
  const line = el.lastChild;
  onPulse = ({ state: now, bpm }) => {
    const good = now === 'good' || now === 'searching';
    line.dataset.state = now;
    preview.dataset.state = now;
    const text = good ? (now === 'good' ? 'Recording your pulse.' : advice(now, camera.torch)) : `Recording paused. ${advice(now, camera.torch)}`;
    if (state.textContent !== text) state.textContent = text; // announce changes only
    rate.textContent = bpm ? `${bpm} a minute` : '';
  };
  if (lastPulse) onPulse(lastPulse);
  return el;
}

export async function finder(screen) {
  const choice = await introView(screen);
  if (!choice) return;
  const cues = new Cues({ sound: choice.sound, vibration: choice.vibration });
  cues.unlock();
  let view = null;
  let left = false;
  const leave = () => {
    left = true;
    view?.runner.stop();
    cues.close();
    choice.strap?.disconnect();
    choice.camera?.close();
    onPulse = () => {};
    lastPulse = null;
    document.body.classList.remove('running');
  };
  window.addEventListener('hashchange', leave, { once: true }); // stop the pacer on the way out

  const steps = [];
  for (const [i, bpm] of RATES.entries()) {
    const rr = [];
    sink = rr;
    view = pacerView({ title: `Pace ${i + 1} of ${RATES.length}: ${bpm.toFixed(1)} breaths a minute`, timeline: stepTimeline(bpm, choice.minutes), cues });
    const camera = choice.camera;
    if (camera) {
      view.el.querySelector('.pacer-title').after(pulseLine(camera));
      await camera.light(true);
      camera.start();
    }
    document.body.classList.add('running');
    screen.mount(view.el);
    view.start();
    const paced = await view.done;
    sink = null;
    let pulse = null;
    if (camera && !left) {
      pulse = await camera.stop();
      onPulse = () => {};
      camera.light(false); // off while rating: the light warms the phone and uses the battery
    }
    document.body.classList.remove('running');
    if (left) return;
    const last = i === RATES.length - 1;
    const rating = await show(screen, ratingView({
      title: `How was ${bpm.toFixed(1)} a minute?`,
      intro: paced.endedEarly ? 'You ended this pace early. How did it feel while it lasted?' : 'How calm did you feel, and how easy was the pace?',
      scales: SCALES,
      nextLabel: last ? 'See the result' : `Next: ${RATES[i + 1].toFixed(1)} a minute`,
      skipLabel: 'Stop here',
    }));
    if (left) return;
    if (!rating) break;
    const fromStrap = cleanRR(rr);
    const fromCamera = pulse && cleanRR(pulse.rr);
    const measured = fromStrap ? { rr_ms: fromStrap, source: 'strap' } : fromCamera ? { rr_ms: fromCamera, source: 'camera' } : {};
    steps.push({ bpm, calm: rating.calm, comfort: rating.comfort, ...measured });
  }
  window.removeEventListener('hashchange', leave);
  leave();
  if (steps.length) resultView(screen, steps); else finder(screen);
}

function introView(screen) {
  return new Promise((resolve) => {
    (async () => {
      const prefs = { sound: true, vibration: true, ...((await kv.get('cuePrefs')) || {}) };
      const radio = (value, label, checked) => {
        const input = h('input', { type: 'radio', name: 'finder-length', id: `finder-${value}`, value, checked });
        return h('span.choice', input, h('label', { htmlFor: input.id }, label));
      };
      const length = h('fieldset', h('legend', 'Length'),
        radio('2', '2 minutes a pace (about 12 minutes)', true),
        radio('1', 'Quick: 1 minute a pace (about 7 minutes)', false));
      let strap = null;
      const strapStatus = h('p.small', { 'aria-live': 'polite' });
      const connect = h('button.secondary', { type: 'button' }, 'Connect a strap');
      connect.addEventListener('click', () => busy(connect, null, async () => {
        strapStatus.textContent = 'Looking for a strap…';
        try {
          strap = await connectStrap((r) => {
            if (sink) sink.push(...r.rr);
            strapStatus.textContent = `Connected: ${strap?.name || 'strap'} · ${r.bpm} beats a minute`;
          }, () => { strapStatus.textContent = 'The strap disconnected. The finder goes on with your ratings.'; });
          strapStatus.textContent = `Connected: ${strap.name}`;
          connect.hidden = true;
        } catch {
          strapStatus.textContent = 'No strap connected. That is fine: the finder works with your ratings alone.';
        }
      }));
      const strapCard = hasBluetooth() ? h('div.card',
        h('h2', 'Heart-rate strap (optional)'),
        h('p.small', 'With a chest strap, the finder also measures how much your heart rate rises and falls with each breath: the usual way to find the rate.'),
        connect, strapStatus) : null;
      const camera = { open: null };
      const cameraCard = hasCamera() ? cameraChoice(camera, length) : null;
      const sound = toggle('Sound', prefs.sound, (on) => { prefs.sound = on; });
      screen.mount(h('section.screen.finder',
        h('p.eyebrow', 'Resonance finder'),
        h('h1', 'Find your resonance rate'),
        h('p.lead', 'At your resonance rate, your heart rate rises and falls most with each breath; for most adults it lies between 4.5 and 6.5 breaths a minute.'),
        h('p', 'You will breathe at five slow paces, from 6.5 down to 4.5 breaths a minute, and say after each how calm you felt and how easy the pace was. Sit comfortably.'),
        length,
        cameraCard,
        strapCard,
        await gentleCard(),
        h('div.toggles', { role: 'group', 'aria-label': 'Cues' }, sound),
        h('div.actions',
          h('button.primary', {
            type: 'button',
            onclick: () => {
              onPulse = () => {};
              resolve({ minutes: Number(length.querySelector('input:checked').value), strap, camera: camera.open, sound: prefs.sound, vibration: prefs.vibration });
            },
          }, 'Begin'),
          h('button.link', {
            type: 'button',
            // Back to wherever the finder was opened from (Home, Settings, the library).
            onclick: () => { strap?.disconnect(); camera.open?.close(); onPulse = () => {}; resolve(null); if (history.length > 1) history.back(); else location.hash = '#/'; },
          }, 'Not now'))));
    })();
  });
}

/** "Use the camera": the preview and the live state of the picture, before the first pace. */
function cameraChoice(camera, length) {
  const status = h('p.small', { 'aria-live': 'polite' });
  const preview = h('div.pulse-check');
  const minutes = () => (length.querySelector('input:checked')?.value === '1' ? '1 minute' : '2 minutes');
  const limit = h('p.small.muted');
  const noTorch = h('p.small', { hidden: true }, "This browser cannot switch on the camera's light: sit by a bright lamp or a window, and cover the lens with your fingertip.");
  const sayLimit = () => {
    limit.textContent = `Each pace records for at most ${minutes()}, with the light on only while you breathe it and off in between: the light warms the phone and uses the battery.`;
  };
  length.addEventListener('change', sayLimit);
  const use = h('button.secondary', { type: 'button' }, 'Use the camera');
  use.addEventListener('click', () => busy(use, null, async () => {
    status.textContent = 'Starting the camera…';
    try {
      const opened = await openCamera((s) => { lastPulse = s; onPulse(s); });
      camera.open = opened;
      use.hidden = true;
      const state = h('span');
      const rate = h('span.pulse-rate', { 'aria-hidden': 'true' });
      onPulse = ({ state: now, bpm }) => {
        preview.dataset.state = now;
        const text = advice(now, opened.torch);
        if (state.textContent !== text) state.textContent = text;
        rate.textContent = bpm ? ` ${bpm} a minute` : '';
      };
      status.replaceChildren(state, rate);
      state.textContent = advice('cover', opened.torch);
      opened.attach(preview);
      sayLimit();
      noTorch.hidden = opened.torch;
    } catch (e) {
      const rest = hasBluetooth() ? 'Connect a strap instead, or go on with your ratings alone.' : 'The finder works with your ratings alone.';
      status.textContent = e?.name === 'NotAllowedError'
        ? `The camera was not allowed. ${rest}`
        : `No camera could be used. ${rest}`;
    }
  }));
  return h('div.card.pulse-card',
    h('h2', 'Pulse from the camera (optional)'),
    h('p.small', 'Rest a fingertip lightly over the rear camera and its light. The finder reads your pulse from the colour of your skin, to compare how much each pace makes your heart rate rise and fall. It compares paces for you; it is not a medical measurement.'),
    use, preview, status, noTorch, limit);
}

async function resultView(screen, steps) {
  screen.mount(h('section.screen', h('h1', 'Working it out…')));
  let result;
  let me = null;
  try {
    [result, me] = await Promise.all([post('/api/resonance/assessments', { steps }), get('/api/me').catch(() => null)]);
  } catch (e) {
    const err = errorBox();
    screen.mount(h('section.screen', h('h1', 'Not worked out yet'), err,
      h('p', 'Your ratings are kept on this screen. Try again when the coach can be reached.'),
      h('button.primary', { type: 'button', onclick: () => resultView(screen, steps) }, 'Try again')));
    err.show(e);
    return;
  }
  const best = result.best_bpm;
  const hasHr = result.steps.some((x) => x.hr_swing_bpm !== null && x.hr_swing_bpm !== undefined);
  const head = ['Pace', 'Score (calm, comfort)', ...(hasHr ? ['Swing (beats/min)', 'RMSSD (ms)', 'Beats corrected'] : [])];
  const cell = (v, digits) => (v === null || v === undefined ? '–' : v.toFixed(digits));
  const unsure = result.steps.some((x) => x.reliable === false);
  const fromCamera = result.steps.some((x) => x.source === 'camera');
  const rows = result.steps.map((x) => h(`tr${x.bpm === best ? '.best' : ''}${x.reliable === false ? '.unreliable' : ''}`,
    h('th', { scope: 'row' }, `${x.bpm.toFixed(1)}${x.bpm === best ? ' (best)' : ''}`),
    h('td', `${x.score.toFixed(1)} (${x.calm}, ${x.comfort})`),
    hasHr ? [
      h('td', `${cell(x.hr_swing_bpm, 1)}${x.reliable === false ? ' (not counted)' : ''}`),
      h('td', cell(x.rmssd_ms, 0)),
      h('td', x.beats ? `${x.corrected_beats ?? 0} of ${x.beats}` : '–'),
    ] : null));
  const err = errorBox();
  const same = me && me.resonance_bpm === best;
  const use = h('button.primary', { type: 'button' }, `Use ${best.toFixed(1)} breaths a minute`);
  const after = h('div.actions', same ? null : use, h('a.button.link', { href: '#/' }, same ? 'Done' : 'Not now'));
  use.addEventListener('click', () => busy(use, err, async () => {
    await patch('/api/me', { resonance_bpm: best });
    toast('Resonance rate saved');
    after.replaceWith(h('div.card.suggest',
      h('p', `Saved: resonance breathing now paces at ${best.toFixed(1)} breaths a minute.`),
      h('a.button.primary', { href: '#/run/resonance' }, 'Start resonance breathing')));
  }));
  screen.mount(h('section.screen.finder',
    h('p.eyebrow', 'Resonance finder'),
    h('h1', 'Your resonance rate'),
    h('p.result-big', `${best.toFixed(1)} breaths a minute`),
    h('p', result.basis === 'hr_swing'
      ? 'Chosen by the largest heart-rate swing with each breath, the usual way to find it.'
      : 'Chosen by how calm and comfortable each pace felt. With a heart-rate strap or the camera, the finder can also use the heart-rate swing, the usual measure.'),
    same ? h('p.muted', 'That is the rate you already use.') : null,
    h('table', h('thead', h('tr', head.map((c) => h('th', { scope: 'col' }, c)))), h('tbody', rows)),
    hasHr ? h('p.small.muted', 'Swing: how far your heart rate rose and fell within each breath. RMSSD: the beat-to-beat variation, a common marker of the calming side of the nervous system. Early, late and missed beats are corrected before either is worked out.') : null,
    unsure ? h('p.small', 'A pace marked "not counted" had more than 1 beat in 20 corrected: its figures are too uncertain to choose by.') : null,
    fromCamera ? h('p.small.muted', 'From the camera, the pulse is close to, but not the same as, a heart recording: good for comparing your paces, not a medical measurement.') : null,
    err,
    after));
}
