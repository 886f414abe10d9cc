"""Practice sessions with their before and after ratings.

The client makes each session's uuid, so a phone that was offline can send a session later
and send it again without doubling it: `save` is an idempotent PUT, scoped per user.
"""
from __future__ import annotations

import binascii
import functools
import json
import math
import uuid as uuidlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, bindparam, delete, func, or_, select

from .. import dialect
from ..accounts.data_version import note_data_changed
from ..dialect import insert
from ..extensions import db
from ..models import PracticeSession, User
from ..models.practice import duration_of
from ..routines import screening
from ..routines.service import get_routine
from ..timeutil import local_to_utc, zone
from . import days

UTC = timezone.utc
MAX_AHEAD = timedelta(days=1)  # phone clocks drift; a day ahead is already absurd
MAX_DURATION = timedelta(hours=24)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
RATINGS = ("mood", "anxiety", "energy")
MAX_SESSIONS_PER_DAY = 100  # new ones per local day (api.md, Conventions): no honest person meets it
SHORT_SECONDS = 60  # practised for less: kept and listed, counted nowhere (api.md)


class InvalidSession(Exception):
    """The body is well-formed but does not make sense; `errors` maps fields to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


class TooManyToday(Exception):
    """The day's new sessions are used up; `retry_after` seconds until the user's midnight."""

    def __init__(self, cap: int, retry_after: int):
        super().__init__(cap, retry_after)
        self.cap, self.retry_after = cap, retry_after


class NotAllowed(Exception):
    """The routine may not be recorded for this user (the screening seam); `reason` in plain words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def check_times(started_at: datetime, ended_at: datetime | None, now: datetime) -> dict[str, list[str]]:
    """Field errors for the session's instants (empty when they make sense)."""
    errors: dict[str, list[str]] = {}
    if started_at < EARLIEST:
        errors["started_at"] = ["That is before the year 2000; please check the date."]
    elif started_at > now + MAX_AHEAD:
        errors["started_at"] = ["That is more than a day in the future; please check the device clock."]
    if ended_at is not None:
        if ended_at < started_at:
            errors["ended_at"] = ["The end must not be before the start."]
        elif ended_at - started_at > MAX_DURATION:
            errors["ended_at"] = ["A session can last at most 24 hours."]
        elif ended_at > now + MAX_AHEAD:
            errors["ended_at"] = ["That is more than a day in the future; please check the device clock."]
    return errors


def _resolve_routine(user: User, slug: str) -> dict:
    routine = get_routine(user, slug)
    if routine is None:
        raise InvalidSession({"routine": [f"There is no routine called “{slug}”."]})
    return routine


def practised_seconds(started_at: datetime, ended_at: datetime | None, completed_cycles: int | None, routine: dict) -> float | None:
    """How long the person practised: ended_at − started_at, or the completed cycles' length
    when that is less (an app left open after two cycles practised two cycles). None when
    neither is known."""
    known = []
    if ended_at is not None:
        known.append((ended_at - started_at).total_seconds())
    cycle = sum(float(p.get("seconds") or 0) for p in routine.get("phases") or [])
    if completed_cycles is not None and cycle > 0:
        known.append(completed_cycles * cycle)
    return min(known) if known else None


def is_short(started_at: datetime, ended_at: datetime | None, completed_cycles: int | None, routine: dict) -> bool:
    practised = practised_seconds(started_at, ended_at, completed_cycles, routine)
    return practised is not None and practised < SHORT_SECONDS


def _columns(data: dict, routine: dict) -> dict[str, Any]:
    """The row's values for a validated body (a PUT replaces every field)."""
    started_at = data["started_at"].astimezone(UTC)
    ended_at = data.get("ended_at")
    ended_at = ended_at.astimezone(UTC) if ended_at is not None else None
    pre = data.get("pre") or {}
    post = data.get("post") or {}
    details = {k: v for k, v in (data.get("details") or {}).items() if v is not None}
    values: dict[str, Any] = {
        "routine": routine["slug"],
        "started_at": started_at,
        "ended_at": ended_at,
        "duration_seconds": duration_of(started_at, ended_at),
        "completed_cycles": data.get("completed_cycles"),
        "planned_cycles": routine.get("cycles"),
        "short": is_short(started_at, ended_at, data.get("completed_cycles"), routine),
        "post_note": post.get("note") or None,
        "details": details or None,
    }
    for name in RATINGS:
        values[f"pre_{name}"] = pre.get(name)
        values[f"post_{name}"] = post.get(name)
    return values


def _find(user_id: int, session_uuid: uuidlib.UUID) -> PracticeSession | None:
    return db.session.scalar(
        select(PracticeSession).where(PracticeSession.user_id == user_id, PracticeSession.uuid == session_uuid)
    )


_TABLE = PracticeSession.__table__
# A stored session's columns as plain values, for days.record: built once, no ORM object.
_STORED = select(_TABLE).where(
    _TABLE.c.user_id == bindparam("user_id"), _TABLE.c.uuid == bindparam("uuid", type_=_TABLE.c.uuid.type)
)


def _stored(user_id: int, session_uuid: uuidlib.UUID):
    return db.session.execute(_STORED, {"user_id": user_id, "uuid": session_uuid}).mappings().first()
# What a PUT replaces: every column but the row's identity and its creation time.
_REPLACED = tuple(c.name for c in _TABLE.columns if c.name not in ("id", "user_id", "uuid", "created_at"))


@functools.cache
def _upsert(dialect: str):
    """INSERT … ON CONFLICT (user_id, uuid) DO UPDATE, built once per database kind: every
    value is a bound parameter, so a PUT only binds its row."""
    stmt = insert(_TABLE, dialect)
    return stmt.on_conflict_do_update(
        index_elements=["user_id", "uuid"], set_={name: stmt.excluded[name] for name in _REPLACED}
    ).returning(_TABLE.c.created_at).execution_options(**{days.KEPT: True})


def save(
    user: User, session_uuid: uuidlib.UUID, data: dict, now: datetime, day_cap: int | None = MAX_SESSIONS_PER_DAY
) -> tuple[PracticeSession, bool]:
    """Create or replace the user's session `session_uuid`; returns (session, created).

    Everything is validated before anything is written, then one upsert writes the row, so
    two PUTs of the same new uuid racing each other leave one session. Another user's
    session with the same uuid is never looked at: the uuid is unique per user only. The
    session returned holds what was stored (it is not attached to the database session).
    """
    routine = _resolve_routine(user, data["routine"])
    errors = check_times(data["started_at"], data.get("ended_at"), now)
    if errors:
        raise InvalidSession(errors)
    values = _columns(data, routine)
    reason = screening.check(user, routine)
    if reason is not None:
        # Screening gates new practice. A phone re-sending a session it already stored
        # (its outbox retries) is not refused, so nothing done is lost.
        stored = _find(user.id, session_uuid)
        if stored is None or stored.routine != routine["slug"]:
            raise NotAllowed(reason)
    if day_cap is not None:
        check_day_cap(user, session_uuid, now, day_cap)
    key = {"user_id": user.id, "uuid": session_uuid}
    row = {**key, **values, "created_at": now, "updated_at": now}
    days.lock(user)  # first: the session as it was is read under the lock
    before = _stored(user.id, session_uuid)
    created_at = db.session.execute(_upsert(dialect.name()), row).scalar_one()
    days.record(user, before, {**key, **values})
    note_data_changed(user)
    db.session.commit()
    # A row made by this call carries this call's `now` (a replaced one, an earlier time).
    return PracticeSession(**key, **values, created_at=created_at, updated_at=now), created_at == now


def check_day_cap(user: User, session_uuid: uuidlib.UUID, now: datetime, cap: int = MAX_SESSIONS_PER_DAY) -> None:
    """A user saves at most `cap` new sessions in one local day (by when they arrive, so
    history cannot be back-filled faster); an edit of a stored one always goes.
    The user's row is locked first, so simultaneous PUTs are counted one after another."""
    dialect.lock_row(User.__table__, user.id)
    tz = zone(user.timezone)
    today = now.astimezone(tz).date()
    start, end = (local_to_utc(day, time(0), tz) for day in (today, today + timedelta(days=1)))
    made_today = db.session.scalar(
        select(func.count()).select_from(PracticeSession).where(
            PracticeSession.user_id == user.id, PracticeSession.created_at >= start, PracticeSession.created_at < end
        )
    )
    if made_today >= cap and _find(user.id, session_uuid) is None:
        db.session.rollback()  # let the lock go at once
        raise TooManyToday(cap, math.ceil((end - now).total_seconds()))


def get(user: User, session_uuid: uuidlib.UUID) -> PracticeSession | None:
    """The user's own session, or None (someone else's is None too)."""
    return _find(user.id, session_uuid)


def remove(user: User, session_uuid: uuidlib.UUID) -> bool:
    """Delete the user's own session; False when there is none."""
    days.lock(user)
    before = _stored(user.id, session_uuid)
    if before is None:
        db.session.rollback()
        return False
    db.session.execute(
        delete(PracticeSession)
        .where(PracticeSession.user_id == user.id, PracticeSession.uuid == session_uuid)
        .execution_options(**{days.KEPT: True})
    )
    days.record(user, before, None)
    note_data_changed(user)
    db.session.commit()
    return True


# --- listing, newest first, with an opaque keyset cursor ---------------------------------

@dataclass(frozen=True)
class PageKey:
    """Where a page ends: the last item's (started_at, id)."""

    started_at: datetime
    id: int


@dataclass(frozen=True)
class Page:
    items: list[PracticeSession]
    next_key: PageKey | None


def list_sessions(
    user: User,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    routine: str | None = None,
    limit: int = 20,
    after: PageKey | None = None,
) -> Page:
    """The user's sessions with start ≤ started_at < end, newest first (started_at, then id)."""
    stmt = select(PracticeSession).where(PracticeSession.user_id == user.id)
    if start is not None:
        stmt = stmt.where(PracticeSession.started_at >= start)
    if end is not None:
        stmt = stmt.where(PracticeSession.started_at < end)
    if routine:
        stmt = stmt.where(PracticeSession.routine == routine)
    if after is not None:
        stmt = stmt.where(
            or_(
                PracticeSession.started_at < after.started_at,
                and_(PracticeSession.started_at == after.started_at, PracticeSession.id < after.id),
            )
        )
    stmt = stmt.order_by(PracticeSession.started_at.desc(), PracticeSession.id.desc()).limit(limit + 1)
    rows = list(db.session.scalars(stmt))
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(rows, PageKey(rows[-1].started_at, rows[-1].id))
    return Page(rows, None)


_CURSOR_SALT = "sessions-cursor"


def encode_cursor(key: PageKey, secret: str) -> str:
    """An opaque, signed, base64url token for `key` (a client cannot forge or alter it)."""
    return URLSafeSerializer(secret, salt=_CURSOR_SALT).dumps([key.started_at.isoformat(), key.id])


def decode_cursor(token: str, secret: str) -> PageKey:
    """The key in a cursor from `encode_cursor`; ValueError for anything else."""
    try:
        started, row_id = URLSafeSerializer(secret, salt=_CURSOR_SALT).loads(token)
        started_at = datetime.fromisoformat(started)
    except (BadSignature, ValueError, TypeError, binascii.Error, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError("not a cursor from this server") from exc
    if started_at.tzinfo is None or not isinstance(row_id, int) or isinstance(row_id, bool):
        raise ValueError("not a cursor from this server")
    return PageKey(started_at.astimezone(UTC), row_id)


# --- the stored shape, shared by the API and the export ----------------------------------

def _rating(session: PracticeSession, when: str) -> dict | None:
    mood = getattr(session, f"{when}_mood")
    if mood is None:
        return None
    rating = {name: getattr(session, f"{when}_{name}") for name in RATINGS}
    if when == "post":
        rating["note"] = session.post_note
    return rating


def is_partial(session: PracticeSession) -> bool:
    """Fewer cycles done than the routine planned (False when either is unknown)."""
    return (
        session.completed_cycles is not None
        and session.planned_cycles is not None
        and session.completed_cycles < session.planned_cycles
    )


def to_dict(session: PracticeSession) -> dict[str, Any]:
    return {
        "uuid": str(session.uuid),
        "routine": session.routine,
        "started_at": session.started_at,
        "ended_at": session.ended_at,
        "completed_cycles": session.completed_cycles,
        "planned_cycles": session.planned_cycles,
        "pre": _rating(session, "pre"),
        "post": _rating(session, "post"),
        "details": session.details,
        "duration_seconds": session.duration_seconds,
        "partial": is_partial(session),
        "short": bool(session.short),
        "created_at": session.created_at,
        "updated_at": session.updated_at,
    }


__all__ = [
    "InvalidSession",
    "MAX_SESSIONS_PER_DAY",
    "NotAllowed",
    "TooManyToday",
    "Page",
    "PageKey",
    "check_day_cap",
    "check_times",
    "decode_cursor",
    "encode_cursor",
    "get",
    "is_partial",
    "is_short",
    "list_sessions",
    "remove",
    "save",
    "to_dict",
]
