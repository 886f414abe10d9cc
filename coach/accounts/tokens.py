"""Opaque bearer tokens: issued at login, stored only as a hash, revoked at logout."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select

from ..extensions import db
from ..models import AuthToken, User
from .passwords import WrongPassword, check_against_nobody, check_password, hash_password, needs_rehash
from .addresses import normalise_email


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    user: User


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(email: str, password: str, now: datetime, ttl_days: int) -> IssuedToken:
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        check_against_nobody(password)
        raise WrongPassword
    if not check_password(user, password):
        raise WrongPassword
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=ttl_days)
    db.session.add(AuthToken(user_id=user.id, token_hash=hash_token(token), created_at=now, expires_at=expires_at))
    # Expired tokens of this user are swept here rather than by a job of their own.
    db.session.execute(delete(AuthToken).where(AuthToken.user_id == user.id, AuthToken.expires_at <= now))
    db.session.commit()
    return IssuedToken(token=token, expires_at=expires_at, user=user)


# Built once: it runs on every call, and building a statement costs more than running it.
_BY_TOKEN_HASH = (
    select(User, AuthToken.expires_at)
    .join(AuthToken, AuthToken.user_id == User.id)
    .where(AuthToken.token_hash == bindparam("token_hash"))
)


def authenticate(token: str, now: datetime) -> User | None:
    """The user a bearer token belongs to, or None. The token is looked up by its hash,
    so no secret is ever compared byte by byte in Python."""
    row = db.session.execute(_BY_TOKEN_HASH, {"token_hash": hash_token(token)}).first()
    if row is None or row.expires_at <= now:
        return None
    return row.User


def logout(token: str) -> None:
    db.session.execute(delete(AuthToken).where(AuthToken.token_hash == hash_token(token)))
    db.session.commit()
