"""Helpers for the weekly summary tests: users planned from a chosen instant, sessions
written through the API, ticks at chosen instants, the messages parsed back."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from email.message import EmailMessage

from sqlalchemy import select

from coach.extensions import db
from coach.models import DigestDelivery, User
from coach.planning import plan_digest

from .accounts import signup
from .sessions import add

UTC = timezone.utc


def at(text: str) -> datetime:
    """'2026-11-22T17:00:00Z' → aware UTC."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def member(client, email: str, timezone: str, planned_from: datetime, **digest) -> dict:
    """A signed-up user whose digest is planned as if they had registered at `planned_from`
    (registration plans from the real clock), with optional digest settings."""
    who = signup(client, email, timezone=timezone)
    user = db.session.get(User, who["user"]["id"])
    for key, value in digest.items():
        setattr(user, f"digest_{key}", value)
    plan_digest(user, planned_from)
    db.session.commit()
    return who


def record(client, who, started: datetime, seconds: float, routine: str = "box", pre=None, post=None, **extra) -> dict:
    """A session of `seconds` through PUT /api/sessions/<uuid>."""
    return add(client, who, started, seconds / 60, routine, pre, post, **extra)


def user_of(who) -> User:
    db.session.expire_all()
    return db.session.get(User, who["user"]["id"])


def deliveries(who=None) -> list[tuple[str, str]]:
    """(iso_week, status) of every delivery row (of one user)."""
    db.session.expire_all()
    stmt = select(DigestDelivery.iso_week, DigestDelivery.status).order_by(DigestDelivery.id)
    if who is not None:
        stmt = stmt.where(DigestDelivery.user_id == who["user"]["id"])
    return [tuple(row) for row in db.session.execute(stmt)]


def text_part(msg: EmailMessage) -> str:
    return msg.get_body(("plain",)).get_content()


def html_part(msg: EmailMessage) -> str:
    return msg.get_body(("html",)).get_content()


def line(text: str, start: str) -> str:
    """The first line of `text` that starts with `start` (stripped)."""
    for candidate in text.splitlines():
        if candidate.strip().startswith(start):
            return candidate.strip()
    raise AssertionError(f"no line starting with {start!r} in:\n{text}")


def unsubscribe_path(msg: EmailMessage) -> str:
    match = re.fullmatch(r"<https://coach\.example(/unsubscribe/[^>]+)>", msg["List-Unsubscribe"])
    assert match, msg["List-Unsubscribe"]
    return match.group(1)
