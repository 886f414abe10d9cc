// First contact: create an account or log in (the time zone comes from the device), or sign
// in with a passkey, then a short safety note in plain words, and on iPhone the "Add to Home
// Screen" hint. After the first password sign-in on a device that can, a passkey is offered once.
import { h, field, errorBox, busy } from './ui.js';
import { post, get, setToken, ApiError } from './api.js';
import { kv, cachePut } from './store.js';
import { support, signInWithPasskey, plainWords, shouldOffer, offerCard } from './passkeys.js';
import { deviceZone } from './zone.js';


export function isIOS() {
  return /iPhone|iPad|iPod/.test(navigator.userAgent) || (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);
}
export const isStandalone = () => matchMedia('(display-mode: standalone)').matches || navigator.standalone === true;

export function iosHint() {
  if (!isIOS() || isStandalone()) return null;
  return h('div.card.hint',
    h('h2', 'On iPhone: add the coach to your Home Screen'),
    h('p', 'Reminders can only reach an iPhone from an app on the Home Screen. In Safari tap the Share button, then “Add to Home Screen”, and open the coach from there.'));
}

// The passkey request waiting on the email field's autofill (conditional UI), if any.
let waiting = null;
function stopWaiting() {
  waiting?.abort();
  waiting = null;
}

/** Keep the token and who it belongs to, as every sign-in does, then go on. */
async function signedInWith(answer) {
  stopWaiting();
  await setToken(answer.token);
  const me = await get('/api/me');
  await cachePut('/api/me', me);
  await kv.set('userId', me.id); // sessions on this phone are sent only to their own account
  return me;
}

function passkeyPart(err, onSignedIn) {
  const button = h('button.secondary.wide', { type: 'button' }, 'Sign in with a passkey');
  const words = h('p.small.muted', { hidden: true });
  const box = h('div.passkey-signin', h('p.or.small.muted', 'or'), button, words);
  button.addEventListener('click', () => busy(button, err, async () => {
    stopWaiting(); // one WebAuthn request at a time: the autofill one gives way to the button
    try {
      await signedInWith(await signInWithPasskey());
    } catch (e) {
      const said = plainWords(e, false);
      if (said) throw new Error(said);
      return;
    }
    await onSignedIn(false);
  }));
  support().then((can) => {
    if (can.webauthn) return;
    button.hidden = true;
    words.hidden = false;
    words.textContent = 'This browser cannot use passkeys. Log in with your email and password.';
  });
  return box;
}

/** Offer the passkeys saved for the coach in the email field's autofill, where supported. */
async function waitForAutofill(err, onSignedIn) {
  if (!(await support()).conditional) return;
  stopWaiting();
  const controller = new AbortController();
  waiting = controller;
  try {
    const answer = await signInWithPasskey({ conditional: true, signal: controller.signal });
    if (controller.signal.aborted) return;
    await signedInWith(answer);
    await onSignedIn(false);
  } catch (e) {
    // The browser's own refusals stay quiet: nobody asked yet (some browsers end a waiting
    // request when the device holds no passkey). The server's answer to a picked one is shown.
    if (controller.signal.aborted || !(e instanceof ApiError)) return;
    err.show(e);
  }
}

export function welcome(params, { onSignedIn }, view) {
  stopWaiting();
  let mode = params.get('mode') === 'login' ? 'login' : 'signup';
  const email = h('input', { type: 'email', id: 'email', autocomplete: 'email', required: true, maxLength: 254 });
  const password = h('input', { type: 'password', id: 'password', required: true, minLength: 10, maxLength: 1024 });
  const zone = deviceZone();
  const err = errorBox();
  const submit = h('button.primary', { type: 'submit' });
  const switcher = h('button.link', { type: 'button' });
  const forgot = h('a.button.link', { href: '#/reset' }, 'Forgot your password?');
  const heading = h('h2');
  const pwHint = h('small.hint', { id: 'pw-hint' });
  password.setAttribute('aria-describedby', 'pw-hint');

  const render = () => {
    const signup = mode === 'signup';
    heading.textContent = signup ? 'Create your account' : 'Log in';
    submit.textContent = signup ? 'Create account' : 'Log in';
    switcher.textContent = signup ? 'I already have an account' : 'Create a new account';
    password.autocomplete = signup ? 'new-password' : 'current-password';
    email.autocomplete = signup ? 'email' : 'username webauthn'; // "webauthn": passkeys in autofill
    pwHint.textContent = signup ? 'At least 10 characters.' : '';
    forgot.hidden = signup;
    err.show(null);
  };
  switcher.addEventListener('click', () => { mode = mode === 'signup' ? 'login' : 'signup'; render(); });
  render();

  const form = h('form.card', {
    onsubmit: (ev) => {
      ev.preventDefault();
      busy(submit, err, async () => {
        const creds = { email: email.value.trim(), password: password.value };
        if (mode === 'signup') await post('/api/auth/register', { ...creds, timezone: zone }, { auth: false });
        const answer = await post('/api/auth/login', creds, { auth: false });
        const me = await signedInWith(answer);
        const isNew = mode === 'signup';
        if (await shouldOffer(me.id)) view.mount(offerCard(me.id, () => onSignedIn(isNew)));
        else await onSignedIn(isNew);
      });
    },
  },
  heading,
  field('Email', email),
  h('div.field', h('label', { htmlFor: 'password' }, 'Password'), password, pwHint),
  h('p.small.muted', `Time zone: ${zone} (from this device; reminders and the weekly email follow it).`),
  err,
  h('div.actions', submit, switcher, forgot),
  passkeyPart(err, onSignedIn));

  view.mount(h('section.screen.welcome',
    h('div.brand', h('img', { src: '/icons/icon-192.png', alt: '', width: 72, height: 72 })),
    h('h1', 'Vagal-tone coach'),
    h('p.lead', 'Slow breathing and cold practice, gently paced. Rate how you feel before and after, and see what helps you.'),
    h('p.small.muted', 'Vagal tone: how strongly the vagus nerve, the body’s calming brake, slows the heart between breaths. Slow breathing and cold on the face both call on it.'),
    form,
    iosHint()));
  waitForAutofill(err, onSignedIn);
}

export async function safety(view) {
  view.mount(h('section.screen',
    h('h1', 'A few safety words'),
    h('ul.plain-list',
      h('li', h('strong', 'Never hold your breath or breathe fast in or near water'), ' (bath, pool, sea, plunge) or while driving. Fainting can come without warning. Do breath holds seated or lying down.'),
      h('li', h('strong', 'Do not combine breath holds with cold water.')),
      h('li', h('strong', 'Breathe gently.'), ' Small, slow breaths. Light-headedness or tingling means breathe smaller, or stop.'),
      h('li', h('strong', 'Power breathing and cold plunges'), ' ask a few health questions first. With heart or circulation problems, high blood pressure, pregnancy, epilepsy, asthma or COPD, or panic attacks, talk to a doctor before trying them.'),
      h('li', 'This coach may help you feel calmer. It is not a treatment for any illness and does not replace care from a professional.')),
    h('div.actions', h('button.primary', {
      type: 'button',
      onclick: async () => { await kv.set('safetySeen', true); location.hash = '#/'; },
    }, 'I understand'))));
}
