// What several screens need to know about one routine: loading it (online or from the copy
// kept on the phone) and the word for its kind. The library, the editor and the session
// screen share these, so none of them imports another screen.
import { h } from './ui.js';
import { getCached } from './api.js';

export async function loadRoutine(slug) {
  try {
    return (await getCached(`/api/routines/${encodeURIComponent(slug)}`)).data;
  } catch (err) {
    const list = await getCached('/api/routines').catch(() => null);
    const found = list?.data?.find?.((r) => r.slug === slug);
    if (found) return found;
    throw err;
  }
}

export function kindWord(routine) {
  return { breathing: 'Breathing', cold: 'Cold', combined: 'Breathing and cold' }[routine.kind] || 'Routine';
}

// The water rule that fits each routine (evidence.md, "Safety rules the app enforces" and
// "Cold without a bowl or a snorkel"): a routine done in cold water never reads "never in or
// near water", and one with the face in water never shows breath-hold words.
const FACE_IN_WATER = new Set(['cold-face']);
const NO_WATER = new Set(['cold-cloth']);
export const BREATH_HOLD_WATER_RULE = 'Never in or near water, never while driving; seated or lying down.';

/** {lead, text} of the routine's water rule, or null when it needs none. */
export function waterRule(routine) {
  const phases = routine.phases || [];
  const cold = routine.kind !== 'breathing' || phases.some((p) => p.action === 'cold');
  if (cold && NO_WATER.has(routine.slug)) {
    return { lead: 'No water needed: ', text: 'keep breathing slowly and normally while the cold is on your face; no breath holds.' };
  }
  if (cold && FACE_IN_WATER.has(routine.slug)) {
    return { lead: 'Face in the water: ', text: 'Never hold your breath with your face in the water. Breathe slowly through the snorkel, or lift out to breathe whenever you want.' };
  }
  if (cold) {
    return { lead: 'In cold water, keep breathing slowly: ', text: 'never hold your breath or breathe fast there, and never put your head under.' };
  }
  const holds = phases.some((p) => (['hold', 'hold_empty'].includes(p.action) && p.seconds >= 3) || p.open_ended);
  if (holds || routine.requires_screening) return { lead: 'Breath holds and fast breathing: ', text: BREATH_HOLD_WATER_RULE };
  return null;
}

/** The routine's water rule as the note every screen that starts it shows (or null). */
export function waterWarning(routine) {
  const rule = waterRule(routine);
  return rule && h('div.warning', { role: 'note' }, h('strong', rule.lead), rule.text);
}
