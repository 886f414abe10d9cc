"""Custom routines, practice sessions with their pre and post ratings, and plan enrolments."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    event,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class CustomRoutine(db.Model):
    """A user's own routine; `definition` holds the validated routine body (phases, cycles…)."""

    __tablename__ = "custom_routines"
    __table_args__ = (UniqueConstraint("user_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PlanEnrolment(db.Model):
    """The local day a person began a progressive plan: kept on the server so every device
    shows the same day. Deleting it stops the plan."""

    __tablename__ = "plan_enrolments"
    __table_args__ = (UniqueConstraint("user_id", "plan"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    plan: Mapped[str] = mapped_column(String(64))
    start: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PracticeSession(db.Model):
    """One practice session. The client makes the uuid; it is unique per user, so two
    users' uuids never collide or reveal one another."""

    __tablename__ = "practice_sessions"
    __table_args__ = (
        UniqueConstraint("user_id", "uuid"),
        Index("ix_sessions_user_started", "user_id", "started_at", "id"),
        Index("ix_sessions_user_created", "user_id", "created_at"),  # the day's new sessions (the cap)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    routine: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_cycles: Mapped[int | None] = mapped_column(Integer)
    # Kept at write time so sums and `partial` need no date arithmetic in SQL and do not
    # change when a custom routine is edited later.
    duration_seconds: Mapped[int | None] = mapped_column(Integer)  # None without ended_at
    planned_cycles: Mapped[int | None] = mapped_column(Integer)  # the routine's cycles then
    # Practised for less than a minute (sessions.is_short, decided at write time): kept and
    # listed, counted nowhere.
    short: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Ratings are columns, not JSON, so summaries aggregate them in SQL.
    pre_mood: Mapped[int | None] = mapped_column(SmallInteger)
    pre_anxiety: Mapped[int | None] = mapped_column(SmallInteger)
    pre_energy: Mapped[int | None] = mapped_column(SmallInteger)
    post_mood: Mapped[int | None] = mapped_column(SmallInteger)
    post_anxiety: Mapped[int | None] = mapped_column(SmallInteger)
    post_energy: Mapped[int | None] = mapped_column(SmallInteger)
    post_note: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


@event.listens_for(PracticeSession, "before_insert")
@event.listens_for(PracticeSession, "before_update")
def _keep_duration(_mapper, _connection, session: PracticeSession) -> None:
    """duration_seconds follows started_at/ended_at whoever writes the row through the ORM
    (seeds, tests); the API's upsert sets it with the same function."""
    session.duration_seconds = duration_of(session.started_at, session.ended_at)


def duration_of(started_at: datetime | None, ended_at: datetime | None) -> int | None:
    if ended_at is None or started_at is None:
        return None
    return round((ended_at - started_at).total_seconds())


# --- per-day sums of a user's sessions (practice/days.py keeps them) -------------------------

MEASURES = ("n", "sum_d", "sum_d2", "sum_x", "sum_x2", "sum_xd")  # as practice.sums.MeasureSums
SUM_COLUMNS = ("sessions", "seconds", *(f"{r}_{m}" for r in ("mood", "anxiety", "energy") for m in MEASURES))


class PracticeDayState(db.Model):
    """Whose per-day sums are complete, and in which zone their days are counted. No row (or
    another zone than the user's) means they are rebuilt from the sessions at the next read.
    Every write to a user's sessions locks this row first, so writes and rebuilds never cross."""

    __tablename__ = "practice_day_state"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    timezone: Mapped[str | None] = mapped_column(String(64))  # None: not built


class _Sums:
    """The count, seconds and rating sums of a group of counted (not short) sessions: the
    integers practice.sums.columns() gives over the sessions themselves."""

    sessions: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[int] = mapped_column(Integer, default=0)
    mood_n: Mapped[int] = mapped_column(Integer, default=0)
    mood_sum_d: Mapped[int] = mapped_column(Integer, default=0)
    mood_sum_d2: Mapped[int] = mapped_column(Integer, default=0)
    mood_sum_x: Mapped[int] = mapped_column(Integer, default=0)
    mood_sum_x2: Mapped[int] = mapped_column(Integer, default=0)
    mood_sum_xd: Mapped[int] = mapped_column(Integer, default=0)
    anxiety_n: Mapped[int] = mapped_column(Integer, default=0)
    anxiety_sum_d: Mapped[int] = mapped_column(Integer, default=0)
    anxiety_sum_d2: Mapped[int] = mapped_column(Integer, default=0)
    anxiety_sum_x: Mapped[int] = mapped_column(Integer, default=0)
    anxiety_sum_x2: Mapped[int] = mapped_column(Integer, default=0)
    anxiety_sum_xd: Mapped[int] = mapped_column(Integer, default=0)
    energy_n: Mapped[int] = mapped_column(Integer, default=0)
    energy_sum_d: Mapped[int] = mapped_column(Integer, default=0)
    energy_sum_d2: Mapped[int] = mapped_column(Integer, default=0)
    energy_sum_x: Mapped[int] = mapped_column(Integer, default=0)
    energy_sum_x2: Mapped[int] = mapped_column(Integer, default=0)
    energy_sum_xd: Mapped[int] = mapped_column(Integer, default=0)


class PracticeDay(_Sums, db.Model):
    """The sums of one user's sessions of one routine that started on one local day (days
    since 1970-01-01 in PracticeDayState.timezone): what insights and what-helps read instead
    of every session, so their cost follows days, not sessions."""

    __tablename__ = "practice_days"

    # Keyed user, day, routine: a window of days is one range of the key.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    routine: Mapped[str] = mapped_column(String(64), primary_key=True)


class PracticeBlock(_Sums, db.Model):
    """The same sums over BLOCK_DAYS days in a row (block = day // BLOCK_DAYS): a long window
    is read as its whole blocks and at most two blocks' worth of days."""

    __tablename__ = "practice_blocks"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    block: Mapped[int] = mapped_column(Integer, primary_key=True)
    routine: Mapped[str] = mapped_column(String(64), primary_key=True)


BLOCK_DAYS = 32
