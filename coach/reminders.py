"""Reminders: what a user asked to be reminded of, and what the reminder says.

When one is next due is `coach.planning`'s rule; sending lives in `coach.tick.reminders`.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from . import dialect
from .extensions import db
from .i18n import DEFAULT as DEFAULT_LANGUAGE
from .i18n import translate, translate_plural
from .models import Reminder, User
from .planning import plan_reminder
from .routines.service import routine_exists

MAX_REMINDERS = 20  # per user; more answers 409
SNOOZE_MINUTES = (1, 240)
CAPITALISED_NOUNS = frozenset({"de"})  # languages that write every noun with a capital


class TooManyReminders(Exception):
    pass


class UnknownRoutine(ValueError):
    pass


class ReminderOff(Exception):
    """A disabled reminder cannot be snoozed."""


def list_reminders(user: User) -> list[Reminder]:
    return list(
        db.session.scalars(select(Reminder).where(Reminder.user_id == user.id).order_by(Reminder.local_time, Reminder.id))
    )


def get_reminder(user: User, reminder_id: int) -> Reminder | None:
    """The user's own reminder, or None (someone else's is as unknown as a missing one)."""
    return db.session.scalar(select(Reminder).where(Reminder.id == reminder_id, Reminder.user_id == user.id))


def _check_routine(user: User, slug: str | None) -> None:
    if slug is None:
        return
    if not routine_exists(user, slug):
        raise UnknownRoutine(slug)


def create_reminder(user: User, fields: dict[str, Any], now: datetime) -> Reminder:
    """`fields`: local_time, weekdays, optional routine and enabled (already validated)."""
    _check_routine(user, fields.get("routine"))
    dialect.lock_row(User.__table__, user.id)  # simultaneous creates are counted one after another
    count = db.session.scalar(select(func.count()).select_from(Reminder).where(Reminder.user_id == user.id))
    if count >= MAX_REMINDERS:
        db.session.rollback()  # let the lock go at once
        raise TooManyReminders
    reminder = Reminder(
        user_id=user.id,
        local_time=fields["local_time"],
        weekdays=sorted(set(fields["weekdays"])),
        routine=fields.get("routine"),
        enabled=fields.get("enabled", True),
        created_at=now,
    )
    plan_reminder(reminder, user, now)
    db.session.add(reminder)
    db.session.commit()
    return reminder


def update_reminder(user: User, reminder: Reminder, changes: dict[str, Any], now: datetime) -> Reminder:
    """A PATCH: a new time, weekdays or on/off re-plans (and so drops a snooze or back-off)."""
    if "routine" in changes:
        _check_routine(user, changes["routine"])
        reminder.routine = changes["routine"]
    replan = False
    if "local_time" in changes and changes["local_time"] != reminder.local_time:
        reminder.local_time, replan = changes["local_time"], True
    if "weekdays" in changes:
        weekdays = sorted(set(changes["weekdays"]))
        if weekdays != list(reminder.weekdays):
            reminder.weekdays, replan = weekdays, True
    if "enabled" in changes and changes["enabled"] != reminder.enabled:
        reminder.enabled, replan = changes["enabled"], True
    if replan:
        plan_reminder(reminder, user, now)
    db.session.commit()
    return reminder


def delete_reminder(reminder: Reminder) -> None:
    db.session.delete(reminder)
    db.session.commit()


def snooze(user: User, reminder: Reminder, minutes: int, now: datetime) -> Reminder:
    """Remind again `minutes` from now; afterwards the weekly plan goes on.

    The snoozed send is an occurrence of its own (planned_at = the snoozed instant), so
    its delivery key differs from the occurrence the user just got (which would block it)
    and from the next regular one (which it would block). A regular occurrence that falls
    inside the snooze is replaced by it: one reminder, later, as asked.
    """
    if not reminder.enabled:
        raise ReminderOff
    at = now + timedelta(minutes=minutes)
    reminder.next_fire_at = reminder.planned_at = at
    reminder.attempts = 0
    db.session.commit()
    return reminder


# --- the words of a reminder -------------------------------------------------------------


def _duration(seconds: float | int | None, language: str) -> str | None:
    if not seconds or seconds <= 0:
        return None
    if seconds < 90:
        return translate(language, "a minute")
    minutes = round(seconds / 60)
    return translate_plural(language, "%(num)d minute", "%(num)d minutes", minutes)


def _routine_phrase(routine: dict[str, Any], language: str) -> str:
    """The routine's name as it reads inside a sentence: a built-in's in `language`, lower-cased
    where the language writes common nouns so ("resonance breathing"; German keeps its
    capitals: "Resonanzatmung"); a custom routine's name as its owner wrote it."""
    builtin = routine.get("builtin", True)
    name = str(routine.get("name") or routine.get("slug") or "").strip()
    if builtin:
        name = translate(language, name)
    if builtin and language not in CAPITALISED_NOUNS and name[:1].isupper() and name[1:2].islower():
        name = name[0].lower() + name[1:]  # "Resonance breathing" → "resonance breathing"
    return name


def message(routine: dict[str, Any] | None, public_url: str, language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """The push payload for a reminder: {type, title, body, routine, url}, in `language`
    (the user's own: the tick passes it).

    `routine` is the routine as the routines service gives it (name, slug,
    total_seconds, builtin), in English, or None when the reminder names none (or it was
    deleted).
    """
    base = public_url.rstrip("/")
    if not routine:
        return {
            "type": "reminder",
            "title": translate(language, "Time for your practice"),
            "body": translate(language, "A few minutes of slow, gentle breathing, whenever you are ready."),
            "routine": None,
            "url": f"{base}/",
        }
    slug = routine["slug"]
    phrase = _routine_phrase(routine, language)
    duration = _duration(routine.get("total_seconds"), language)
    if duration:
        title = translate(language, "Time for %(duration)s of %(routine)s", duration=duration, routine=phrase)
    else:
        title = translate(language, "Time for %(routine)s", routine=phrase)
    if routine.get("kind") in ("cold", "combined"):
        # evidence.md: never hold the breath in or near cold water.
        body = translate(language, "Whenever you are ready: tap to begin, and keep breathing normally in the cold.")
    else:
        body = translate(language, "Whenever you are ready: sit comfortably and tap to begin.")
    return {"type": "reminder", "title": title, "body": body, "routine": slug, "url": f"{base}/#/run/{slug}"}
