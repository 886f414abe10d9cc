// Sends finished sessions with PUT /api/sessions/<uuid>. The uuid is made on the phone,
// so a repeat after a lost answer updates the same row: never lost, never doubled.
// Retries with exponential back-off, on `online` and at every app start.
import { put, signedIn } from './api.js';
import { kv, sessions } from './store.js';

const BASE_DELAY = 2000;
const MAX_DELAY = 5 * 60 * 1000;
let running = null;
let again = false;
let retryTimer = null;
let failures = 0;
export const events = new EventTarget();

/** The body the contract expects, from the local record. */
export function body(record) {
  const out = { routine: record.routine, started_at: record.started_at };
  for (const key of ['ended_at', 'completed_cycles', 'pre', 'post', 'details']) {
    if (record[key] !== undefined && record[key] !== null) out[key] = record[key];
  }
  return out;
}

/** Finished, unsent sessions of `owner` (another account's, left after an expired login, wait for it). */
export function pending(records, owner) {
  return records.filter((r) => r.state === 'done' && r.sync === 'pending' && (owner === undefined || r.owner === undefined || r.owner === owner));
}

/** Try to send everything pending; concurrent calls share one run (and one tab at a time). */
export function sync() {
  if (running) {
    again = true; // something changed mid-run: go round once more when it ends
    return running;
  }
  const work = () => drain();
  running = (navigator.locks ? navigator.locks.request('coach-outbox', work) : work())
    .finally(() => {
      running = null;
      if (again) {
        again = false;
        sync();
      }
    });
  return running;
}

async function drain() {
  if (!signedIn()) return;
  clearTimeout(retryTimer);
  let sent = 0;
  for (const record of pending(await sessions.all(), await kv.get('userId'))) {
    try {
      await put(`/api/sessions/${record.uuid}`, body(record));
    } catch (err) {
      if (err.waiting) {
        // A limit (e.g. the day's 100 sessions): kept on the phone with the server's words,
        // and sent again when Retry-After says.
        const latest = await sessions.get(record.uuid);
        if (latest) await sessions.put({ ...latest, waiting: err.message });
        scheduleRetry(err.retryAfter);
        break;
      }
      if (err.offline || err.status >= 500) {
        scheduleRetry();
        break;
      }
      if (err.status === 401) break; // wait for the next log-in
      // The server refused it for good (e.g. screening): keep it on the phone, say why.
      await sessions.put({ ...record, sync: 'failed', error: err.message, status: err.status });
      continue;
    }
    // Re-read: the record may have changed (a post rating added) while the PUT was in flight.
    const latest = await sessions.get(record.uuid);
    if (latest && JSON.stringify(body(latest)) === JSON.stringify(body(record))) {
      await sessions.put({ ...latest, sync: 'synced', error: null, waiting: null });
    }
    sent += 1;
    failures = 0;
  }
  if (sent) events.dispatchEvent(new CustomEvent('synced', { detail: { sent } }));
}

function scheduleRetry(retryAfter = null) {
  failures += 1;
  const backoff = Math.min(MAX_DELAY, BASE_DELAY * 2 ** (failures - 1)) * (0.8 + Math.random() * 0.4);
  const delay = Math.max(backoff, (retryAfter ?? 0) * 1000);
  clearTimeout(retryTimer);
  retryTimer = setTimeout(sync, delay);
}

/** Write a session record first, then try to send it. */
export async function save(record) {
  await sessions.put(record);
  if (record.state === 'done') sync();
}

export function start() {
  window.addEventListener('online', () => { failures = 0; sync(); });
  return sync();
}
