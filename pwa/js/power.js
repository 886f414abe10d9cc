// Power breathing, and any routine with an open-ended hold: each round runs its timed
// phases on the pacer (the fast breaths counted), then the open-ended retention on empty
// lungs as a count-up the user ends with a tap (recorded per round), then the recovery
// breath held briefly. The shape comes from the routine's data, not from code.
import { h, fmtClock, announce } from './ui.js';
import { plan } from './plan.js';
import { pacerView } from './pacer.js';

export const hasOpenEnded = (routine) => routine.phases.some((p) => p.open_ended);

/** One round split at its open-ended holds: [{timed: [...]}, {open: phase}, {timed: [...]}]. */
export function segments(routine) {
  const out = [];
  let timed = [];
  for (const p of routine.phases) {
    if (p.open_ended) {
      if (timed.length) out.push({ timed });
      out.push({ open: p });
      timed = [];
    } else {
      timed.push(p);
    }
  }
  if (timed.length) out.push({ timed });
  return out;
}

/** Resolves {retention_seconds, completedCycles, elapsed, endedEarly}. */
export async function runPower({ routine, cues, view: screen }) {
  const rounds = routine.cycles || 1;
  const parts = segments(routine);
  const retention = [];
  const t0 = performance.now();
  const result = (endedEarly, done) => ({
    retention_seconds: retention, completedCycles: done, elapsed: performance.now() - t0, endedEarly,
  });

  for (let round = 0; round < rounds; round += 1) {
    let afterHold = false;
    for (const part of parts) {
      if (part.open) {
        const held = await retentionView(screen, round, rounds, part.open, cues);
        if (held === null) return result(true, round);
        retention.push(held);
        afterHold = true;
        continue;
      }
      const timeline = plan({ phases: part.timed }, 1);
      const inhales = part.timed.filter((p) => p.action === 'inhale').length;
      // Count the breaths: "Breath 7 of 15" is what the fast part needs.
      const breathNo = [];
      let n = 0;
      for (const p of timeline.phases) { if (p.action === 'inhale') n += 1; breathNo.push(Math.max(1, n)); }
      const title = afterHold ? `Round ${round + 1}: recovery breath` : `Round ${round + 1} of ${rounds}: ${inhales} breaths`;
      const view = pacerView({
        title,
        timeline,
        cues,
        label: inhales > 2 ? (phase, index) => `Breath ${breathNo[index]} of ${inhales} · ` : () => '',
      });
      screen.mount(view.el);
      view.start();
      if ((await view.done).endedEarly) return result(true, round);
    }
  }
  return result(false, rounds);
}

/** The count-up retention. Resolves seconds (0.1 s) or null if the user ends the session. */
function retentionView(screen, round, rounds, phase, cues) {
  return new Promise((resolve) => {
    const clock = h('p.count-up', { role: 'timer', 'aria-live': 'off' }, '0:00');
    const start = performance.now();
    let raf;
    let timer;
    const draw = () => {
      clock.textContent = fmtClock(Math.floor((performance.now() - start) / 1000));
      raf = requestAnimationFrame(draw);
    };
    const finish = (value) => {
      cancelAnimationFrame(raf);
      clearTimeout(timer);
      resolve(value);
    };
    const guide = phase.seconds;
    screen.mount(h('section.screen.retention',
      h('p.eyebrow', `Round ${round + 1} of ${rounds}`),
      h('h1', 'Hold on empty lungs'),
      h('p.lead', phase.cue || 'Breathe out and relax. Hold only as long as it is comfortable.'),
      clock,
      h('p.small.muted', `Around ${Math.round(guide)} seconds is common. There is no target to beat: breathe whenever you need to.`),
      h('button.primary.huge', {
        type: 'button',
        onclick: () => finish(Math.round((performance.now() - start) / 100) / 10),
      }, 'Breathe in now'),
      h('button.link', { type: 'button', onclick: () => finish(null) }, 'End session')));
    announce('Hold on empty lungs. Tap “Breathe in now” when you need to breathe.');
    cues.phase('hold_empty');
    // A gentle nudge after three times the usual length; the user still decides.
    timer = setTimeout(() => { announce('Breathe in whenever you are ready.'); cues.phase('inhale'); }, guide * 3000);
    draw();
  });
}
