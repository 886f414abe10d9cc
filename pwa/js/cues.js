// What a user can hear and feel with eyes closed: Web Audio tones (rising for in,
// falling for out) and vibration patterns distinct per phase; plus the screen Wake Lock.
const VIBRATION = {
  inhale: [220],
  sigh_inhale: [90],
  exhale: [70, 90, 70],
  hold: [30, 60, 30],
  hold_empty: [30, 60, 30],
  cold: [300, 120, 300],
  rest: [120],
  prepare: [60],
  done: [120, 100, 120, 100, 300],
};
// [start Hz, end Hz, seconds]: in rises, out falls, holds are a short level note.
const TONES = {
  inhale: [392, 587, 0.6],
  sigh_inhale: [587, 698, 0.25],
  exhale: [523, 330, 0.7],
  hold: [440, 440, 0.18],
  hold_empty: [349, 349, 0.18],
  cold: [330, 330, 0.4],
  rest: [440, 392, 0.4],
  prepare: [392, 392, 0.2],
};

export class Cues {
  constructor({ sound = true, vibration = true, voice = null } = {}) {
    this.sound = sound;
    this.voice = voice; // a Voice (voice.js), loaded only when a session starts
    this.vibration = vibration;
    this.ctx = null;
    this.lock = null;
    this.wantLock = false;
    this.onVisible = () => {
      if (document.visibilityState === 'visible' && this.wantLock) this.acquire();
    };
  }

  /** Call from a tap: browsers only allow audio to start on a user gesture. */
  unlock() {
    if (!this.ctx && (window.AudioContext || window.webkitAudioContext)) {
      try {
        this.ctx = new (window.AudioContext || window.webkitAudioContext)();
      } catch { this.ctx = null; }
    }
    this.ctx?.resume?.().catch(() => {});
  }

  phase(action) {
    // Voice and tones are independent; a voice switched on that cannot speak falls back to tones.
    const spoken = this.voice?.say(action);
    if (this.sound || (this.voice?.on && !spoken)) this.tone(action);
    if (this.vibration) this.vibrate(VIBRATION[action]);
  }

  done() {
    const spoken = this.voice?.say('done');
    if (this.sound || (this.voice?.on && !spoken)) { this.tone('inhale'); setTimeout(() => this.tone('rest'), 500); }
    if (this.vibration) this.vibrate(VIBRATION.done);
  }

  vibrate(pattern) {
    if (pattern && navigator.vibrate && navigator.userActivation?.hasBeenActive !== false) {
      try { navigator.vibrate(pattern); } catch { /* not allowed here */ }
    }
  }

  tone(action) {
    const spec = TONES[action];
    if (!spec || !this.ctx || this.ctx.state !== 'running') return;
    const [from, to, dur] = spec;
    const t = this.ctx.currentTime;
    const osc = this.ctx.createOscillator();
    const gain = this.ctx.createGain();
    osc.type = 'sine';
    osc.frequency.setValueAtTime(from, t);
    osc.frequency.exponentialRampToValueAtTime(to, t + dur);
    // Soft attack and release: a cue, not an alarm.
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.18, t + 0.05);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + dur);
    osc.connect(gain).connect(this.ctx.destination);
    osc.start(t);
    osc.stop(t + dur + 0.05);
  }

  /** Keep the screen on while a routine runs; re-acquired when the page is shown again. */
  async keepAwake(on) {
    this.wantLock = on;
    if (on) {
      document.addEventListener('visibilitychange', this.onVisible);
      await this.acquire();
    } else {
      document.removeEventListener('visibilitychange', this.onVisible);
      try { await this.lock?.release(); } catch { /* already released */ }
      this.lock = null;
    }
  }

  async acquire() {
    if (!('wakeLock' in navigator) || (this.lock && !this.lock.released)) return;
    try {
      this.lock = await navigator.wakeLock.request('screen');
    } catch {
      this.lock = null; // refused (battery saver, hidden page): the routine runs anyway
    }
  }

  close() {
    this.keepAwake(false);
    this.voice?.close();
    this.ctx?.close?.().catch(() => {});
    this.ctx = null;
  }
}
