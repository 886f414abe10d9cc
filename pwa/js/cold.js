// Cold practice: an optional water temperature before starting (the cautions come with the
// routine from the server), then the routine's prepare / cold / rest steps as a countdown,
// each cold step with the routine's own cue (a dip with the face in water says how to
// breathe there); only a cold step without a cue gets general slow-breathing words, which
// never speak of the nose or of holding the breath.
import { h, field } from './ui.js';

const COLD_WORDS = [
  'Long, slow breath out',
  'Keep breathing, slow and easy',
  'Let your shoulders drop',
  'Slow breath out',
];

/** Words for the countdown: the phase's own cue; general words (changing every 5 s) only
 * for a cold step that has none. */
export function coldGuide(phase, msInto) {
  if (phase.action === 'cold') return phase.cue || COLD_WORDS[Math.floor(msInto / 5000) % COLD_WORDS.length];
  if (phase.action === 'prepare') return phase.cue || 'Get the water ready. Sit comfortably.';
  if (phase.action === 'rest') return phase.cue || 'Warm up gently and breathe normally.';
  return '';
}

/** The optional water temperature input; `.value()` gives a number or undefined. */
export function waterInput() {
  const input = h('input', { type: 'number', id: 'water-temp', inputMode: 'decimal', min: -2, max: 40, step: 0.5, placeholder: 'e.g. 12' });
  const wrap = field('Water temperature in °C (optional)', input, 'Studies used roughly 10–15 °C: lukewarm water does little.');
  wrap.value = () => {
    const v = input.valueAsNumber;
    return Number.isFinite(v) && v >= -2 && v <= 40 ? Math.round(v * 10) / 10 : undefined;
  };
  return wrap;
}

/** Seconds spent in the cold parts of a timeline up to `elapsed` ms. */
export function coldSeconds(timeline, elapsed) {
  let total = 0;
  for (const p of timeline.phases) {
    if (p.action !== 'cold' || p.start >= elapsed) continue;
    total += Math.min(p.end, elapsed) - p.start;
  }
  return Math.round(total / 100) / 10;
}

/** The routine with `seconds` of cold in all (a plan's step): cold phases in order until the
 * total is reached (the last cold phase takes any rest); the final warm-up stays. */
export function withColdSeconds(routine, seconds) {
  const last = routine.phases.map((p) => p.action).lastIndexOf('cold');
  let left = seconds;
  const phases = [];
  routine.phases.forEach((p, i) => {
    if (p.action !== 'cold') {
      if (left > 0 || i > last) phases.push(p);
    } else if (left > 0) {
      const secs = i === last ? left : Math.min(p.seconds, left);
      phases.push({ ...p, seconds: secs });
      left -= secs;
    }
  });
  return { ...routine, phases, total_seconds: undefined };
}
