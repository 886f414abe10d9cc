// The coach's service worker: a versioned precache of the whole shell (an explicit list),
// an update that waits for the user's "Update" tap, offline start, GET-only same-origin
// caching that never touches /api/, and the push, notificationclick and
// pushsubscriptionchange handlers. VERSION is a digest of the shell: scripts/pwa_version.py.
importScripts('/js/idb.js'); // the IndexedDB layout, shared with js/store.js
const VERSION = 'coach-de02300b';
const SHELL = [
  '/',
  '/manifest.webmanifest',
  '/css/app.css',
  '/js/account.js',
  '/js/api.js',
  '/js/app.js',
  '/js/background.js',
  '/js/care.js',
  '/js/charts.js',
  '/js/camera.js',
  '/js/cold.js',
  '/js/cues.js',
  '/js/editor.js',
  '/js/finder.js',
  '/js/gate.js',
  '/js/gentle.js',
  '/js/history.js',
  '/js/home.js',
  '/js/hr.js',
  '/js/idb.js',
  '/js/library.js',
  '/js/onboarding.js',
  '/js/outbox.js',
  '/js/pacer.js',
  '/js/passkeys.js',
  '/js/plan.js',
  '/js/plans.js',
  '/js/power.js',
  '/js/pulse-worker.js',
  '/js/pulse.js',
  '/js/rating.js',
  '/js/reminders.js',
  '/js/routines.js',
  '/js/screening.js',
  '/js/session.js',
  '/js/settings.js',
  '/js/store.js',
  '/js/ui.js',
  '/js/voice.js',
  '/js/whathelps.js',
  '/js/zone.js',
  '/icons/apple-touch-icon.png',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/maskable-512.png',
];
// Data and server pages are always fresh from the network, never from a cache. The server
// writes its list of them in as it sends this file (coach/server_paths.py).
const SERVER_PATHS = __SERVER_PATHS__;
const RUNTIME = `${VERSION}-runtime`;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) =>
    cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })))));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('coach-') && name !== VERSION && name !== RUNTIME) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'skip-waiting') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || SERVER_PATHS.some((path) => url.pathname.startsWith(path))) return;
  if (request.mode === 'navigate' && (url.pathname === '/' || url.pathname === '/index.html')) {
    event.respondWith(caches.match('/').then((hit) => hit || fetch(request)));
    return;
  }
  event.respondWith((async () => {
    const hit = await caches.match(request, { ignoreSearch: true });
    if (hit) return hit;
    try {
      const response = await fetch(request);
      if (response.ok && response.type === 'basic') {
        const copy = response.clone();
        caches.open(RUNTIME).then((cache) => cache.put(request, copy));
      }
      return response;
    } catch (err) {
      const fallback = await caches.match(request, { ignoreSearch: true });
      if (fallback) return fallback;
      throw err;
    }
  })());
});

// --- push -------------------------------------------------------------------------------

/** Only this origin's pages: a payload's url from another origin becomes the routine's page. */
function targetUrl(data) {
  const routine = typeof data.routine === 'string' && /^[a-z0-9-]{1,64}$/.test(data.routine) ? data.routine : null;
  const fallback = new URL(routine ? `/#/run/${routine}` : '/#/', self.location.origin).href;
  try {
    const url = new URL(data.url, self.location.origin);
    if (url.origin !== self.location.origin) return fallback;
    return url.hash ? url.href : fallback;
  } catch {
    return fallback;
  }
}

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data ? event.data.text() : '' };
  }
  event.waitUntil(self.registration.showNotification(data.title || 'Time for a few slow breaths', {
    body: data.body || '',
    icon: '/icons/icon-192.png',
    badge: '/icons/icon-192.png',
    tag: data.type || 'reminder',
    data: { url: targetUrl(data) },
  }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = event.notification.data?.url || new URL('/#/', self.location.origin).href;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    for (const client of windows) {
      if (new URL(client.url).origin === self.location.origin && 'focus' in client) {
        // The message first: a refused focus (no user gesture) must not keep the window
        // from going to the routine.
        client.postMessage({ type: 'open', url });
        await client.focus().catch(() => {});
        return;
      }
    }
    await self.clients.openWindow(url);
  })());
});

// The push service replaced or dropped the subscription: make a new one and tell the server.
self.addEventListener('pushsubscriptionchange', (event) => {
  event.waitUntil((async () => {
    const token = await kvGet('token');
    if (!token) return;
    const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` };
    let sub = event.newSubscription;
    if (!sub) {
      const key = (await kvGet('vapidKey')) || (await (await fetch('/api/push/vapid-public-key')).json()).key;
      sub = await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64uToBytes(key) });
    }
    await fetch('/api/push/subscriptions', { method: 'POST', headers, body: JSON.stringify(sub.toJSON()) });
    if (event.oldSubscription && event.oldSubscription.endpoint !== sub.endpoint) {
      await fetch('/api/push/subscriptions', { method: 'DELETE', headers, body: JSON.stringify({ endpoint: event.oldSubscription.endpoint }) });
    }
  })());
});

function b64uToBytes(text) {
  const pad = '='.repeat((4 - (text.length % 4)) % 4);
  const raw = atob((text + pad).replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/** Reads the app's IndexedDB key-value store (the layout of js/idb.js, as js/store.js). */
async function kvGet(key) {
  try {
    const db = await self.coachDb.open();
    return await new Promise((resolve) => {
      const get = db.transaction('kv').objectStore('kv').get(key);
      get.onsuccess = () => resolve(get.result);
      get.onerror = () => resolve(undefined);
    });
  } catch {
    return undefined;
  }
}
