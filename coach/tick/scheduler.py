"""The tick: the one way anything is sent (design.md, The scheduler: the database is the queue).

`tick(now)` is what `flask coach tick`, the APScheduler interval job and the scheduler
process all call. Each step claims its due rows, sends, records and re-plans.
"""
from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app

from ..extensions import db
from ..models import SchedulerHeartbeat, utcnow
from .account_mail import send_due as send_due_account_mail
from .digests import send_due as send_due_digests
from .reminders import send_due_reminders

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 30
PROCESS_NAME = f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class TickReport:
    at: datetime
    counts: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)


def _steps():
    """The steps in order, with the settings they take from the app's config."""
    config = current_app.config
    reminders = partial(
        send_due_reminders, batch_size=config["COACH_DISPATCH_BATCH"], concurrency=config["COACH_PUSH_CONCURRENCY"]
    )
    return (("reminders", reminders), ("digests", send_due_digests), ("account_mail", send_due_account_mail))


def tick(now: datetime) -> TickReport:
    """One pass: every step claims its due rows, sends, records and re-plans.

    A step that fails is logged and rolled back without keeping the other from running;
    its rows stay due (or leased) and the next tick takes them again.
    """
    report = TickReport(at=now)
    for name, step in _steps():
        try:
            report.counts[name] = step(now).sent
        except Exception:
            db.session.rollback()
            log.exception("tick step %s failed", name)
            report.failed.append(name)
    _beat(now)
    return report


def _beat(now: datetime) -> None:
    beat = db.session.get(SchedulerHeartbeat, PROCESS_NAME)
    if beat is None:
        db.session.add(SchedulerHeartbeat(name=PROCESS_NAME, last_tick_at=now))
    else:
        beat.last_tick_at = now
    db.session.commit()


def _tick_job(app: Flask) -> None:
    with app.app_context():
        try:
            report = tick(utcnow())
            log.info("tick %s: %s", report.at.isoformat(), report.counts)
        except Exception:  # a failed tick must not stop the next one
            db.session.rollback()
            log.exception("tick failed")
        finally:
            db.session.remove()


def make_scheduler(app: Flask, blocking: bool = False):
    """The APScheduler with its one interval job (30 s, never overlapping, missed runs coalesced)."""
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone="UTC")
    scheduler.add_job(
        _tick_job,
        "interval",
        seconds=INTERVAL_SECONDS,
        args=[app],
        id="tick",
        max_instances=1,
        coalesce=True,
        next_run_time=utcnow(),
    )
    return scheduler
