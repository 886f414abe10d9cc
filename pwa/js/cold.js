// Cold practice: an optional water temperature before starting (the cautions come with the
// routine from the server), then the routine's prepare / cold / rest steps as a countdown,
// with slow-breathing words during the cold so the cold-shock gasp meets a long exhale.
import { h, field } from './ui.js';

const COLD_WORDS = [
  'Long, slow breath out',
  'Easy breath in through the nose',
  'Let your shoulders drop',
  'Slow breath out',
];

/** Words for the countdown: breathing guidance that changes every 5 s during the cold. */
export function coldGuide(phase, msInto) {
  if (phase.action === 'cold') return COLD_WORDS[Math.floor(msInto / 5000) % COLD_WORDS.length];
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
