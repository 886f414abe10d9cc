"""The account export: everything a user owns as JSON, or their sessions as one CSV.

Rows are dumped column by column, so a column another part of the app adds later is
exported without a change here; any other table that belongs to a user (a `user_id` foreign
key) is found and exported too. Secrets never leave: password and token hashes, push keys.
"""
from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import (
    AuthToken,
    CustomRoutine,
    DigestDelivery,
    PracticeSession,
    PushSubscription,
    Reminder,
    ReminderDelivery,
    User,
)
from ..practice import sessions as sessions_service
from ..timeutil import zone

FORMAT_VERSION = 1
# Never exported: credentials, and the push keys that would let anyone write to the device.
SECRET_COLUMNS = {"password_hash", "token_hash", "p256dh", "auth"}
SECRET_WORDS = ("password", "secret", "token", "hash", "private", "nonce")  # nonce: what a link is bound to
NOT_EXPORTED_TABLES = {AuthToken.__tablename__}  # login tokens: credentials, not the user's data


def _is_secret(name: str) -> bool:
    return name in SECRET_COLUMNS or any(word in name for word in SECRET_WORDS)


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _row(obj: Any, skip: set[str] = frozenset()) -> dict[str, Any]:
    """Every column of a row except the owner key and secrets."""
    out = {}
    for attr in db.inspect(obj).mapper.column_attrs:
        name = attr.key
        if name == "user_id" or name in skip or _is_secret(name):
            continue
        out[name] = _plain(getattr(obj, name))
    return out


def _owned(model, user_id: int, order_by=None) -> list:
    stmt = select(model).where(model.user_id == user_id)
    return list(db.session.scalars(stmt.order_by(order_by if order_by is not None else model.id)))


def export_json(user: User, now: datetime) -> dict[str, Any]:
    """Everything the user owns, in plain JSON types."""
    sessions = _owned(PracticeSession, user.id, PracticeSession.started_at)
    reminders = _owned(Reminder, user.id)
    reminder_ids = [r.id for r in reminders]
    deliveries = (
        list(db.session.scalars(
            select(ReminderDelivery).where(ReminderDelivery.reminder_id.in_(reminder_ids)).order_by(ReminderDelivery.id)
        ))
        if reminder_ids
        else []
    )
    data: dict[str, Any] = {
        "format": "vagal-coach export",
        "version": FORMAT_VERSION,
        "exported_at": now.isoformat(),
        "profile": _row(user),
        "custom_routines": [_row(r) for r in _owned(CustomRoutine, user.id)],
        "sessions": [_plain(sessions_service.to_dict(s)) for s in sessions],
        "reminders": [_row(r) for r in reminders],
        "reminder_deliveries": [_row(d) for d in deliveries],
        "push_subscriptions": [_row(p) for p in _owned(PushSubscription, user.id)],
        "digest_deliveries": [_row(d) for d in _owned(DigestDelivery, user.id)],
    }
    # Any other table that belongs to a user (added by a later feature) is exported too.
    known = {m.__tablename__ for m in (CustomRoutine, PracticeSession, Reminder, PushSubscription, DigestDelivery)}
    for mapper in sorted(db.Model.registry.mappers, key=lambda m: m.local_table.name):
        table = mapper.local_table
        if table.name in known or table.name in NOT_EXPORTED_TABLES or "user_id" not in table.c:
            continue
        if not any(fk.column.table.name == User.__tablename__ for fk in table.c.user_id.foreign_keys):
            continue
        model = mapper.class_
        data[table.name] = [_row(obj) for obj in _owned(model, user.id, next(iter(table.primary_key.columns)))]
    return data


# --- CSV ----------------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str | None) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV injection, OWASP): a text cell
    that starts with = + - @ (or tab / carriage return) gets a leading apostrophe."""
    if not text:
        return ""
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_columns(tz_name: str) -> list[str]:
    return [
        "session id",
        "routine",
        "started_at (UTC, RFC 3339)",
        f"started (local time, {tz_name})",
        "ended_at (UTC, RFC 3339)",
        "duration (s)",
        "completed cycles",
        "planned cycles",
        "pre mood (0 very bad – 10 very good)",
        "pre anxiety (0 none – 10 extreme)",
        "pre energy (0 exhausted – 10 full of energy)",
        "post mood (0 very bad – 10 very good)",
        "post anxiety (0 none – 10 extreme)",
        "post energy (0 exhausted – 10 full of energy)",
        "mood change (post − pre)",
        "note",
        "breath holds (s, one per round, separated by ;)",
        "water temperature (°C)",
        "time in the cold (s)",
    ]


def _num(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def export_csv(user: User) -> str:
    """The user's sessions, oldest first, one row each, with a labelled header row."""
    tz = zone(user.timezone)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_columns(user.timezone))
    stmt = (
        select(PracticeSession)
        .where(PracticeSession.user_id == user.id)
        .order_by(PracticeSession.started_at, PracticeSession.id)
        .execution_options(yield_per=500)
    )
    for s in db.session.scalars(stmt):
        details = s.details or {}
        holds = details.get("retention_seconds") or []
        change = s.post_mood - s.pre_mood if s.post_mood is not None and s.pre_mood is not None else None
        writer.writerow([
            str(s.uuid),
            csv_safe(s.routine),
            s.started_at.isoformat().replace("+00:00", "Z"),
            s.started_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
            s.ended_at.isoformat().replace("+00:00", "Z") if s.ended_at else "",
            _num(s.duration_seconds),
            _num(s.completed_cycles),
            _num(s.planned_cycles),
            _num(s.pre_mood),
            _num(s.pre_anxiety),
            _num(s.pre_energy),
            _num(s.post_mood),
            _num(s.post_anxiety),
            _num(s.post_energy),
            _num(change),
            csv_safe(s.post_note),
            ";".join(_num(v) for v in holds),
            _num(details.get("water_temp_c")),
            _num(details.get("cold_seconds")),
        ])
    return out.getvalue()


__all__ = ["csv_columns", "csv_safe", "export_csv", "export_json"]
