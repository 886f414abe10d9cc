"""When a reminder or a weekly summary is next due, planned in the user's zone.

Both use `timeutil.next_weekly` (the gap and fold rules of design.md, Time). The API, a change
of time zone and the tick all plan through here, so each is planned one way only.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from .extensions import db
from .models import Reminder, User
from .timeutil import iso_week_key, local_date, next_weekly, parse_hhmm, zone

DIGEST_COLUMNS = ("digest_enabled", "digest_weekday", "digest_local_time", "digest_send_empty")


def _apply_defaults(user: User) -> None:
    """A user not yet flushed (registration plans before the INSERT) has no column defaults
    yet: give it the digest ones now, so it is planned as it will be stored."""
    for name in DIGEST_COLUMNS:
        if getattr(user, name) is None:
            setattr(user, name, User.__table__.c[name].default.arg)


def next_send(user: User, now: datetime) -> datetime | None:
    """The user's next chosen weekday and local time strictly after `now` (even while off)."""
    return next_weekly(now, parse_hhmm(user.digest_local_time), [user.digest_weekday], zone(user.timezone))


def plan_digest(user: User, now: datetime) -> None:
    """Set `user.digest_next_at` (and the occurrence it stands for) to the next chosen
    weekday and local time after `now` (None while the digest is off, or while the address
    is not confirmed: no mail but the confirmation goes to an address nobody has proved)."""
    _apply_defaults(user)
    planned = next_send(user, now) if user.digest_enabled and user.email_confirmed_at is not None else None
    user.digest_next_at = user.digest_planned_at = planned


def delivery_week(planned_at: datetime, timezone: str) -> str:
    """The delivery key's week: the ISO week of the user's local date of the planned send."""
    return iso_week_key(local_date(planned_at, zone(timezone)))


def next_occurrence(local_time: str, weekdays: list[int], tz_name: str, after: datetime) -> datetime | None:
    """The first instant strictly after `after` at `local_time` on one of `weekdays`."""
    return next_weekly(after, parse_hhmm(local_time), weekdays, zone(tz_name))


def plan_reminder(reminder: Reminder, user: User, now: datetime) -> None:
    """Plan the next occurrence strictly after `now` (None while disabled)."""
    if not reminder.enabled:
        reminder.next_fire_at = reminder.planned_at = None
    else:
        at = next_occurrence(reminder.local_time, reminder.weekdays, user.timezone, now)
        reminder.next_fire_at = reminder.planned_at = at
    reminder.attempts = 0


def replan_reminders(user: User, now: datetime) -> None:
    """After a change of time zone every reminder is planned again (not committed here)."""
    for reminder in db.session.scalars(select(Reminder).where(Reminder.user_id == user.id)):
        plan_reminder(reminder, user, now)
