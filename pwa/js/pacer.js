// The breathing pacer. Time is always `performance.now()` minus the session start (less
// any pauses); the current phase is looked up in the planned timeline from that elapsed
// time, so nothing drifts however late a timer or frame runs. A timer aimed at the next
// boundary fires the cues; requestAnimationFrame only draws. Every phase change is
// dispatched as a `coach:phase` event (with its measured time) and spoken by a live region.
import { h, fmtClock, toast } from './ui.js';
import { WORDS, phaseAt, completedCycles, ease } from './plan.js';

export const reducedMotion = () => matchMedia('(prefers-reduced-motion: reduce)').matches;

export class Runner {
  constructor(timeline, { onPhase, onFrame, onDone } = {}) {
    this.timeline = timeline;
    this.onPhase = onPhase || (() => {});
    this.onFrame = onFrame || (() => {});
    this.onDone = onDone || (() => {});
    this.index = -1;
    this.pausedAt = null;
    this.pausedTotal = 0;
    this.stopped = false;
  }

  start() {
    this.t0 = performance.now();
    this.check();
    this.loop();
  }

  elapsed(now = performance.now()) {
    return (this.pausedAt ?? now) - this.t0 - this.pausedTotal;
  }

  get paused() { return this.pausedAt !== null; }

  pause() {
    if (this.paused || this.stopped) return;
    this.pausedAt = performance.now();
    clearTimeout(this.timer);
    cancelAnimationFrame(this.raf);
  }

  resume() {
    if (!this.paused || this.stopped) return;
    this.pausedTotal += performance.now() - this.pausedAt;
    this.pausedAt = null;
    this.check();
    this.loop();
  }

  /** Back from the background (timers held back, no frames drawn): find the phase for now. */
  resync() {
    if (this.stopped || this.paused) return;
    clearTimeout(this.timer);
    cancelAnimationFrame(this.raf);
    this.loop();
  }

  stop() {
    if (this.stopped) return this.elapsed();
    const elapsed = this.elapsed();
    this.stopped = true;
    clearTimeout(this.timer);
    cancelAnimationFrame(this.raf);
    return elapsed;
  }

  /** Find the phase for the elapsed time; announce a change; aim a timer at the next boundary. */
  check = () => {
    if (this.stopped || this.paused) return;
    const elapsed = this.elapsed();
    const { phases } = this.timeline;
    const index = phaseAt(this.timeline, elapsed);
    if (index !== this.index) {
      this.index = index;
      if (index >= phases.length) {
        this.stopped = true;
        cancelAnimationFrame(this.raf);
        this.onDone(this.timeline.total);
        return;
      }
      const phase = phases[index];
      const detail = { index, action: phase.action, cycle: phase.cycle, at: elapsed, planned: phase.start };
      document.dispatchEvent(new CustomEvent('coach:phase', { detail }));
      this.onPhase(phase, index, elapsed);
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(this.check, Math.max(1, Math.ceil(phases[index].end - elapsed)));
  };

  loop = () => {
    if (this.stopped || this.paused) return;
    this.check();
    if (this.stopped) return;
    this.onFrame(this.elapsed(), this.timeline.phases[this.index]);
    this.raf = requestAnimationFrame(this.loop);
  };
}

/**
 * The pacer screen. Resolves `done` with {elapsed, completedCycles, endedEarly} when the
 * plan runs out or the user ends early. `guide(phase, msIntoPhase)` may add words (cold).
 */
export function pacerView({ title, timeline, cues, guide, label, cycleWord = 'Breath', onPauseChange = () => {}, onVoiceChange = () => {} }) {
  const calm = reducedMotion();
  let saidNoVoice = false; // said once, not at every tap
  const orb = h('div.orb', { 'aria-hidden': 'true' });
  const bar = h('div.calm-fill');
  const calmBox = h('div.calm', { hidden: !calm, 'aria-hidden': 'true' }, h('div.calm-track', bar));
  const word = h('p.phase-word', { 'aria-live': 'polite', 'aria-atomic': 'true' }, 'Get ready');
  const seconds = h('p.phase-seconds', { 'aria-hidden': 'true' });
  const cue = h('p.phase-cue');
  const progress = h('p.progress');
  const stage = h('div.stage', { hidden: calm }, h('div.ring', orb));
  const eyesHint = h('p.small');
  const showEyesHint = () => {
    eyesHint.textContent = cues.voice?.speaking
      ? 'The voice says each phase. Tap anywhere to show the screen.'
      : 'Rising tone: breathe in. Falling tone: breathe out. Tap anywhere to show the screen.';
  };
  const eyes = h('div.eyes-note', { hidden: true }, h('p', 'Eyes closed'), eyesHint);

  const pauseBtn = h('button.secondary', { type: 'button' }, 'Pause');
  const endBtn = h('button.secondary', { type: 'button' }, 'End early');
  const voiceBtn = cues.voice ? toggle('Voice', cues.voice.on, (on) => {
    cues.voice.on = on;
    cues.voice.declined = !on;
    if (!on) cues.voice.stop();
    else if (!cues.voice.speaking && !saidNoVoice) { saidNoVoice = true; toast(cues.voice.missing); }
    onVoiceChange(on);
  }) : null;
  const soundBtn = toggle('Tones', cues.sound, (on) => { cues.sound = on; if (on) cues.unlock(); });
  const vibBtn = navigator.vibrate ? toggle('Vibration', cues.vibration, (on) => { cues.vibration = on; }) : null;
  const eyesBtn = h('button.secondary', { type: 'button' }, 'Eyes closed');

  const el = h('section.pacer', { 'data-calm': calm ? 'true' : 'false' },
    h('h1.pacer-title', title),
    stage, calmBox,
    h('div.phase', word, seconds, cue),
    progress,
    h('div.controls', pauseBtn, endBtn),
    h('div.toggles', voiceBtn, soundBtn, vibBtn, eyesBtn),
    eyes);

  let finish;
  const done = new Promise((resolve) => { finish = resolve; });
  let lastSecond = -1;
  let current = null;

  const runner = new Runner(timeline, {
    onPhase(phase, index, at) {
      current = phase;
      word.textContent = WORDS[phase.action] || phase.action;
      cue.textContent = phase.cue;
      el.dataset.phase = phase.action;
      el.dataset.phaseIndex = String(index);
      el.dataset.phaseAt = at.toFixed(3);
      cues.phase(phase.action);
    },
    onFrame(elapsed, phase) {
      const into = elapsed - phase.start;
      const frac = into / (phase.end - phase.start);
      if (!calm) orb.style.transform = `scale(${(0.42 + 0.58 * (phase.from + (phase.to - phase.from) * ease(frac))).toFixed(4)})`;
      const left = Math.ceil((phase.end - elapsed) / 1000);
      if (left !== lastSecond) {
        // Text and the calm bar change once a second: no motion for those who asked for none.
        lastSecond = left;
        seconds.textContent = String(left);
        if (calm) bar.style.width = `${Math.round(Math.min(1, into / (phase.end - phase.start)) * 100)}%`;
        const remaining = timeline.total - elapsed;
        const countText = label ? label(phase, runner.index) : `${cycleWord} ${phase.cycle + 1} of ${timeline.cycles} · `;
        progress.textContent = `${countText}${fmtClock(remaining / 1000)} left`;
        if (guide) cue.textContent = guide(phase, into) || phase.cue;
      }
    },
    onDone(total) {
      end(false, total);
    },
  });

  function end(early, elapsed) {
    cues.keepAwake(false);
    if (!early) cues.done();
    el.classList.remove('eyes-closed');
    finish({ elapsed, endedEarly: early, completedCycles: completedCycles(timeline, elapsed) });
  }

  pauseBtn.addEventListener('click', () => {
    onPauseChange(!runner.paused);
    if (runner.paused) {
      runner.resume();
      pauseBtn.textContent = 'Pause';
      if (current) word.textContent = WORDS[current.action] || current.action;
      cues.keepAwake(true);
    } else {
      runner.pause();
      cues.voice?.stop();
      pauseBtn.textContent = 'Resume';
      word.textContent = 'Paused';
      cues.keepAwake(false);
    }
  });
  endBtn.addEventListener('click', () => end(true, runner.stop()));
  eyesBtn.addEventListener('click', (ev) => {
    ev.stopPropagation();
    cues.unlock();
    // Eyes closed: the voice by default (unless it was switched off here); else the tones.
    if (voiceBtn && !cues.voice.on && !cues.voice.declined && cues.voice.chosen) voiceBtn.click();
    if (!cues.voice?.speaking && !cues.sound) soundBtn.click();
    showEyesHint();
    el.classList.add('eyes-closed');
    eyes.hidden = false;
  });
  eyes.addEventListener('click', () => { el.classList.remove('eyes-closed'); eyes.hidden = true; });

  return {
    el,
    done,
    runner,
    pause: () => { if (!runner.paused) pauseBtn.click(); },
    play: () => { if (runner.paused) pauseBtn.click(); },
    start() {
      cues.keepAwake(true);
      runner.start();
    },
  };
}

export function toggle(label, on, change) {
  const btn = h('button.chip', { type: 'button', 'aria-pressed': String(on) }, label);
  btn.addEventListener('click', () => {
    const next = btn.getAttribute('aria-pressed') !== 'true';
    btn.setAttribute('aria-pressed', String(next));
    change(next);
  });
  return btn;
}
