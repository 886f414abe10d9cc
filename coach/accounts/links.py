"""Signed links in account emails (confirm an address, reset a password, "this wasn't me").

A link is an itsdangerous signature over [user id, nonce, tag, issued instant]. It is bound to
the account's current state: the nonce must still be the one on the account (a newer link,
a use, or a password change replaces or clears it), and the tag names what the link is about
(the address to confirm; for a reset, the password hash as it was, so a changed password
voids the link even without the nonce). The issued instant travels inside the signature and
is judged against an explicit `now`, so expiry is testable with a moved clock.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from itsdangerous import BadData, URLSafeSerializer

CONFIRM, RESET, NOT_ME = "confirm", "reset", "not-me"
LIFETIME = {CONFIRM: timedelta(days=7), RESET: timedelta(hours=1), NOT_ME: timedelta(days=30)}
MAX_TOKEN = 512


class BadLink(Exception):
    """Not a link we made, or one that is used, superseded or expired."""


@dataclass(frozen=True)
class Link:
    user_id: int
    nonce: str
    tag: str
    issued_at: datetime


def new_nonce() -> str:
    return secrets.token_hex(16)


def tag(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _serializer(secret_key: str, purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=f"coach.accounts.{purpose}")


def make(secret_key: str, purpose: str, user_id: int, nonce: str, tag_: str, issued_at: datetime) -> str:
    return _serializer(secret_key, purpose).dumps([user_id, nonce, tag_, int(issued_at.timestamp())])


def read(secret_key: str, purpose: str, token: object, now: datetime) -> Link:
    """The link's content if it is ours and not expired; BadLink otherwise (the caller then
    checks it against the account's current state)."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        raise BadLink
    try:
        payload = _serializer(secret_key, purpose).loads(token)
    except (BadData, ValueError, UnicodeError) as exc:
        raise BadLink from exc
    if not (isinstance(payload, list) and len(payload) == 4 and isinstance(payload[0], int)
            and isinstance(payload[1], str) and isinstance(payload[2], str) and isinstance(payload[3], int)):
        raise BadLink
    issued_at = datetime.fromtimestamp(payload[3], timezone.utc)
    if not (issued_at - timedelta(minutes=5) <= now <= issued_at + LIFETIME[purpose]):
        raise BadLink
    return Link(payload[0], payload[1], payload[2], issued_at)
