"""What /healthz reports."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .models import SchedulerHeartbeat


def check() -> dict:
    try:
        last = db.session.scalar(
            select(SchedulerHeartbeat.last_tick_at).order_by(SchedulerHeartbeat.last_tick_at.desc()).limit(1)
        )
    except SQLAlchemyError:
        db.session.rollback()
        return {"db": "unreachable", "scheduler": {"last_tick_at": None}}
    return {"db": "ok", "scheduler": {"last_tick_at": last}}
