"""Local days in SQL: which day of the user's own calendar a stored UTC instant falls on.

A zone's UTC offset is constant between its transitions (a couple a year), so the local
wall-clock seconds of a stored instant are `epoch seconds + the offset of its stretch`. The
stretches of each user's window travel into a statement as a small table (dialect.json_rows:
user, from, to, offset) joined on user and instant, so one expression serves one user or a
batch of users in many zones; local days and weeks are then integer divisions the database
can GROUP BY, on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

from sqlalchemy import and_
from sqlalchemy.sql.selectable import CTE

from .. import dialect
from ..timeutil import zone

UTC = timezone.utc
EPOCH = date(1970, 1, 1)
DAY = 86_400
WEEK = 7 * DAY


def day_number(day: date) -> int:
    """Days since 1970-01-01: the numbering `local_day` answers in."""
    return (day - EPOCH).days


@lru_cache(maxsize=256)
def offset_changes(tz_name: str, first: date, last: date) -> tuple[tuple[datetime, ...], tuple[int, ...]]:
    """(changes, offsets): the UTC instants in [first, last] (UTC days) where the zone's
    offset changes, and the offsets in seconds: offsets[0] before changes[0], offsets[i + 1]
    from changes[i]. Found by sampling every day and bisecting to the second, so two
    transitions less than a day apart would be missed; no zone has those."""
    tz = zone(tz_name)

    def offset(t: datetime) -> int:
        return int(t.astimezone(tz).utcoffset().total_seconds())

    t = datetime.combine(first, time(0), UTC)
    stop = datetime.combine(last, time(0), UTC) + timedelta(days=1)
    current = offset(t)
    changes, offsets = [], [current]
    while t < stop:
        following = min(t + timedelta(days=1), stop)
        new = offset(following)
        if new != current:
            lo, hi = int(t.timestamp()), int(following.timestamp())  # offset(lo) old, offset(hi) new
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(datetime.fromtimestamp(mid, UTC)) == current:
                    lo = mid
                else:
                    hi = mid
            changes.append(datetime.fromtimestamp(hi, UTC))
            offsets.append(new)
            current = new
        t = following
    return tuple(changes), tuple(offsets)


def offset_segments(tz_name: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime, int]]:
    """[start, end) cut where the zone's UTC offset changes, each piece with its offset."""
    changes, offsets = offset_changes(tz_name, start.date() - timedelta(days=1), end.date() + timedelta(days=1))
    cuts = [start, *(c for c in changes if start < c < end), end]
    return [(a, b, offsets[bisect_right(changes, a)]) for a, b in zip(cuts, cuts[1:])]


@dataclass(frozen=True)
class Window:
    """The instants [start, end) of one user's rows to place on their local calendar."""

    user_id: int
    tz_name: str
    start: datetime
    end: datetime


def segments(windows: Iterable[Window], name: str = "seg") -> CTE:
    """The table (user_id, seg_start, seg_end, utc_offset) of every window's stretches."""
    rows = [(w.user_id, a, b, off) for w in windows for (a, b, off) in offset_segments(w.tz_name, w.start, w.end)]
    return dialect.json_rows(
        name,
        [("user_id", "int"), ("seg_start", "instant"), ("seg_end", "instant"), ("utc_offset", "int")],
        rows,
        dialect.name(),
    )


def within(seg: CTE, user_id, instant):
    """The join condition placing a row (its user and instant columns) in its stretch; rows
    outside every window drop out."""
    return and_(seg.c.user_id == user_id, instant >= seg.c.seg_start, instant < seg.c.seg_end)


def local_seconds(seg: CTE, instant):
    """SQL: seconds since 1970-01-01 00:00 of the local wall-clock time of `instant`."""
    return dialect.epoch_seconds(instant) + seg.c.utc_offset


def local_day(seg: CTE, instant):
    """SQL: the local day number (see day_number) of `instant`."""
    return local_seconds(seg, instant) // DAY
