"""One-click unsubscribe from the weekly summary (RFC 8058), with no login.

The token in the link is signed with the app's SECRET_KEY (itsdangerous) and carries the user
id and a short hash of the address it was sent to and of when the account was made, so it
cannot be forged, and an old link cannot switch off the summary of a later account that gets
the same id or registers the same address again.

There is no CSRF token here on purpose: the only thing a request can do is turn the digest
off for the one account named by a secret, unguessable token, which is safe to repeat and
what the mailbox provider's one-click POST must be able to do without a session.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone

from itsdangerous import BadData, URLSafeSerializer

from .extensions import db
from .models import User
from .planning import plan_digest

SALT = "coach.digest.unsubscribe"


class BadToken(Exception):
    """The link is not one we made (tampered, truncated or signed with another key)."""


@dataclass(frozen=True)
class Outcome:
    found: bool  # False: the account is gone (or the address changed): nothing to turn off
    email: str | None = None
    already_off: bool = False


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=SALT)


def account_tag(email: str, created_at: datetime) -> str:
    """Names one account: its address and the instant it was made (both stay as they were
    when the email went out, unless the account is replaced)."""
    key = f"{email.strip().lower()}\n{created_at.astimezone(timezone.utc).isoformat()}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class TokenMaker:
    """Signs tokens for many users with one serializer (the weekly tick signs thousands)."""

    def __init__(self, secret_key: str):
        self._serializer = _serializer(secret_key)

    def __call__(self, user_id: int, email: str, created_at: datetime) -> str:
        return self._serializer.dumps([user_id, account_tag(email, created_at)])


def make_token(secret_key: str, user: User) -> str:
    return TokenMaker(secret_key)(user.id, user.email, user.created_at)


def read_token(secret_key: str, token: str) -> tuple[int, str]:
    """(user id, account tag) from a token; BadToken when it was not signed by us."""
    if not isinstance(token, str) or len(token) > 512:
        raise BadToken
    try:
        payload = _serializer(secret_key).loads(token)
    except (BadData, ValueError, UnicodeError) as exc:
        raise BadToken from exc
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not isinstance(payload[0], int)
        or not isinstance(payload[1], str)
    ):
        raise BadToken
    return payload[0], payload[1]


def _owner(secret_key: str, token: str) -> User | None:
    user_id, tag = read_token(secret_key, token)
    user = db.session.get(User, user_id)
    if user is None or account_tag(user.email, user.created_at) != tag:
        return None
    return user


def look_up(secret_key: str, token: str) -> Outcome:
    """What the GET page shows before the button is pressed."""
    user = _owner(secret_key, token)
    if user is None:
        return Outcome(found=False)
    return Outcome(found=True, email=user.email, already_off=not user.digest_enabled)


def unsubscribe(secret_key: str, token: str, now: datetime) -> Outcome:
    """Turn the weekly summary off for the token's account (idempotent)."""
    user = _owner(secret_key, token)
    if user is None:
        return Outcome(found=False)
    already_off = not user.digest_enabled
    if not already_off:
        user.digest_enabled = False
        plan_digest(user, now)
        db.session.commit()
    return Outcome(found=True, email=user.email, already_off=already_off)
