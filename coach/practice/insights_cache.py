"""Insights answers kept in each worker process, rendered, so showing Home or History again
costs a lookup instead of a year of aggregation and a few hundred fields of serialisation.

An answer depends on the user's sessions and custom routines, on their time zone and
screening answers (which decide the recommendation), on the window (`days`) and on the
clock. The key holds everything but the clock: the user's `data_version`, which every write
to their sessions or routines counts up in the same transaction, and the other inputs as
they stand on the user's row. The clock is handled by a deadline worked out with the answer:
the next local midnight (the streak and the weeks move on) or the instant the window's oldest
session leaves it, whichever comes first.

Each worker keeps its own entries. All of them read the version from the database with the
user (the bearer-token lookup loads the row anyway), so a write through any worker makes every
worker's entry for that user unreachable at once.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from datetime import datetime, time, timedelta
from typing import Any, Callable

from sqlalchemy import func, select

from ..extensions import db
from ..i18n import DEFAULT as DEFAULT_LANGUAGE
from ..models import PracticeSession, User
from ..timeutil import local_to_utc, zone
from . import insights


class AnswerCache:
    """A bounded, thread-safe map of key → (rendered answer, deadline)."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._entries: OrderedDict[tuple, tuple[bytes, datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, now: datetime) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            answer, deadline = entry
            if now >= deadline:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return answer

    def put(self, key: tuple, answer: bytes, deadline: datetime) -> None:
        if self.capacity <= 0:
            return
        with self._lock:
            self._entries[key] = (answer, deadline)
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def key_of(user: User, days: int, language: str = DEFAULT_LANGUAGE) -> tuple[Any, ...]:
    """What `insights.summary` reads besides the clock: the user's rows (by version) and the
    fields of the user row it uses. `created_at` tells apart an account that was erased
    from a new one given the same id (SQLite reuses the highest rowid)."""
    screening = json.dumps(user.screening, sort_keys=True) if user.screening is not None else None
    return (user.id, user.created_at, user.data_version, user.timezone, screening, days, language)


def deadline_of(user: User, now: datetime, days: int) -> datetime:
    """The first instant at which `summary(user, t, days)` may differ from `summary(user, now,
    days)` with no write in between."""
    tz = zone(user.timezone)
    start = now - timedelta(days=days)
    midnight = local_to_utc(now.astimezone(tz).date() + timedelta(days=1), time(0), tz)
    # The window's first local day (its first week, its streak look-back) moves at the
    # start's own local midnight, which differs from now's across a DST change.
    start_midnight = local_to_utc(start.astimezone(tz).date() + timedelta(days=1), time(0), tz) + timedelta(days=days)
    deadline = min(midnight, start_midnight)
    oldest = db.session.scalar(
        select(func.min(PracticeSession.started_at)).where(
            PracticeSession.user_id == user.id, PracticeSession.started_at >= start
        )
    )
    if oldest is not None:  # it counts while started_at >= now − days
        deadline = min(deadline, oldest + timedelta(days=days, microseconds=1))
    return deadline


def summary(
    cache: AnswerCache, user: User, now: datetime, days: int, render: Callable[[dict], bytes], language: str = DEFAULT_LANGUAGE
) -> bytes:
    """`render(insights.summary(user, now, days, language))`, from `cache` while nothing it
    depends on has changed (the language is part of the key: one answer per language)."""
    key = key_of(user, days, language)
    answer = cache.get(key, now)
    if answer is None:
        deadline = deadline_of(user, now, days)  # first: a write landing meanwhile only shortens it
        answer = render(insights.summary(user, now, days, language))
        cache.put(key, answer, deadline)
    return answer
