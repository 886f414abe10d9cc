// The phone's IndexedDB layout, in one place for the page (js/store.js imports this file) and
// the service worker (sw.js loads it with importScripts). No import or export here, so the
// same file is both a module and a classic script; it leaves `coachDb` on the global object.
globalThis.coachDb = Object.freeze({
  name: 'coach',
  version: 1,
  /** Open (and on first use create) the database: kv and cache by key, sessions by uuid. */
  open() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(this.name, this.version);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains('kv')) db.createObjectStore('kv');
        if (!db.objectStoreNames.contains('cache')) db.createObjectStore('cache');
        if (!db.objectStoreNames.contains('sessions')) db.createObjectStore('sessions', { keyPath: 'uuid' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  },
});
