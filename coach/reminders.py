"""Reminders: planning each one's next occurrence in the user's zone."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from .extensions import db
from .models import Reminder, User
from .timeutil import next_weekly, parse_hhmm, zone


def plan(reminder: Reminder, user: User, now: datetime) -> None:
    """Plan the next occurrence strictly after `now` (None while disabled)."""
    if not reminder.enabled:
        reminder.next_fire_at = reminder.planned_at = None
    else:
        at = next_weekly(now, parse_hhmm(reminder.local_time), reminder.weekdays, zone(user.timezone))
        reminder.next_fire_at = reminder.planned_at = at
    reminder.attempts = 0


def replan_all(user: User, now: datetime) -> None:
    """After a change of time zone every reminder is planned again (not committed here)."""
    for reminder in db.session.scalars(select(Reminder).where(Reminder.user_id == user.id)):
        plan(reminder, user, now)
