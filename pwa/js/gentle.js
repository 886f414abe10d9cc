// Over-breathing guidance (many over-breathe on day 1 of slow breathing, none by day 7):
// open before the first few slow sessions, then folded, always there.
import { h } from './ui.js';
import { kv } from './store.js';
import { cycleMs } from './plan.js';

const OPEN_TIMES = 3;

/** Timed breathing at ≤ 7 breaths a minute (not cyclic sighing, 7.5). */
export function isSlowBreathing(routine) {
  if (routine.kind !== 'breathing' || routine.phases.some((p) => p.open_ended)) return false;
  const breaths = routine.phases.filter((p) => p.action === 'inhale').length || 1;
  return (60000 * breaths) / cycleMs(routine) <= 7;
}

export async function gentleCard() {
  const seen = (await kv.get('gentleSeen')) || 0;
  kv.set('gentleSeen', seen + 1).catch(() => {});
  const points = h('ul',
    h('li', 'Small, soft breaths, not big deep ones. Slow is what matters, not size.'),
    h('li', 'The first sessions may feel less relaxing than later ones. That is common and usually passes within days.'),
    h('li', 'Light-headed, tingly fingers or lips? You are breathing too much: breathe smaller, or stop and breathe normally.'));
  const title = 'How to breathe slowly, gently';
  if (seen < OPEN_TIMES) return h('div.card.gentle', h('h2', title), points);
  return h('details.card.gentle', h('summary', title), points);
}

/** Cautions less the one the card says at length. */
export const withoutOverBreathing = (cautions) => cautions.filter((c) => !/light-headed/i.test(c));
