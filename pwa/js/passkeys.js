// Passkeys (WebAuthn): sign in with the phone's own lock instead of a password, add one to the
// account, and the Settings card that lists, renames and deletes them. Options and answers
// travel as WebAuthn JSON; where the browser cannot parse that itself (parse*FromJSON,
// toJSON), the few binary members are converted here.
import { h, errorBox, busy, toast, fmtDate } from './ui.js';
import { get, post, patch, del } from './api.js';

const hasWebAuthn = () => typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;

/** What this browser and device can do: {webauthn, platform, conditional}. */
export async function support() {
  if (!hasWebAuthn()) return { webauthn: false, platform: false, conditional: false };
  const ask = async (fn) => { try { return !!(await fn()); } catch { return false; } };
  const PKC = window.PublicKeyCredential;
  return {
    webauthn: true,
    platform: await ask(() => PKC.isUserVerifyingPlatformAuthenticatorAvailable?.()),
    conditional: await ask(() => PKC.isConditionalMediationAvailable?.()),
  };
}

// base64url <-> ArrayBuffer, only for browsers without the JSON helpers.
const toBuffer = (text) => {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
};
const toText = (buffer) => {
  if (buffer === null || buffer === undefined) return undefined;
  let bin = '';
  for (const byte of new Uint8Array(buffer)) bin += String.fromCharCode(byte);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};
const descriptors = (list) => (list || []).map((d) => ({ ...d, id: toBuffer(d.id) }));

function creationOptions(json) {
  if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  return { ...json, challenge: toBuffer(json.challenge), user: { ...json.user, id: toBuffer(json.user.id) }, excludeCredentials: descriptors(json.excludeCredentials) };
}

function requestOptions(json) {
  if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  return { ...json, challenge: toBuffer(json.challenge), allowCredentials: descriptors(json.allowCredentials) };
}

function credentialJSON(cred) {
  if (typeof cred.toJSON === 'function') return cred.toJSON();
  const r = cred.response;
  const response = { clientDataJSON: toText(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = toText(r.attestationObject);
    response.transports = r.getTransports?.() || [];
  } else {
    response.authenticatorData = toText(r.authenticatorData);
    response.signature = toText(r.signature);
    if (r.userHandle) response.userHandle = toText(r.userHandle);
  }
  return {
    id: cred.id, rawId: toText(cred.rawId), type: cred.type,
    authenticatorAttachment: cred.authenticatorAttachment ?? null,
    clientExtensionResults: cred.getClientExtensionResults?.() || {},
    response,
  };
}

/** A browser's refusal in plain words; null when the person simply changed their mind. */
export function plainWords(err, adding) {
  const name = err?.name;
  if (name === 'AbortError') return null;
  if (name === 'NotAllowedError') return adding ? 'No passkey was added.' : 'No passkey was used. You can try again, or log in with your password.';
  if (name === 'InvalidStateError') return 'This device already holds a passkey for your account.';
  if (name === 'SecurityError') return 'Passkeys only work on the coach’s own secure address.';
  if (name === 'NotSupportedError') return 'This device cannot make a passkey. You can add one from a phone or computer that can.';
  return err?.message || String(err);
}

/** Make a passkey on this device for the signed-in account; resolves the new {id, name, created_at}. */
export async function addPasskey(name) {
  const options = await post('/api/auth/passkeys/register/options');
  const cred = await navigator.credentials.create({ publicKey: creationOptions(options) });
  return post('/api/auth/passkeys/register', name ? { credential: credentialJSON(cred), name } : { credential: credentialJSON(cred) });
}

/**
 * Sign in with any passkey of this site on the device. `conditional` waits for the person to
 * pick one from the email field's autofill instead of opening a sheet. Resolves the login
 * answer {token, expires_at, user}.
 */
export async function signInWithPasskey({ conditional = false, signal } = {}) {
  const options = await post('/api/auth/passkeys/login/options', {}, { auth: false });
  const cred = await navigator.credentials.get({
    publicKey: requestOptions(options), signal, ...(conditional ? { mediation: 'conditional' } : {}),
  });
  return post('/api/auth/passkeys/login', { credential: credentialJSON(cred) }, { auth: false });
}

/** A name for a passkey made here, e.g. "Android phone", so the list says which is which. */
export function deviceName() {
  const ua = navigator.userAgent;
  if (/iPhone/.test(ua)) return 'iPhone';
  if (/iPad/.test(ua) || (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1)) return 'iPad';
  if (/Android/.test(ua)) return /Mobile/.test(ua) ? 'Android phone' : 'Android tablet';
  if (/Mac OS X/.test(ua)) return 'Mac';
  if (/Windows/.test(ua)) return 'Windows computer';
  if (/CrOS/.test(ua)) return 'Chromebook';
  if (/Linux/.test(ua)) return 'Linux computer';
  return '';
}

const offeredKey = (userId) => `coach.passkeyOffered.${userId}`;

/**
 * After a password sign-in: true once per account on this device, when it can make a
 * passkey and the account has none yet. (localStorage: logging out clears IndexedDB, and
 * the offer is not made twice.)
 */
export async function shouldOffer(userId) {
  try {
    if (localStorage.getItem(offeredKey(userId))) return false;
    if (!(await support()).platform) return false;
    return (await get('/api/auth/passkeys')).length === 0;
  } catch {
    return false;
  }
}

/** The one-time offer after a password sign-in; `done()` continues to where the app was going. */
export function offerCard(userId, done) {
  localStorage.setItem(offeredKey(userId), '1');
  const err = errorBox();
  const add = h('button.primary', { type: 'button' }, 'Add a passkey');
  add.addEventListener('click', () => busy(add, err, async () => {
    try {
      await addPasskey(deviceName());
    } catch (e) {
      const words = plainWords(e, true);
      if (words) err.show(new Error(words));
      return;
    }
    toast('Passkey added. Next time, sign in with your screen lock.');
    await done();
  }));
  return h('section.screen',
    h('h1', 'Sign in faster next time'),
    h('div.card',
      h('p', 'Add a passkey and sign in with this device’s screen lock (face, fingerprint or PIN) instead of typing your password.'),
      h('p.small.muted', 'Your password keeps working, for devices without passkeys.'),
      err,
      h('div.actions', add, h('button.link', { type: 'button', onclick: () => done() }, 'Not now'))));
}

/** Settings: the account's passkeys (name, created, last used), rename, delete, add. */
export function passkeysCard() {
  const err = errorBox();
  const list = h('ul.passkey-list', { 'aria-label': 'Your passkeys' });
  const note = h('p.small.muted');
  const add = h('button.secondary', { type: 'button' }, 'Add a passkey');

  const row = (p) => {
    const title = h('strong.passkey-name', p.name);
    const meta = h('span.small.muted', `Added ${fmtDate(p.created_at, { day: 'numeric', month: 'short', year: 'numeric' })} · `
      + (p.last_used_at ? `last used ${fmtDate(p.last_used_at, { day: 'numeric', month: 'short', year: 'numeric' })}` : 'not used yet'));
    const rename = h('button.link', { type: 'button', 'aria-label': `Rename ${p.name}` }, 'Rename');
    const remove = h('button.link.danger-text', { type: 'button', 'aria-label': `Delete ${p.name}` }, 'Delete');
    const li = h('li.passkey', h('div.passkey-main', title, meta), h('div.passkey-tools', rename, remove));
    rename.addEventListener('click', () => {
      const input = h('input', { type: 'text', value: p.name, maxLength: 64, required: true, 'aria-label': 'Passkey name' });
      const save = h('button.secondary', { type: 'submit' }, 'Save');
      const form = h('form.passkey-rename', {
        onsubmit: (ev) => {
          ev.preventDefault();
          busy(save, err, async () => { await patch(`/api/auth/passkeys/${p.id}`, { name: input.value }); await refresh(); });
        },
      }, input, h('div.actions', save, h('button.link', { type: 'button', onclick: () => refresh() }, 'Cancel')));
      li.replaceChildren(form);
      input.focus();
    });
    remove.addEventListener('click', () => busy(remove, err, async () => {
      if (!confirm(`Delete the passkey “${p.name}”? You can still log in with your password.`)) return;
      await del(`/api/auth/passkeys/${p.id}`);
      toast('Passkey deleted');
      await refresh();
    }));
    return li;
  };

  async function refresh() {
    const items = await get('/api/auth/passkeys');
    list.replaceChildren(...(items.length ? items.map(row) : [h('li.muted', 'No passkeys yet.')]));
  }

  add.addEventListener('click', () => busy(add, err, async () => {
    try {
      const made = await addPasskey(deviceName());
      toast(`Passkey “${made.name}” added`);
    } catch (e) {
      const words = plainWords(e, true);
      if (words) throw new Error(words);
    }
    await refresh();
  }));

  support().then((can) => {
    if (!can.webauthn) {
      add.hidden = true;
      note.textContent = 'This browser cannot make passkeys. You can add one from a phone or computer that can, and keep using your password here.';
    } else if (!can.platform) {
      note.textContent = 'This device has no built-in passkey support; adding one may ask for a security key or your phone.';
    }
  });
  refresh().catch((e) => err.show(e));
  return h('div.card.passkeys',
    h('h2', 'Passkeys'),
    h('p.small.muted', 'Sign in with your device’s screen lock instead of your password. Your password keeps working.'),
    list, note, err, h('div.actions', add));
}
