"""Accounts: registration, login with opaque bearer tokens, profile, erasure."""
from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import AuthToken, User

_hasher = PasswordHasher()


@functools.lru_cache(maxsize=2)
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Verified against when the email is unknown, so a login takes as long either way. Made
    by the hasher in use (once), so its cost is always that of a real account's hash."""
    return hasher.hash("not a real password, only for timing")


class EmailTaken(Exception):
    pass


class WrongPassword(Exception):
    pass


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    user: User


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def register(email: str, password: str, timezone: str, now: datetime) -> User:
    from .digest.schedule import plan_digest

    user = User(
        email=normalise_email(email),
        password_hash=_hasher.hash(password),
        timezone=timezone,
        created_at=now,
    )
    plan_digest(user, now)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise EmailTaken from exc
    return user


def check_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def login(email: str, password: str, now: datetime, ttl_days: int) -> IssuedToken:
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        check_password(User(password_hash=_dummy_hash(_hasher)), password)
        raise WrongPassword
    if not check_password(user, password):
        raise WrongPassword
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
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


_USERS = User.__table__
# On the table, not the class: an ORM UPDATE would first look for the row among loaded objects.
_COUNT_WRITE = update(_USERS).where(_USERS.c.id == bindparam("user_id")).values(data_version=_USERS.c.data_version + 1)


def note_data_changed(user: User) -> None:
    """Count a write to the user's sessions or custom routines, in the caller's transaction
    (an atomic increment, so two concurrent writes count twice)."""
    db.session.execute(_COUNT_WRITE, {"user_id": user.id})


def logout(token: str) -> None:
    db.session.execute(delete(AuthToken).where(AuthToken.token_hash == hash_token(token)))
    db.session.commit()


def update_profile(user: User, changes: dict, now: datetime) -> User:
    """Apply a PATCH /api/me; a new time zone or digest schedule re-plans what depends on it."""
    from .digest.schedule import plan_digest
    from .reminders import replan_all

    digest = changes.get("digest") or {}
    if "enabled" in digest:
        user.digest_enabled = digest["enabled"]
    if "weekday" in digest:
        user.digest_weekday = digest["weekday"]
    if "local_time" in digest:
        user.digest_local_time = digest["local_time"]
    if "send_empty" in digest:
        user.digest_send_empty = digest["send_empty"]
    if "resonance_bpm" in changes:
        # Decimal, so 5.55 rounds half-up to 5.6 as a person expects (float round gives 5.5).
        user.resonance_bpm = float(Decimal(str(changes["resonance_bpm"])).quantize(Decimal("0.1"), ROUND_HALF_UP))
    if "timezone" in changes:
        user.timezone = changes["timezone"]
    if "timezone" in changes or digest:
        plan_digest(user, now)
    if "timezone" in changes:
        replan_all(user, now)
    db.session.commit()
    return user


def erase(user: User, password: str) -> None:
    """Delete the account and every row it owns (foreign keys cascade)."""
    if not check_password(user, password):
        raise WrongPassword
    db.session.execute(delete(User).where(User.id == user.id))
    db.session.commit()
