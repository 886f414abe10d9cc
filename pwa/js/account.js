// The account's lifecycle in the app: the confirm and reset screens (reached from links in
// emails, signed in or not), the gentle "please confirm" banner, and the Settings cards for
// the password, the email address and the signed-in devices. Logging out also ends this
// browser's push subscription, so a shared phone stops getting the last user's reminders.
import { h, field, errorBox, busy, toast, fmtDate, fmtTime } from './ui.js';
import { get, post, put, patch, del, setToken, signedIn } from './api.js';
import { kv, cachePut, clearAll } from './store.js';

const PASSWORD_MIN = 10;

function newPassword(id, label = 'New password') {
  const input = h('input', { type: 'password', id, autocomplete: 'new-password', required: true, minLength: PASSWORD_MIN, maxLength: 1024 });
  return [input, field(label, input, `At least ${PASSWORD_MIN} characters.`)];
}

// --- the banner --------------------------------------------------------------------------

/** Shows or hides the "please confirm" banner (made when first needed) from the profile `me`. */
export function banner(me) {
  let box = document.getElementById('account-banner');
  if (!me || me.email_confirmed || !signedIn()) {
    if (box) { box.hidden = true; box.replaceChildren(); }
    return;
  }
  if (!box) {
    box = h('div#account-banner.banner', { role: 'status' });
    document.getElementById('view').before(box);
  }
  const again = h('button.link', { type: 'button' }, 'Send again');
  const err = errorBox();
  again.addEventListener('click', () => busy(again, err, async () => {
    await post('/api/auth/confirm/resend');
    again.replaceWith(h('span', 'Sent. Check your inbox.'));
  }));
  box.replaceChildren(h('p', `Please confirm your email address: we sent a link to ${me.email}. `, again), err);
  box.hidden = false;
}

/** Fetches the profile and updates the banner (quietly: offline keeps the last state). */
export async function refreshBanner() {
  if (!signedIn()) { banner(null); return; }
  try {
    const me = await get('/api/me');
    await cachePut('/api/me', me);
    banner(me);
  } catch { /* offline or signed out: nothing to change */ }
}

// --- confirm: /#/confirm?token=… -----------------------------------------------------------

export async function confirmScreen(params, view) {
  const token = params.get('token') || '';
  view.mount(h('section.screen', h('h1', 'Confirming your address…')));
  try {
    const me = await post('/api/auth/confirm', { token }, { auth: false });
    await refreshBanner(); // (the link may be another account's: read this one's own profile)
    view.mount(h('section.screen',
      h('h1', 'Your address is confirmed'),
      h('div.card', h('p', `Thank you. The coach will write to ${me.email} from now on.`),
        h('div.actions', h('a.button.primary', { href: '#/' }, signedIn() ? 'Continue' : 'Log in')))));
  } catch (err) {
    view.mount(h('section.screen',
      h('h1', 'This link does not work'),
      h('div.card', h('p', err.message),
        h('p.small.muted', signedIn() ? 'You can ask for a new one from the banner at the top.' : 'Log in, and you can ask for a new one.'),
        h('div.actions', h('a.button.secondary', { href: '#/' }, 'Open the coach')))));
  }
}

// --- reset: /#/reset (ask for a link) and /#/reset?token=… (choose the new password) ------

export function resetScreen(params, { onSignedIn }, view) {
  const token = params.get('token');
  if (token) return chooseNew(token, onSignedIn, view);
  const email = h('input', { type: 'email', id: 'reset-email', autocomplete: 'email', required: true, maxLength: 254 });
  const err = errorBox();
  const send = h('button.primary', { type: 'submit' }, 'Send me a link');
  const form = h('form.card', {
    onsubmit: (ev) => {
      ev.preventDefault();
      busy(send, err, async () => {
        const answer = await post('/api/auth/password-reset', { email: email.value.trim() }, { auth: false });
        await kv.set('resetEmail', email.value.trim()); // to sign in here once the new password is set
        form.replaceWith(h('div.card', h('h2', 'Check your inbox'), h('p', answer.message),
          h('p.small.muted', 'The link works once, for one hour.'),
          h('div.actions', h('a.button.secondary', { href: '#/welcome?mode=login' }, 'Back to log in'))));
      });
    },
  },
  h('p', 'Enter the email address of your account. If it has one, we send it a link to choose a new password.'),
  field('Email', email), err, h('div.actions', send, h('a.button.link', { href: '#/welcome?mode=login' }, 'Back to log in')));
  view.mount(h('section.screen', h('h1', 'Forgot your password?'), form));
  return undefined;
}

function chooseNew(token, onSignedIn, view) {
  const [password, passwordField] = newPassword('reset-password');
  const err = errorBox();
  const save = h('button.primary', { type: 'submit' }, 'Save the new password');
  const form = h('form.card', {
    onsubmit: (ev) => {
      ev.preventDefault();
      busy(save, err, async () => {
        await post('/api/auth/password-reset/confirm', { token, password: password.value }, { auth: false });
        await setToken(null); // every device was signed out, this one too
        const email = await kv.get('resetEmail');
        await kv.delete('resetEmail');
        if (email) {
          try {
            const answer = await post('/api/auth/login', { email, password: password.value }, { auth: false });
            await setToken(answer.token);
            const me = await get('/api/me');
            await cachePut('/api/me', me);
            await kv.set('userId', me.id);
            toast('Your password is changed, and you are signed in.');
            await onSignedIn(false);
            return;
          } catch { /* another address was asked for on this phone: log in by hand */ }
        }
        toast('Your password is changed. Log in with it.');
        location.hash = '#/welcome?mode=login';
      });
    },
  },
  h('p', 'Every device will be signed out; your sessions and settings stay as they are.'),
  passwordField, err, h('div.actions', save));
  view.mount(h('section.screen', h('h1', 'Choose a new password'), form));
}

// --- Settings cards -----------------------------------------------------------------------

export function emailCard(me) {
  const err = errorBox();
  const email = h('input', { type: 'email', id: 'new-email', autocomplete: 'email', required: true, maxLength: 254, value: me.pending_email || '' });
  const save = h('button.secondary', { type: 'submit' }, 'Change address');
  const status = h('p.small.muted');
  const show = (profile) => {
    status.textContent = profile.pending_email
      ? `Waiting for you to confirm ${profile.pending_email}: we sent it a link. Until then emails go to ${profile.email}.`
      : profile.email_confirmed ? `Confirmed: ${profile.email}` : `Not confirmed yet: ${profile.email}`;
  };
  show(me);
  return h('form.card', {
    onsubmit: (ev) => {
      ev.preventDefault();
      busy(save, err, async () => {
        const profile = await patch('/api/me', { email: email.value.trim() });
        await cachePut('/api/me', profile);
        show(profile);
        toast(profile.pending_email ? 'Check the new address for a link' : 'Your address stays as it is');
      });
    },
  },
  h('h2', 'Email address'), status, field('New address', email), err, save);
}

export function passwordCard() {
  const err = errorBox();
  const current = h('input', { type: 'password', id: 'current-password', autocomplete: 'current-password', required: true, maxLength: 1024 });
  const [fresh, freshField] = newPassword('new-password');
  const save = h('button.secondary', { type: 'submit' }, 'Change password');
  const form = h('form.card', {
    onsubmit: (ev) => {
      ev.preventDefault();
      busy(save, err, async () => {
        await put('/api/me/password', { current_password: current.value, new_password: fresh.value });
        form.reset();
        toast('Password changed. Your other devices are signed out.');
        document.dispatchEvent(new CustomEvent('devices-changed'));
      });
    },
  },
  h('h2', 'Password'), field('Current password', current), freshField,
  h('p.small.muted', 'Changing it signs out every other device.'), err, save);
  return form;
}

function lastUse(iso) {
  return `last used ${fmtDate(iso, { day: 'numeric', month: 'short' })}, ${fmtTime(iso)}`;
}

export function devicesCard() {
  const err = errorBox();
  const list = h('ul.plain-list.devices');
  const everywhere = h('button.secondary', { type: 'button' }, 'Sign out everywhere');
  const card = h('div.card', h('h2', 'Devices'), h('p.small.muted', 'Where you are signed in.'), list, err, h('div.actions', everywhere));
  const render = async () => {
    let devices;
    try { devices = await get('/api/auth/tokens'); } catch (e) { err.show(e); return; }
    list.replaceChildren(...devices.map((d) => {
      const out = d.current ? h('span.badge.current', 'This device') : h('button.link', { type: 'button' }, 'Sign out');
      if (!d.current) {
        out.setAttribute('aria-label', `Sign out ${d.label}`);
        out.addEventListener('click', () => busy(out, err, async () => { await del(`/api/auth/tokens/${d.id}`); toast(`${d.label} is signed out`); render(); }));
      }
      return h('li.device', h('div', h('strong', d.label), h('br'), h('span.small.muted', lastUse(d.last_used_at))), out);
    }));
  };
  everywhere.addEventListener('click', () => busy(everywhere, err, async () => {
    if (!confirm('Sign out on every device, this one too?')) return;
    await endPush();
    await post('/api/auth/logout-everywhere');
    await forget();
  }));
  document.addEventListener('devices-changed', render);
  render();
  return card;
}

// --- logging out ---------------------------------------------------------------------------

/** Ends this browser's push subscription; its endpoint, for the server to delete too. */
async function endPush() {
  try {
    const reg = await navigator.serviceWorker?.getRegistration();
    const sub = reg ? await reg.pushManager.getSubscription() : null;
    if (!sub) return undefined;
    const { endpoint } = sub;
    await sub.unsubscribe();
    return endpoint;
  } catch {
    return undefined; // no push here: nothing to end
  }
}

export async function forget() {
  await setToken(null);
  await clearAll();
  banner(null);
  location.hash = '#/welcome';
}

/** Log out: the push subscription goes first (a shared phone must stop ringing), then the token. */
export async function logOut() {
  const endpoint = await endPush();
  await post('/api/auth/logout', endpoint ? { push_endpoint: endpoint } : {}).catch(() => {}); // offline: the token expires
  await forget();
}
