"""What /healthz reports: the database answers, and the scheduler ticks."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .models import SchedulerHeartbeat

# Ten ticks missed in a row: a scheduler that is on but silent this long is stuck or dead.
STALE_AFTER = timedelta(minutes=5)


def check(now: datetime, scheduler_on: bool, up_since: datetime) -> tuple[dict, bool]:
    """(report, healthy). Unhealthy when the database is unreachable, or when the scheduler
    is on and its last tick (any process's) is older than STALE_AFTER — counting from this
    process's start when no tick has happened yet."""
    try:
        last = db.session.scalar(
            select(SchedulerHeartbeat.last_tick_at).order_by(SchedulerHeartbeat.last_tick_at.desc()).limit(1)
        )
    except SQLAlchemyError:
        db.session.rollback()
        return {"db": "unreachable", "scheduler": {"on": scheduler_on, "last_tick_at": None, "stale": None}}, False
    stale = scheduler_on and now - (last or up_since) > STALE_AFTER
    return {"db": "ok", "scheduler": {"on": scheduler_on, "last_tick_at": last, "stale": stale}}, not stale
