"""Opaque bearer tokens: issued at login, stored only as a hash, revoked at logout."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, or_, select, update

from ..extensions import db
from ..models import AuthToken, PushSubscription, User
from .addresses import normalise_email
from .passwords import WrongPassword, check_against_nobody, check_password, hash_password, needs_rehash

MAX_DEVICES = 10  # live tokens per account (api.md, Conventions: 409 beyond)
TOUCH_EVERY = timedelta(minutes=1)  # last use is written at most this often, not per request


class TooManyDevices(Exception):
    pass


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    user: User


@dataclass(frozen=True)
class Authenticated:
    user: User
    token_id: int


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(email: str, password: str, now: datetime, ttl_days: int, label: str = "") -> IssuedToken:
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        check_against_nobody(password)
        raise WrongPassword
    if not check_password(user, password):
        raise WrongPassword
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return issue_token(user, now, ttl_days, label)


def issue_token(user: User, now: datetime, ttl_days: int, label: str = "") -> IssuedToken:
    """A new bearer token for a user who has just proved who they are (password or passkey);
    TooManyDevices at the cap."""
    # Expired tokens of this user are swept here rather than by a job of their own.
    db.session.execute(delete(AuthToken).where(AuthToken.user_id == user.id, AuthToken.expires_at <= now))
    live = db.session.scalar(select(func.count()).select_from(AuthToken).where(AuthToken.user_id == user.id))
    if live >= MAX_DEVICES:
        db.session.rollback()
        raise TooManyDevices
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=ttl_days)
    db.session.add(AuthToken(user_id=user.id, token_hash=hash_token(token), created_at=now, expires_at=expires_at,
                             label=label, last_used_at=now))
    db.session.commit()
    return IssuedToken(token=token, expires_at=expires_at, user=user)


# Built once: it runs on every call, and building a statement costs more than running it.
_BY_TOKEN_HASH = (
    select(User, AuthToken.id, AuthToken.expires_at, AuthToken.last_used_at)
    .join(AuthToken, AuthToken.user_id == User.id)
    .where(AuthToken.token_hash == bindparam("token_hash"))
)
_T = AuthToken.__table__
_TOUCH = (
    update(_T)
    .where(_T.c.id == bindparam("token_id"), or_(_T.c.last_used_at.is_(None), _T.c.last_used_at <= bindparam("stale")))
    .values(last_used_at=bindparam("now"))
)


def authenticate_token(token: str, now: datetime) -> Authenticated | None:
    """The user and token id a bearer token belongs to, or None. The token is looked up by
    its hash, so no secret is ever compared byte by byte in Python. Its last use is written
    when a minute or more old."""
    row = db.session.execute(_BY_TOKEN_HASH, {"token_hash": hash_token(token)}).first()
    if row is None or row.expires_at <= now:
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        db.session.execute(_TOUCH, {"token_id": row.id, "stale": now - TOUCH_EVERY, "now": now})
        db.session.commit()
    return Authenticated(row.User, row.id)


def authenticate(token: str, now: datetime) -> User | None:
    found = authenticate_token(token, now)
    return found.user if found else None


def logout(token: str, push_endpoint: str | None = None) -> None:
    """Revoke the token; its push subscriptions go with it, and the one at `push_endpoint`
    (the browser's own, sent by the front end) when it belongs to the same account."""
    token_hash = hash_token(token)
    if push_endpoint:
        owner = select(AuthToken.user_id).where(AuthToken.token_hash == token_hash).scalar_subquery()
        db.session.execute(delete(PushSubscription).where(PushSubscription.endpoint == push_endpoint, PushSubscription.user_id == owner))
    token_id = select(AuthToken.id).where(AuthToken.token_hash == token_hash).scalar_subquery()
    db.session.execute(delete(PushSubscription).where(PushSubscription.auth_token_id == token_id))
    db.session.execute(delete(AuthToken).where(AuthToken.token_hash == token_hash))
    db.session.commit()
