"""Insights answers kept in each worker process, rendered, so showing Home or History again
costs a lookup instead of a year of aggregation and a few hundred fields of serialisation.

An answer depends on the user's sessions and custom routines, on their time zone and
screening answers (which decide the recommendation), on the window (`days`) and on the
clock. The key holds the user's `data_version`, which every write to their sessions or
routines counts up in the same transaction, and the other inputs as they stand on the
user's row; under it, the answers for the user's last few windows. The clock is handled by a deadline worked out with the answer:
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

from sqlalchemy import bindparam, func, select

from ..extensions import db
from ..i18n import DEFAULT as DEFAULT_LANGUAGE
from ..models import PracticeSession, User, UTCDateTime
from ..timeutil import local_to_utc, zone
from . import insights
from .sums import COUNTED


class AnswerCache:
    """A bounded, thread-safe map of key → (value, deadline)."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._entries: OrderedDict[tuple, tuple[Any, datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, now: datetime) -> Any:
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

    def put(self, key: tuple, answer: Any, deadline: datetime) -> None:
        if self.capacity <= 0:
            return
        with self._lock:
            self._entries[key] = (answer, deadline)
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


# One entry per user in the shared cache, holding that user's answers for their last few
# (window, language) pairs: a user asking for window after window (`days` takes 3,650 values)
# churns only their own entry, never pushing anyone else's answer out.
WINDOWS_PER_USER = 4


def key_of(user: User) -> tuple[Any, ...]:
    """What `insights.summary` reads besides the clock, the window and the language: the user's rows (by
    version) and the fields of the user row it uses. `created_at` tells apart an account
    that was erased from a new one given the same id (SQLite reuses the highest rowid)."""
    screening = json.dumps(user.screening, sort_keys=True) if user.screening is not None else None
    return (user.id, user.created_at, user.data_version, user.timezone, screening)


# The window's oldest counted session: built once, run with the user and the window's start.
_OLDEST = select(func.min(PracticeSession.started_at)).where(
    PracticeSession.user_id == bindparam("user_id"),
    PracticeSession.started_at >= bindparam("start", type_=UTCDateTime()),
    COUNTED,
)


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
    oldest = db.session.scalar(_OLDEST, {"user_id": user.id, "start": start})
    if oldest is not None:  # it counts while started_at >= now − days
        deadline = min(deadline, oldest + timedelta(days=days, microseconds=1))
    return deadline


def summary(
    cache: AnswerCache, user: User, now: datetime, days: int, render: Callable[[dict], bytes], language: str = DEFAULT_LANGUAGE
) -> bytes:
    """`render(insights.summary(user, now, days, language))`, from `cache` while nothing it
    depends on has changed (one answer per window and language)."""
    key = key_of(user)
    wanted = (days, language)
    windows: dict[tuple[int, str], tuple[bytes, datetime]] = cache.get(key, now) or {}
    kept = windows.get(wanted)
    if kept is not None and now < kept[1]:
        return kept[0]
    deadline = deadline_of(user, now, days)  # first: a write landing meanwhile only shortens it
    answer = render(insights.summary(user, now, days, language))
    # A new dict, never one another thread may be reading: the newest windows, this one last.
    windows = {d: v for d, v in windows.items() if d != wanted and now < v[1]}
    windows = dict(list(windows.items())[-(WINDOWS_PER_USER - 1):]) if WINDOWS_PER_USER > 1 else {}
    windows[wanted] = (answer, deadline)
    cache.put(key, windows, max(v[1] for v in windows.values()))
    return answer
