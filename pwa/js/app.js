// The shell: a hash router that hands the screen to one module at a time, the service
// worker (with an update prompt), and the outbox started at every launch. Screens are
// imported when first shown, so the first paint needs only the shell's own few modules
// (all of them are in the service worker's precache, so this costs nothing offline).
import { h, openView, toast, hooks } from './ui.js';
import { loadToken, signedIn, onSignedOut } from './api.js';
import { kv, sessions } from './store.js';
import * as outbox from './outbox.js';
import { welcome, safety } from './onboarding.js';

const dec = decodeURIComponent;
// Each screen is called with the view of its turn (see openView): it draws with view.mount.
const ROUTES = [
  [/^\/?$/, (m, q, v) => import('./home.js').then((x) => x.home(v)), 'home'],
  [/^\/library$/, (m, q, v) => import('./library.js').then((x) => x.library(q, v)), 'library'],
  [/^\/routine\/([^/]+)$/, (m, q, v) => import('./library.js').then((x) => x.routineDetail(dec(m[1]), v)), 'library'],
  [/^\/run\/([^/]+)$/, (m, q, v) => import('./session.js').then((x) => x.runSession(dec(m[1]), q, v)), 'library'],
  [/^\/plans$/, (m, q, v) => import('./plans.js').then((x) => x.plans(v)), 'library'],
  [/^\/plan\/([^/]+)$/, (m, q, v) => import('./plans.js').then((x) => x.planDetail(dec(m[1]), v)), 'library'],
  [/^\/finder$/, (m, q, v) => import('./finder.js').then((x) => x.finder(v)), 'library'],
  [/^\/history$/, (m, q, v) => import('./history.js').then((x) => x.history(v)), 'history'],
  [/^\/what-helps$/, (m, q, v) => import('./whathelps.js').then((x) => x.whatHelps(v)), 'history'],
  [/^\/editor(?:\/([^/]+))?$/, (m, q, v) => import('./editor.js').then((x) => x.editor(m[1] && dec(m[1]), v)), 'library'],
  [/^\/reminders$/, (m, q, v) => import('./reminders.js').then((x) => x.reminders(v)), 'settings'],
  [/^\/settings$/, (m, q, v) => import('./settings.js').then((x) => x.settings(v)), 'settings'],
  [/^\/screening$/, (m, q, v) => import('./screening.js').then((x) => x.screening(q, v)), 'settings'],
  [/^\/help$/, (m, q, v) => import('./care.js').then((x) => x.helpScreen(v)), null],
  [/^\/safety$/, (m, q, v) => safety(v), null],
];

async function route() {
  hooks.leave?.(); // a routine left mid-way is saved as a partial session
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query);
  const nav = document.getElementById('tabs');
  const view = openView();
  // The links in account emails open these, signed in or not.
  if (path === '/confirm' || path === '/reset') {
    nav.hidden = !signedIn();
    const account = await import('./account.js');
    return path === '/confirm' ? account.confirmScreen(params, view) : account.resetScreen(params, { onSignedIn }, view);
  }
  if (!signedIn()) {
    nav.hidden = true;
    import('./account.js').then((x) => x.banner(null));
    return welcome(params, { onSignedIn }, view);
  }
  if (path === '/welcome') { location.replace('#/'); return undefined; }
  const found = ROUTES.find(([re]) => re.test(path || '/'));
  if (!found) { location.replace('#/'); return undefined; }
  const [re, render, tab] = found;
  nav.hidden = false;
  for (const a of nav.querySelectorAll('a')) {
    if (a.dataset.tab === tab) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  try {
    await render(path.match(re), params, view);
  } catch (err) {
    view.mount(h('section.screen', h('h1', err.waiting ? 'A short pause' : 'Something went wrong'),
      h(err.waiting ? 'p.error.waiting' : 'p.error', err.message || String(err)),
      h('a.button.primary', { href: '#/' }, 'Home')));
  }
  return undefined;
}

async function onSignedIn(isNew) {
  outbox.sync();
  import('./account.js').then((x) => x.refreshBanner());
  if (isNew || !(await kv.get('safetySeen'))) location.hash = '#/safety';
  else if (location.hash === '#/' || location.hash === '') route(); else location.hash = '#/';
}

/** A session interrupted by a closed tab is kept as a partial one, never dropped. */
async function recoverInterrupted() {
  for (const r of await sessions.all()) {
    if (r.state !== 'running') continue;
    await outbox.save({ ...r, state: 'done', ended_at: r.checkpoint_at || r.started_at, completed_cycles: r.checkpoint_cycles ?? 0 });
  }
}

function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  let reloading = false;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (reloading) location.reload();
  });
  const prompt = (worker) => toast('A new version of the coach is ready.', {
    label: 'Update',
    sticky: true,
    run: () => { reloading = true; worker.postMessage({ type: 'skip-waiting' }); },
  });
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).then((reg) => {
    if (reg.waiting && navigator.serviceWorker.controller) prompt(reg.waiting);
    reg.addEventListener('updatefound', () => {
      const worker = reg.installing;
      worker?.addEventListener('statechange', () => {
        if (worker.state === 'installed' && navigator.serviceWorker.controller) prompt(worker);
      });
    });
  }).catch(() => { /* no offline support here (e.g. private mode); the app still works */ });
  // A tapped notification asks an open window to go to its routine.
  navigator.serviceWorker.addEventListener('message', (ev) => {
    if (ev.data?.type === 'open' && typeof ev.data.url === 'string') {
      const url = new URL(ev.data.url, location.origin);
      if (url.origin === location.origin) location.hash = url.hash || '#/';
    }
  });
}

async function start() {
  onSignedOut(() => { toast('Please log in again.'); route(); });
  await loadToken();
  await recoverInterrupted().catch(() => {});
  // The outbox, the worker (and its tap listener) start before the first screen: a screen
  // such as a routine can take the whole session, and must not hold them back.
  outbox.start();
  registerWorker();
  window.addEventListener('hashchange', route);
  await route();
  if (signedIn()) import('./account.js').then((x) => x.refreshBanner());
}

start();
