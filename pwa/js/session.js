// One practice session, start to end: the routine's cautions → pre rating → the guided
// routine → post rating with a note → a short result. The session is written to IndexedDB
// before anything is sent, and sent again (same uuid) when the post rating is added.
import { h, s, fmtDuration, sayDuration, signed, count, errorBox, toast, hooks } from './ui.js';
import { loadRoutine, kindWord, waterWarning } from './routines.js';
import { kv, sessions } from './store.js';
import { save, sync } from './outbox.js';
import { getCached } from './api.js';
import { plan, cycleMs, cyclesForMinutes } from './plan.js';
import { pacerView, toggle } from './pacer.js';
import { Cues } from './cues.js';
import { ratingView } from './rating.js';
import { runPower, hasOpenEnded } from './power.js';
import { coldGuide, coldSeconds, waterInput, withColdSeconds } from './cold.js';
import { verdict, gateScreen, gateCard, screeningStatus, routineNames } from './gate.js';
import { isSlowBreathing, gentleCard, withoutOverBreathing } from './gentle.js';

let active = null;

/** The router calls this when the user navigates away mid-routine: save what was done. */
export function leaveActive() {
  active?.abandon();
  active = null;
}
hooks.leave = leaveActive;

/**
 * `params` may carry a plan's step: `minutes` (a breathing routine's length) or `cold`
 * (seconds of cold in all, for a one-round cold routine).
 */
export async function runSession(slug, params, view) {
  let routine = await loadRoutine(slug);
  const gate = verdict(routine, await screeningStatus());
  if (gate) {
    const names = await routineNames();
    return gateScreen(view, routine, gate, names);
  }
  const cold = Math.min(600, Number(params.get('cold')) || 0);
  if (cold > 0 && routine.cycles === 1) routine = withColdSeconds(routine, cold);
  const planned = { minutes: Math.min(60, Number(params.get('minutes')) || 0), cold };

  const prefs = { sound: true, vibration: true, ...((await kv.get('cuePrefs')) || {}) };
  const gentle = isSlowBreathing(routine) ? await gentleCard() : null;
  // The voice module and the account's language come only with a session (not the shell).
  const [voiceMod, background, me] = await Promise.all([
    import('./voice.js'), import('./background.js'),
    getCached('/api/me').then((r) => r.data).catch(() => null)]);
  const lang = voiceMod.languageOf(me);
  const voices = voiceMod.loadVoices(lang);
  const choice = await introView(view, routine, prefs, planned, gentle, { voices, voiceMod, lang, background });
  if (!choice) return;
  kv.set('cuePrefs', { ...prefs, sound: choice.sound, vibration: choice.vibration });
  kv.set('lastRoutine', { slug: routine.slug, name: routine.name });

  const pre = await show(view, ratingView({
    title: 'Before you start',
    intro: 'How do you feel right now? Move each slider; there are no right answers.',
    nextLabel: 'Start',
    skipLabel: 'Skip and start',
  }));

  const voice = new voiceMod.Voice(lang, voiceMod.voicesFor(lang), prefs);
  const cues = new Cues({ sound: choice.sound, vibration: choice.vibration, voice });
  cues.unlock();
  const record = {
    uuid: crypto.randomUUID(),
    routine: routine.slug,
    name: routine.name,
    started_at: new Date().toISOString(),
    pre: pre || undefined,
    state: 'running',
    sync: 'pending',
    owner: await kv.get('userId'),
  };
  await save(record);
  document.body.classList.add('running');
  let outcome;
  try {
    outcome = await runRoutineBody(view, routine, choice, cues, record, {
      background,
      onVoiceChange: (on) => { prefs.voice = on; kv.set('cuePrefs', { ...prefs }); },
    });
  } finally {
    document.body.classList.remove('running');
    cues.close();
    active = null;
  }
  Object.assign(record, {
    ended_at: new Date().toISOString(),
    completed_cycles: outcome.completedCycles,
    details: outcome.details,
    state: 'done',
  });
  await save(record);
  if (outcome.abandoned) return;

  const post = await show(view, ratingView({
    title: outcome.endedEarly ? 'Ended early: how do you feel now?' : 'How do you feel now?',
    intro: 'The same three sliders, so you can see what changed.',
    initial: pre || undefined,
    withNote: true,
    nextLabel: 'Save',
    skipLabel: 'Skip',
  }));
  if (post) {
    const latest = (await sessions.get(record.uuid)) || record;
    Object.assign(latest, { post, sync: latest.sync === 'failed' ? 'failed' : 'pending' });
    await save(latest);
  }
  resultView(view, routine, record, pre, post, outcome);
}

function show(view, screen) {
  view.mount(screen.el);
  return screen.done;
}

async function runRoutineBody(screen, routine, choice, cues, record, { background, onVoiceChange }) {
  if (hasOpenEnded(routine)) {
    let abandon;
    active = { abandon: () => abandon?.() };
    const abandoned = new Promise((resolve) => { abandon = () => resolve(null); });
    const result = await Promise.race([runPower({ routine, cues, view: screen }), abandoned]);
    if (!result) return { abandoned: true, endedEarly: true, completedCycles: 0, details: undefined };
    return {
      endedEarly: result.endedEarly,
      completedCycles: result.completedCycles,
      details: result.retention_seconds.length ? { retention_seconds: result.retention_seconds } : undefined,
      retention: result.retention_seconds,
    };
  }
  const timeline = plan(routine, choice.cycles);
  const hasCold = timeline.phases.some((p) => p.action === 'cold');
  const view = pacerView({
    title: routine.name,
    timeline,
    cues,
    guide: hasCold ? coldGuide : null,
    cycleWord: hasCold ? 'Round' : 'Breath',
    onPauseChange: (paused) => held?.paused(paused),
    onVoiceChange,
  });
  // Screen off or in the background: the lock screen's controls, audio kept alive, resync.
  const held = background.holdSession({ title: routine.name, runner: view.runner, pause: view.pause, play: view.play });
  let abandoned = false;
  active = { abandon: () => { abandoned = true; view.el.querySelector('.controls button:last-child').click(); } };
  // Progress is written as it happens, so a closed tab still leaves a partial session.
  const checkpoint = (ev) => {
    if (ev.detail.index && ev.detail.index % 20 === 0) {
      sessions.put({ ...record, checkpoint_at: new Date().toISOString(), checkpoint_cycles: ev.detail.cycle }).catch(() => {});
    }
  };
  document.addEventListener('coach:phase', checkpoint);
  screen.mount(view.el);
  view.start();
  const result = await view.done.finally(() => held.release());
  document.removeEventListener('coach:phase', checkpoint);
  const details = {};
  if (hasCold) details.cold_seconds = coldSeconds(timeline, result.elapsed);
  if (choice.water_temp_c !== undefined) details.water_temp_c = choice.water_temp_c;
  return {
    abandoned,
    endedEarly: result.endedEarly,
    completedCycles: result.completedCycles,
    details: Object.keys(details).length ? details : undefined,
  };
}

/** The start screen: what it is, how long, the cautions, sound and vibration. */
function introView(view, routine, prefs, planned, gentle, { voices, voiceMod, lang, background }) {
  return new Promise((resolve) => {
    const isPower = hasOpenEnded(routine);
    const isCold = routine.kind !== 'breathing';
    const perCycle = cycleMs(routine);
    let cycles = routine.cycles;
    const length = h('p.muted');
    const showLength = () => { length.textContent = `About ${sayDuration((perCycle * cycles) / 1000)}`; };
    showLength();

    let minutesSelect = null;
    if (!isPower && !isCold) {
      const usual = Math.round((perCycle * routine.cycles) / 60000);
      const options = [...new Set([usual, planned.minutes, 2, 5, 10, 15, 20])]
        .filter((m) => m >= 1).sort((a, b) => a - b);
      const initial = planned.minutes || usual;
      if (initial !== usual) {
        cycles = cyclesForMinutes(routine, initial);
        showLength();
      }
      minutesSelect = h('select', {
        id: 'length',
        onchange: () => {
          const m = Number(minutesSelect.value);
          cycles = m === usual ? routine.cycles : cyclesForMinutes(routine, m);
          showLength();
        },
      }, options.map((m) => h('option', { value: m, selected: m === initial }, count(m, 'minute'))));
    }
    const water = isCold ? waterInput() : null;
    // Voice off unless chosen (eyes closed turns it on); one tap here, kept on the phone.
    const voiceNote = h('p.small.muted.voice-note', { hidden: true });
    const voice = toggle('Voice', Boolean(prefs.voice), (on) => { prefs.voice = on; showVoiceNote(); });
    const showVoiceNote = () => voices.then(() => {
      const missing = voiceMod.missingVoiceNote(lang, voiceMod.voicesFor(lang)); // as listed now
      voiceNote.textContent = [prefs.voice ? missing : null, background.platformNote()].filter(Boolean).join(' ');
      voiceNote.hidden = !voiceNote.textContent;
    });
    showVoiceNote();
    const sound = toggle('Tones', prefs.sound, (on) => { prefs.sound = on; });
    const vibration = navigator.vibrate ? toggle('Vibration', prefs.vibration, (on) => { prefs.vibration = on; }) : null;
    const all = routine.cautions || []; // the server adds the standard ones by rule
    const cautions = gentle ? withoutOverBreathing(all) : all;

    view.mount(h('section.screen',
      h('p.eyebrow', kindWord(routine)),
      h('h1', routine.name),
      routine.summary ? h('p.lead', routine.summary) : null,
      length,
      planned.cold ? h('p', `Today’s step in your plan: ${fmtDuration(planned.cold)} of cold in all.`) : null,
      waterWarning(routine),
      gentle,
      cautions.length ? h('div.card', h('h2', 'Before you start'), h('ul.cautions', cautions.map((c) => h('li', c)))) : null,
      minutesSelect ? h('div.field', h('label', { htmlFor: 'length' }, 'Length'), minutesSelect) : null,
      water,
      h('div.toggles', { role: 'group', 'aria-label': 'Cues' }, voice, sound, vibration),
      voiceNote,
      h('div.actions',
        h('button.primary', { type: 'button', onclick: () => resolve({ cycles, water_temp_c: water?.value(), sound: prefs.sound, vibration: prefs.vibration }) }, 'Continue'),
        h('a.button.link', { href: `#/routine/${encodeURIComponent(routine.slug)}`, onclick: () => resolve(null) }, 'Back'))));
  });
}

const SCALES = [['Mood', 'mood'], ['Anxiety', 'anxiety'], ['Energy', 'energy']];

/** Before → after for each scale, drawn as two bars (before pale, after full), with words. */
function beforeAfter(pre, post) {
  const W = 300, rowH = 44, L = 70;
  const x = (v) => L + (v * (W - L - 40)) / 10;
  const svg = s('svg', { viewBox: `0 0 ${W} ${rowH * 3}`, class: 'chart-svg before-after', role: 'img', 'aria-label': 'Before and after' });
  SCALES.forEach(([label, key], i) => {
    const y = i * rowH + 8;
    svg.append(
      s('text', { x: 0, y: y + 18, class: 'label' }, label),
      s('rect', { x: L, y, width: Math.max(2, x(pre[key]) - L), height: 12, rx: 6, class: 'bar-pre' }),
      s('rect', { x: L, y: y + 16, width: Math.max(2, x(post[key]) - L), height: 12, rx: 6, class: 'bar-post' }),
      s('text', { x: x(Math.max(pre[key], post[key])) + 6, y: y + 24, class: 'axis' }, `${pre[key]} → ${post[key]}`));
  });
  const parts = SCALES.map(([label, key], i) => `${i ? label.toLowerCase() : label} ${signed(post[key] - pre[key])}`);
  const calmer = post.anxiety < pre.anxiety;
  return h('figure.chart.result-figure',
    h('figcaption', h('p.result-big', parts.join(', '))),
    svg,
    h('p.small.muted', 'Pale: before. Full: after. ',
      calmer ? 'Lower anxiety is good: you feel calmer than before.' : 'For anxiety, lower is calmer.'));
}

function resultView(view, routine, record, pre, post, outcome) {
  const lines = [];
  if (pre && post) lines.push(beforeAfter(pre, post));
  if (outcome.retention?.length) {
    lines.push(h('p', `Retention: ${outcome.retention.map((s, i) => `round ${i + 1} ${s.toFixed(1)} s`).join(', ')}.`));
  }
  const mins = (Date.parse(record.ended_at) - Date.parse(record.started_at)) / 1000;
  const err = errorBox();
  const saved = h('p.muted', navigator.onLine ? 'Saved.' : 'Saved on this phone; it will be sent when you are back online.');
  // api.md: under a minute is kept and listed, but counts in no total, streak or email.
  const short = mins < 60 ? h('p.small.muted', 'Under a minute, so it stays in your history but does not count in your totals or streak.') : null;
  view.mount(h('section.screen.result',
    h('h1', outcome.endedEarly ? 'Ended early' : 'Well done'),
    h('p.lead', `${routine.name}, ${sayDuration(mins)}.`),
    lines,
    short,
    saved,
    err,
    h('div.actions',
      h('a.button.primary', { href: '#/' }, 'Done'),
      h('a.button.link', { href: '#/history' }, 'See history'))));
  explainRefusal(routine, record.uuid, saved);
}

/** If the server refused the session (the screening changed meanwhile): say why, kindly. A
 * session held back by a limit (the day's 100) stays on the phone: say that, calmly. */
async function explainRefusal(routine, uuid, saved) {
  await sync().catch(() => {});
  const stored = await sessions.get(uuid);
  if (stored?.sync === 'pending' && stored.waiting && saved.isConnected) {
    saved.textContent = `Saved on this phone. ${stored.waiting}`;
    return;
  }
  if (stored?.sync !== 'failed' || stored.status !== 403 || !saved.isConnected) return;
  const status = await screeningStatus();
  const alternative = status?.blocked?.find((b) => b.slug === routine.slug)?.alternative;
  const v = { state: 'blocked', reason: stored.error, alternative };
  saved.replaceWith(gateCard(routine, v, await routineNames(), { sessionRefused: true }));
  toast('This session could not be recorded.');
}

