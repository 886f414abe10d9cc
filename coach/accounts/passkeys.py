"""Passkeys (WebAuthn): register one while signed in, sign in with one, list, rename, delete.

py_webauthn does the cryptography and the ceremony checks; this module keeps the state the
checks need. Every challenge is stored (as its hash) when its options are handed out and
deleted when an answer names it, before anything else is looked at, so a challenge works
once, until it expires, and only for what it was made for: a registration challenge for the
user who asked for it, a sign-in challenge for the one ceremony its options started.
The relying party is the coach's public origin (COACH_PUBLIC_URL): its host is the RP id,
and it is the only origin a browser's answer may come from.

A passkey is added to an account, never in place of its password, so deleting the last
passkey leaves a person exactly as they were before they added it.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..extensions import db
from ..models import Passkey, PasskeyChallenge, User
from .tokens import IssuedToken, issue_token

RP_NAME = "Vagal-tone coach"
# Long enough to find the phone and unlock it; the browser is told the same (`timeout`).
CHALLENGE_TTL = timedelta(minutes=5)
MAX_PASSKEYS = 20  # per account: more than anyone has devices, few enough to list
NAME_MAX = 64
# What a malformed answer can make py_webauthn (and the base64url/CBOR/JSON decoders under
# it) raise: every one is the client's mistake, never the server's.
_BAD_INPUT = (WebAuthnException, ValueError, TypeError, KeyError, IndexError, AttributeError)
_TRANSPORTS = {t.value for t in AuthenticatorTransport}


class ChallengeRefused(Exception):
    """The answer's challenge is unknown, used, expired, or not this user's (or not for this)."""


class RegistrationRefused(Exception):
    """The new credential does not verify (origin, RP id, signature, malformed)."""


class PasskeyTaken(Exception):
    """That credential is already registered."""


class TooManyPasskeys(Exception):
    pass


class SignInRefused(Exception):
    """No sign-in: one reason for all, so an answer tells an attacker nothing."""


class NotFound(Exception):
    """No such passkey of this user's."""


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str

    @classmethod
    def from_public_url(cls, public_url: str) -> RelyingParty:
        parts = urlsplit(public_url)
        return cls(id=parts.hostname or "", origin=f"{parts.scheme}://{parts.netloc}")


def _hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def _store_challenge(challenge: bytes, purpose: str, now: datetime, user_id: int | None = None,
                     user_handle: str | None = None) -> None:
    # Expired challenges of everyone are swept here rather than by a job of their own.
    db.session.execute(delete(PasskeyChallenge).where(PasskeyChallenge.expires_at <= now))
    db.session.add(PasskeyChallenge(
        challenge_hash=_hash(challenge), purpose=purpose, user_id=user_id,
        user_handle=user_handle, expires_at=now + CHALLENGE_TTL,
    ))
    db.session.commit()


def _challenge_of(credential: dict[str, Any]) -> bytes:
    """The challenge the browser signed over, read from the answer's clientDataJSON."""
    client_data = json.loads(base64url_to_bytes(credential["response"]["clientDataJSON"]))
    challenge = client_data["challenge"]
    if not isinstance(challenge, str):
        raise TypeError("challenge is not a string")
    return base64url_to_bytes(challenge)


def _consume_challenge(challenge: bytes, purpose: str, now: datetime, user_id: int | None) -> PasskeyChallenge | None:
    """Delete the challenge if it is live and for this; committed at once, so an answer that
    then fails to verify has still used it up. None when there was no such challenge."""
    owner = PasskeyChallenge.user_id == user_id if user_id is not None else PasskeyChallenge.user_id.is_(None)
    row = db.session.execute(
        delete(PasskeyChallenge)
        .where(PasskeyChallenge.challenge_hash == _hash(challenge), PasskeyChallenge.purpose == purpose,
               owner, PasskeyChallenge.expires_at > now)
        .returning(PasskeyChallenge.user_handle)
    ).first()
    db.session.commit()
    return row


def registration_options(user: User, public_url: str, now: datetime) -> dict[str, Any]:
    """Creation options (WebAuthn JSON) for a new passkey of `user`: resident key required,
    user verification preferred, the user's own passkeys excluded."""
    rp = RelyingParty.from_public_url(public_url)
    existing = db.session.scalars(select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id)).all()
    handle = existing[0].user_handle if existing else bytes_to_base64url(secrets.token_bytes(32))
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=RP_NAME,
        user_name=user.email,
        user_display_name=user.email,
        user_id=base64url_to_bytes(handle),
        timeout=int(CHALLENGE_TTL.total_seconds() * 1000),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(
                id=base64url_to_bytes(p.credential_id),
                transports=[AuthenticatorTransport(t) for t in p.transports or [] if t in _TRANSPORTS] or None,
            )
            for p in existing
        ],
    )
    _store_challenge(options.challenge, "register", now, user_id=user.id, user_handle=handle)
    return json.loads(options_to_json(options))


def _clean_name(name: str | None) -> str | None:
    name = " ".join((name or "").split())
    return name[:NAME_MAX] or None


def register(user: User, credential: dict[str, Any], name: str | None, public_url: str, now: datetime) -> Passkey:
    """Keep the passkey a browser made from `registration_options` for this same user."""
    rp = RelyingParty.from_public_url(public_url)
    try:
        challenge = _challenge_of(credential)
    except _BAD_INPUT as exc:
        raise ChallengeRefused from exc
    row = _consume_challenge(challenge, "register", now, user.id)
    if row is None:
        raise ChallengeRefused
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.id, expected_origin=rp.origin,
        )
    except _BAD_INPUT as exc:
        raise RegistrationRefused(str(exc)) from exc
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.session.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id)) is not None:
        raise PasskeyTaken
    count = db.session.scalar(select(func.count()).select_from(Passkey).where(Passkey.user_id == user.id))
    if count >= MAX_PASSKEYS:
        raise TooManyPasskeys
    transports = credential.get("response", {}).get("transports")
    transports = [t for t in transports if t in _TRANSPORTS][:8] if isinstance(transports, list) else None
    passkey = Passkey(
        user_id=user.id, credential_id=credential_id, public_key=verified.credential_public_key,
        sign_count=verified.sign_count, user_handle=row.user_handle, transports=transports,
        name=_clean_name(name) or f"Passkey {count + 1}", created_at=now,
    )
    db.session.add(passkey)
    try:
        db.session.commit()
    except IntegrityError as exc:  # the same credential registered by a request running alongside
        db.session.rollback()
        raise PasskeyTaken from exc
    return passkey


def authentication_options(public_url: str, now: datetime) -> dict[str, Any]:
    """Request options (WebAuthn JSON) for signing in with any passkey on the device: no
    allowCredentials, so no email is needed and none is revealed."""
    rp = RelyingParty.from_public_url(public_url)
    options = generate_authentication_options(
        rp_id=rp.id,
        timeout=int(CHALLENGE_TTL.total_seconds() * 1000),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    _store_challenge(options.challenge, "login", now)
    return json.loads(options_to_json(options))


def sign_in(credential: dict[str, Any], public_url: str, now: datetime, ttl_days: int, label: str = "") -> IssuedToken:
    """A bearer token, exactly as a password login issues one, for a verified assertion over
    a live sign-in challenge whose signature counter moved on."""
    rp = RelyingParty.from_public_url(public_url)
    try:
        challenge = _challenge_of(credential)
    except _BAD_INPUT as exc:
        raise SignInRefused from exc
    if _consume_challenge(challenge, "login", now, None) is None:
        raise SignInRefused
    credential_id = credential.get("id")
    passkey = db.session.scalar(select(Passkey).where(Passkey.credential_id == credential_id)) if isinstance(credential_id, str) else None
    if passkey is None:
        raise SignInRefused
    user_handle = credential.get("response", {}).get("userHandle")
    if user_handle is not None and user_handle != passkey.user_handle:
        raise SignInRefused
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.id, expected_origin=rp.origin,
            credential_public_key=passkey.public_key, credential_current_sign_count=passkey.sign_count,
        )
    except _BAD_INPUT as exc:
        raise SignInRefused from exc
    # Compare-and-set on the counter just checked: of two sign-ins racing with one count,
    # only one moves it (a cloned authenticator shows up as a counter that does not move on).
    moved = db.session.execute(
        update(Passkey)
        .where(Passkey.id == passkey.id, Passkey.sign_count == passkey.sign_count)
        .values(sign_count=verified.new_sign_count, last_used_at=now)
    ).rowcount
    if moved != 1:
        db.session.rollback()
        raise SignInRefused
    user = db.session.get(User, passkey.user_id)
    return issue_token(user, now, ttl_days, label)


def list_passkeys(user: User) -> list[Passkey]:
    return list(db.session.scalars(select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.created_at, Passkey.id)))


def _own(user: User, passkey_id: int) -> Passkey:
    passkey = db.session.scalar(select(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user.id))
    if passkey is None:
        raise NotFound
    return passkey


def rename(user: User, passkey_id: int, name: str) -> Passkey:
    passkey = _own(user, passkey_id)
    cleaned = _clean_name(name)
    if cleaned is None:
        raise ValueError("empty name")
    passkey.name = cleaned
    db.session.commit()
    return passkey


def delete_passkey(user: User, passkey_id: int) -> None:
    """The passkey stops working at once. Signed-in devices stay signed in, and the password
    still works: the last passkey can go like any other."""
    db.session.delete(_own(user, passkey_id))
    db.session.commit()
