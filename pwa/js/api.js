// The one way the app talks to the server: JSON, the bearer token, and errors turned
// into plain sentences from the API's error shape {code, status, message, errors}.
import { kv, cacheGet, cachePut } from './store.js';

let token = null;
const listeners = new Set();

export async function loadToken() {
  token = (await kv.get('token')) || null;
  return token;
}
export function signedIn() { return !!token; }
export async function setToken(value) {
  token = value;
  await (value ? kv.set('token', value) : kv.delete('token'));
}
/** Called with no argument when the server says the token is no longer good. */
export function onSignedOut(fn) { listeners.add(fn); }

export class ApiError extends Error {
  constructor(message, status, fields, retryAfter = null) {
    super(message);
    this.status = status;
    this.fields = fields || {};
    this.retryAfter = retryAfter; // seconds, from a 429's Retry-After
  }
  get offline() { return this.status === 0; }
  /** A limit was reached: nothing is wrong, the person only needs to wait (shown calmly). */
  get waiting() { return this.status === 429; }
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date); null when absent. */
export function retryAfterSeconds(value, now = Date.now()) {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.round((at - now) / 1000));
}

/** "You can try again in about 3 minutes." for a short wait; a long one the server's words say. */
export function waitWords(seconds) {
  if (seconds === null || seconds === undefined || seconds >= 3600) return '';
  if (seconds <= 60) return 'You can try again in a minute.';
  const minutes = Math.ceil(seconds / 60);
  return `You can try again in about ${minutes} minutes.`;
}

const WAIT = 'That was a lot at once. Please wait a little and try again.';

const FIELD_WORDS = {
  email: 'Email', password: 'Password', timezone: 'Time zone', local_time: 'Time',
  weekdays: 'Days', name: 'Name', phases: 'Phases', cycles: 'Repetitions', seconds: 'Seconds',
  resonance_bpm: 'Resonance rate', note: 'Note', _schema: '',
};

/** One readable sentence from an error body. */
export function sentence(body, status) {
  const parts = [];
  const walk = (prefix, value) => {
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      const label = FIELD_WORDS[prefix] ?? prefix.replace(/_/g, ' ');
      parts.push(label ? `${label[0].toUpperCase()}${label.slice(1)}: ${value.join(' ')}` : value.join(' '));
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(/^\d+$/.test(k) ? prefix : k, v);
    }
  };
  walk('', body?.errors);
  const base = body?.message || (status >= 500 ? 'Something went wrong on our side. Please try again in a moment.'
    : status === 429 ? WAIT : 'That did not work.');
  return parts.length ? `${base} ${parts.join(' ')}`.replace(/\s+/g, ' ').trim() : base;
}

export async function request(method, path, body, { auth = true, raw = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth && token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    throw new ApiError('The coach cannot be reached right now. Check your connection and try again.', 0);
  }
  if (response.status === 401 && auth) {
    await setToken(null);
    listeners.forEach((fn) => fn());
  }
  if (!response.ok) {
    let data = null;
    try { data = await response.json(); } catch { /* not JSON: use the status */ }
    if (response.status === 429) {
      const wait = retryAfterSeconds(response.headers.get('Retry-After'));
      const text = `${sentence(data, 429)} ${waitWords(wait)}`.trim();
      throw new ApiError(text, 429, data?.errors, wait);
    }
    throw new ApiError(sentence(data, response.status), response.status, data?.errors);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const post = (path, body, opts) => request('POST', path, body ?? {}, opts);
export const put = (path, body) => request('PUT', path, body);
export const patch = (path, body) => request('PATCH', path, body);
export const del = (path, body) => request('DELETE', path, body);

/**
 * GET that falls back to the last good answer kept in IndexedDB when offline, so every
 * screen opens on a plane. Resolves {data, stale}.
 */
export async function getCached(path) {
  try {
    const data = await get(path);
    cachePut(path, data).catch(() => {});
    return { data, stale: false };
  } catch (err) {
    if (!err.offline && err.status < 500) throw err;
    const cached = await cacheGet(path);
    if (cached === undefined) throw err;
    return { data: cached, stale: true };
  }
}
