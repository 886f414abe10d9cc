// A routine is data: phases × cycles. This module turns it into a timeline of planned
// phase boundaries in milliseconds from the session start, which the pacer reads against
// performance.now(). Pure functions only, so the plan is the same wherever it is computed.

export const WORDS = {
  inhale: 'Breathe in',
  sigh_inhale: 'Top up',
  hold: 'Hold',
  exhale: 'Breathe out',
  hold_empty: 'Pause',
  cold: 'Cold',
  rest: 'Rest',
  prepare: 'Get ready',
};

export const cycleMs = (routine) => routine.phases.reduce((sum, p) => sum + ms(p.seconds), 0);
const ms = (seconds) => Math.round(seconds * 1e6) / 1e3; // exact to the microsecond

/** Lung "fullness" 0…1 at the end of a phase, for the breathing shape. */
function levelAfter(action, before, next) {
  switch (action) {
    case 'inhale': return next === 'sigh_inhale' ? 0.8 : 1;
    case 'sigh_inhale': return 1;
    case 'exhale': case 'hold_empty': return 0;
    case 'hold': return before;
    default: return 0.45; // cold, rest, prepare: a quiet middle size
  }
}

export function plan(routine, cycles = routine.cycles) {
  const phases = [];
  let t = 0;
  let level = 0;
  const list = routine.phases;
  for (let cycle = 0; cycle < cycles; cycle += 1) {
    list.forEach((p, i) => {
      const next = list[(i + 1) % list.length].action;
      const end = levelAfter(p.action, level, next);
      const from = ['cold', 'rest', 'prepare'].includes(p.action) ? end : level;
      const dur = ms(p.seconds);
      phases.push({ action: p.action, cue: p.cue || '', seconds: p.seconds, start: t, end: t + dur, cycle, from, to: end });
      t += dur;
      level = end;
    });
  }
  return { phases, total: t, cycles };
}

/** Index of the phase running at `elapsed` ms (phases.length once the plan is over). */
export function phaseAt(timeline, elapsed) {
  const { phases } = timeline;
  let lo = 0, hi = phases.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (phases[mid].end <= elapsed) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** Cycles whose every phase finished by `elapsed`. */
export function completedCycles(timeline, elapsed) {
  const per = timeline.phases.length / Math.max(1, timeline.cycles);
  const done = phaseAt(timeline, elapsed);
  return Math.floor(done / per);
}

/** Cycles that fit in `minutes` (at least one). */
export function cyclesForMinutes(routine, minutes) {
  return Math.max(1, Math.round((minutes * 60000) / cycleMs(routine)));
}

/** Smooth in-out easing so the shape breathes rather than ticks. */
export const ease = (x) => 0.5 - Math.cos(Math.PI * Math.min(1, Math.max(0, x))) / 2;
