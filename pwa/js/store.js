// IndexedDB: the phone's own copy. Sessions are written here first (the outbox), the
// token lives here (the service worker can read it to renew a push subscription), and the
// last good answer of each GET is kept so every screen opens offline.
// The layout (names, version, stores) is js/idb.js, shared with the service worker.
import './idb.js';

let dbPromise;

function open() {
  dbPromise ||= globalThis.coachDb.open();
  return dbPromise;
}

async function tx(storeName, mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction(storeName, mode);
    const store = t.objectStore(storeName);
    let result;
    const req = work(store);
    if (req) req.onsuccess = () => { result = req.result; };
    // Resolve on commit, not on the request: a write is only safe once the transaction is durable.
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

export const kv = {
  get: (key) => tx('kv', 'readonly', (s) => s.get(key)),
  set: (key, value) => tx('kv', 'readwrite', (s) => s.put(value, key)),
  delete: (key) => tx('kv', 'readwrite', (s) => s.delete(key)),
};

export const cacheGet = (path) => tx('cache', 'readonly', (s) => s.get(path));
export const cachePut = (path, data) => tx('cache', 'readwrite', (s) => s.put(data, path));

export const sessions = {
  get: (uuid) => tx('sessions', 'readonly', (s) => s.get(uuid)),
  all: () => tx('sessions', 'readonly', (s) => s.getAll()),
  put: (record) => tx('sessions', 'readwrite', (s) => s.put(record)),
  delete: (uuid) => tx('sessions', 'readwrite', (s) => s.delete(uuid)),
};

/** Forget everything this account left on the phone (log out, account deleted). */
export async function clearAll() {
  for (const name of ['kv', 'cache', 'sessions']) await tx(name, 'readwrite', (s) => s.clear());
}
