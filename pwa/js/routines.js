// What several screens need to know about one routine: loading it (online or from the copy
// kept on the phone) and the word for its kind. The library, the editor and the session
// screen share these, so none of them imports another screen.
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
