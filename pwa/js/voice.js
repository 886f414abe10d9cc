// Spoken phase cues (Web Speech API) in the account's language. A word is started at the
// phase boundary and whatever is still speaking is cancelled first, so a word never runs over
// the next phase; the pacer's clock stays the timing reference (nothing waits on speech).
// Loaded only when a session or Settings needs it: it is not part of the first screen.

// Short and calm (evidence.md, Voice and sound): one or two words for each phase action.
export const PHRASES = {
  en: { inhale: 'In', sigh_inhale: 'In again', hold: 'Hold', exhale: 'Out', hold_empty: 'Pause', cold: 'Cold', rest: 'Rest', prepare: 'Get ready', done: 'Well done' },
  de: { inhale: 'Ein', sigh_inhale: 'Noch mal ein', hold: 'Halten', exhale: 'Aus', hold_empty: 'Pause', cold: 'Kälte', rest: 'Ruhe', prepare: 'Mach dich bereit', done: 'Gut gemacht' },
  es: { inhale: 'Inhala', sigh_inhale: 'Un poco más', hold: 'Mantén', exhale: 'Exhala', hold_empty: 'Pausa', cold: 'Frío', rest: 'Descansa', prepare: 'Prepárate', done: 'Bien hecho' },
  fr: { inhale: 'Inspire', sigh_inhale: 'Encore un peu', hold: 'Retiens', exhale: 'Expire', hold_empty: 'Pause', cold: 'Froid', rest: 'Repos', prepare: 'Prépare-toi', done: 'Bravo' },
};
const LANGS = Object.keys(PHRASES);

/** The account's language (GET /api/me), else the browser's, else English. */
export function languageOf(me) {
  for (const tag of [me?.language, navigator.language, ...(navigator.languages || [])]) {
    const base = String(tag || '').slice(0, 2).toLowerCase();
    if (LANGS.includes(base)) return base;
  }
  return 'en';
}

export const synth = () => window.speechSynthesis || null;

/** The device's voices for a language ('de' matches de-DE, de-AT …). */
export function voicesFor(lang) {
  const s = synth();
  if (!s) return [];
  return s.getVoices().filter((v) => String(v.lang).toLowerCase().replace('_', '-').split('-')[0] === lang);
}

/** The voices, once the device has listed them (Chrome lists them late, on voiceschanged). */
export function loadVoices(lang, waitMs = 1500) {
  const s = synth();
  if (!s) return Promise.resolve([]);
  const now = voicesFor(lang);
  if (now.length || s.getVoices().length) return Promise.resolve(now);
  return new Promise((resolve) => {
    const done = () => { s.removeEventListener?.('voiceschanged', done); clearTimeout(timer); resolve(voicesFor(lang)); };
    const timer = setTimeout(done, waitMs);
    s.addEventListener?.('voiceschanged', done);
  });
}

/** What to tell the person when the device cannot speak their language (null if it can). */
export function missingVoiceNote(lang, voices) {
  if (!synth()) return 'This browser cannot speak, so the coach uses tones instead.';
  if (!voices.length) return 'This device has no voice for your language, so the coach uses tones instead.';
  return null;
}

export class Voice {
  /** prefs: {voice: bool, voiceURI, voiceVolume 0–1}; voices: this language's voices. */
  constructor(lang, voices, prefs = {}) {
    this.lang = lang;
    this.on = Boolean(prefs.voice);
    this.declined = prefs.voice === false; // switched off on purpose: eyes closed keeps it off
    this.volume = Number.isFinite(prefs.voiceVolume) ? prefs.voiceVolume : 1;
    this.voiceURI = prefs.voiceURI;
    this.pick(voices);
    // The device may list its voices late: take them when they come, never wait for them.
    this.refresh = () => this.pick(voicesFor(lang));
    synth()?.addEventListener?.('voiceschanged', this.refresh);
  }

  pick(voices) {
    this.voices = voices;
    this.chosen = voices.find((v) => v.voiceURI === this.voiceURI) || voices.find((v) => v.default) || voices[0] || null;
  }

  /** Can speak now: switched on and the device has a voice for the language. */
  get speaking() { return this.on && Boolean(this.chosen) && Boolean(synth()); }

  /** Why it cannot speak (said once, calmly), or null. */
  get missing() { return missingVoiceNote(this.lang, this.voices); }

  /** Speak the word for a phase; false when it could not (the caller plays a tone instead). */
  say(action) {
    const s = synth();
    if (!this.speaking) return false;
    s.cancel(); // the last word never runs into this phase
    const text = PHRASES[this.lang][action] || PHRASES.en[action];
    if (!text) return true;
    const u = new SpeechSynthesisUtterance(text);
    u.lang = this.chosen.lang || this.lang;
    u.voice = this.chosen;
    u.volume = this.volume;
    u.rate = 0.9; // a touch slower: calm, not hurried
    s.speak(u);
    return true;
  }

  stop() { synth()?.cancel(); }

  /** The session is over (a last "well done" may still finish). */
  close() {
    synth()?.removeEventListener?.('voiceschanged', this.refresh);
  }
}
