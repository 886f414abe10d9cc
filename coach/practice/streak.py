"""The streak: consecutive local days (each user's own zone) with at least one counted
session, ending today or yesterday. One function for one user (Home) or a batch (the weekly
summary).

The per-day sums (days.py) already hold each user's local days, so the database lists the
distinct days and groups them into runs (gaps and islands: day − row_number() is constant
along a run of consecutive days), one statement per batch. It looks back a window first and
reads further back only for users whose run reaches the window's start.
"""
from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import Integer, and_, bindparam, case, func, select

from .. import dialect
from ..extensions import db
from ..models import PracticeDay
from ..timeutil import local_date, zone
from . import days
from .local_days import day_number

PD = PracticeDay.__table__
WINDOWS = (512, 4096)  # days looked back before reading the whole history
ALL = -(2**31)  # the first day of "the whole history"


def streaks(zones: dict[int, str], now: datetime, checked: bool = False) -> dict[int, int]:
    """{user_id: streak in days} for users given as {user_id: IANA zone} (`checked`: their
    per-day sums were just made fresh)."""
    if not checked:
        days.fresh(zones)
    today = {uid: day_number(local_date(now, zone(tz))) for uid, tz in zones.items()}
    out = {uid: 0 for uid in zones}
    pending = set(zones)
    for window in (*WINDOWS, None):
        if not pending:
            break
        since = {uid: today[uid] - window if window is not None else ALL for uid in pending}
        reached = set()
        for uid, (first, length) in _runs({uid: (today[uid], since[uid]) for uid in pending}).items():
            out[uid] = length
            if window is not None and first <= since[uid]:  # the run may go on before the window
                reached.add(uid)
        pending = reached
    return out


def _runs(bounds: dict[int, tuple[int, int]]) -> dict[int, tuple[int, int]]:
    """{user_id: (first day, length)} of each user's run of days ending today or yesterday,
    looking at days from `since` on; bounds: {user_id: (today, since)}."""
    if len(bounds) == 1:
        ((uid, (today, since)),) = bounds.items()
        params = {"user_id": uid, "today": today, "since": since}
    else:
        params = days.rows_of("streak_users", [(uid, today, since) for uid, (today, since) in bounds.items()])
    stmt = _statement(dialect.name(), len(bounds) == 1)
    return {uid: (int(first), int(length)) for uid, first, length in db.session.execute(stmt, params)}


@functools.cache
def _statement(kind: str, one: bool):
    """Built once per database kind; for one user with plain parameters (a key range), for a
    batch joined to a json_table of (user, today, since). A day after today (a phone clock a
    little fast) counts as today."""
    if one:
        today = bindparam("today", type_=Integer)
        clamped = case((PD.c.day > today, today), else_=PD.c.day).label("day")
        picked = (
            select(PD.c.user_id, today.label("today"), clamped)
            .where(PD.c.user_id == bindparam("user_id"), PD.c.day >= bindparam("since"))
        )
    else:
        users = dialect.json_table("streak_users", [("user_id", "int"), ("today", "int"), ("since", "int")], kind)
        clamped = case((PD.c.day > users.c.today, users.c.today), else_=PD.c.day).label("day")
        picked = (
            select(PD.c.user_id, users.c.today, clamped)
            .join(users, and_(users.c.user_id == PD.c.user_id, PD.c.day >= users.c.since))
        )
    distinct_days = picked.distinct().subquery("days")
    d = distinct_days.c
    run = d.day - func.row_number().over(partition_by=d.user_id, order_by=d.day)
    runs = select(d.user_id, d.today, d.day, run.label("run")).subquery("runs")
    return (
        select(runs.c.user_id, func.min(runs.c.day), func.count())
        .group_by(runs.c.user_id, runs.c.today, runs.c.run)
        .having(func.max(runs.c.day) >= runs.c.today - 1)
    )
