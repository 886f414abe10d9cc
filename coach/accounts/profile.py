"""Accounts: registration, profile, erasure."""
from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..i18n import DEFAULT as DEFAULT_LANGUAGE
from ..models import User
from ..planning import plan_digest, replan_reminders
from . import confirmation
from .addresses import checked_address, normalise_email  # noqa: F401  (normalise_email: the limiter's key)
from .passwords import WrongPassword, check_password, hash_password


class EmailTaken(Exception):
    pass


def register(email: str, password: str, timezone: str, now: datetime, language: str = DEFAULT_LANGUAGE) -> User:
    """Create the account and queue its confirmation email (the weekly summary waits for it).
    `language`: a supported code (the route's best match of Accept-Language)."""
    user = User(
        email=checked_address(email),
        password_hash=hash_password(password),
        timezone=timezone,
        language=language,
        created_at=now,
    )
    plan_digest(user, now)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise EmailTaken from exc
    confirmation.start(user, now)
    db.session.commit()
    return user


def update_profile(user: User, changes: dict, now: datetime) -> User:
    """Apply a PATCH /api/me; a new time zone or digest schedule re-plans what depends on it."""
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
    if "language" in changes:
        user.language = changes["language"]
    if "email" in changes:
        try:
            confirmation.change_address(user, changes["email"], now)
        except confirmation.AddressTaken as exc:
            db.session.rollback()
            raise EmailTaken from exc
    if "timezone" in changes or digest:
        plan_digest(user, now)
    if "timezone" in changes:
        replan_reminders(user, now)
    db.session.commit()
    return user


def erase(user: User, password: str) -> None:
    """Delete the account and every row it owns (foreign keys cascade)."""
    if not check_password(user, password):
        raise WrongPassword
    db.session.execute(delete(User).where(User.id == user.id))
    db.session.commit()
