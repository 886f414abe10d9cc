"""The streak: consecutive local days (each user's own zone) with at least one session,
ending today or yesterday. One function for one user (Home) or a batch (the weekly summary).

The database lists each user's distinct local days and groups them into runs (gaps and
islands: day − row_number() is constant along a run of consecutive days), one statement per
batch. It looks back a window first and reads further back only for users whose run reaches
the window's start, so a long history costs little unless the streak is really that long.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import case, func, select

from .. import dialect
from ..extensions import db
from ..models import PracticeSession
from ..timeutil import local_date, zone
from .sums import COUNTED
from .local_days import Window, day_number, local_day, segments, within

PS = PracticeSession
WINDOWS = (64, 512, 4096)  # days looked back before reading the whole history
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)  # no session starts before (sessions.EARLIEST)
AHEAD = timedelta(days=2)  # a phone clock a little fast: such a session counts as today


def streaks(zones: dict[int, str], now: datetime) -> dict[int, int]:
    """{user_id: streak in days} for users given as {user_id: IANA zone}."""
    today = {uid: day_number(local_date(now, zone(tz))) for uid, tz in zones.items()}
    out = {uid: 0 for uid in zones}
    pending = dict(zones)
    for days in (*WINDOWS, None):
        if not pending:
            break
        since = now - timedelta(days=days) if days is not None else EARLIEST
        runs = _runs(pending, today, since, now + AHEAD)
        reached = {}
        for uid, (first, length) in runs.items():
            out[uid] = length
            # The run starts on the window's first (partly covered) day: it may go on before.
            if days is not None and first <= day_number(local_date(since, zone(pending[uid]))) + 1:
                reached[uid] = pending[uid]
        pending = reached
    return out


def _runs(zones: dict[int, str], today: dict[int, int], since: datetime, until: datetime) -> dict[int, tuple[int, int]]:
    """{user_id: (first day, length)} of each user's run of days ending today or yesterday,
    counting sessions started in [since, until)."""
    seg = segments(Window(uid, tz, since, until) for uid, tz in zones.items())
    users = dialect.json_rows("today", [("user_id", "int"), ("today", "int")], list(today.items()), dialect.name())
    day = local_day(seg, PS.started_at)
    clamped = case((day > users.c.today, users.c.today), else_=day).label("day")
    days = (
        select(PS.user_id, users.c.today, clamped)
        .distinct()
        .join(seg, within(seg, PS.user_id, PS.started_at))
        .join(users, users.c.user_id == PS.user_id)
        .where(COUNTED)
        .subquery("days")
    )
    run = days.c.day - func.row_number().over(partition_by=days.c.user_id, order_by=days.c.day)
    runs = select(days.c.user_id, days.c.today, days.c.day, run.label("run")).subquery("runs")
    stmt = (
        select(runs.c.user_id, func.min(runs.c.day), func.count())
        .group_by(runs.c.user_id, runs.c.today, runs.c.run)
        .having(func.max(runs.c.day) >= runs.c.today - 1)
    )
    return {uid: (int(first), int(length)) for uid, first, length in db.session.execute(stmt)}
