"""The account export: everything a user owns as JSON, or their sessions as one CSV.

Rows are dumped column by column, so a column another part of the app adds later is
exported without a change here; any other table that belongs to a user (a `user_id` foreign
key) is found and exported too. Secrets never leave: password and token hashes, push keys.
"""
from __future__ import annotations

import base64
import csv
import functools
import io
import itertools
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import (
    AuthToken,
    CustomRoutine,
    DigestDelivery,
    PasskeyChallenge,
    PracticeBlock,
    PracticeDay,
    PracticeDayState,
    PracticeSession,
    PushSubscription,
    Reminder,
    ReminderDelivery,
    User,
)
from ..practice import sessions as sessions_service
from ..timeutil import zone

FORMAT_VERSION = 1
FORMATS = ("json", "csv")
# A byte order mark before the CSV lets spreadsheet programs read it as UTF-8 (°, –, accents in notes).
BOM = "\ufeff"
# Never exported: credentials, and the push keys that would let anyone write to the device.
SECRET_COLUMNS = {"password_hash", "token_hash", "p256dh", "auth"}
SECRET_WORDS = ("password", "secret", "token", "hash", "private", "nonce")  # nonce: what a link is bound to
NOT_EXPORTED_TABLES = {
    AuthToken.__tablename__,  # login tokens: credentials, not the user's data
    PasskeyChallenge.__tablename__,  # a sign-in ceremony's minutes-long challenge
    # Sums derived from the sessions (which are exported), rebuilt from them at will.
    PracticeDay.__tablename__,
    PracticeBlock.__tablename__,
    PracticeDayState.__tablename__,
}


def _is_secret(name: str) -> bool:
    return name in SECRET_COLUMNS or any(word in name for word in SECRET_WORDS)


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):  # a passkey's public key: base64url, as WebAuthn JSON spells bytes
        return base64.urlsafe_b64encode(value).rstrip(b"=").decode()
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


BATCH = 200  # rows read from the database at a time: memory stays flat whatever the history


def _owned(model, user_id: int, order_by=None) -> Iterator:
    stmt = select(model).where(model.user_id == user_id)
    stmt = stmt.order_by(order_by if order_by is not None else model.id).execution_options(yield_per=BATCH)
    return db.session.scalars(stmt)


def _rows(objects: Iterable, dump=_row) -> Iterator[dict[str, Any]]:
    """One row at a time (the database session holds rows it has not changed weakly, so a
    dumped one is let go)."""
    return map(dump, objects)


def _session_row(session: PracticeSession) -> dict[str, Any]:
    return _plain(sessions_service.to_dict(session))


def _sections(user: User, now: datetime) -> Iterator[tuple[str, Any]]:
    """The export's keys in order; a list's rows come lazily (an iterator), read as written."""
    yield "format", "vagal-coach export"
    yield "version", FORMAT_VERSION
    yield "exported_at", now.isoformat()
    yield "profile", _row(user)
    yield "custom_routines", _rows(_owned(CustomRoutine, user.id))
    yield "sessions", _rows(_owned(PracticeSession, user.id, PracticeSession.started_at), _session_row)
    reminder_ids = list(db.session.scalars(select(Reminder.id).where(Reminder.user_id == user.id).order_by(Reminder.id)))
    yield "reminders", _rows(_owned(Reminder, user.id))
    deliveries = (
        db.session.scalars(
            select(ReminderDelivery)
            .where(ReminderDelivery.reminder_id.in_(reminder_ids))
            .order_by(ReminderDelivery.id)
            .execution_options(yield_per=BATCH)
        )
        if reminder_ids
        else ()
    )
    yield "reminder_deliveries", _rows(deliveries)
    yield "push_subscriptions", _rows(_owned(PushSubscription, user.id))
    yield "digest_deliveries", _rows(_owned(DigestDelivery, user.id))
    # Any other table that belongs to a user (added by a later feature) is exported too.
    known = {m.__tablename__ for m in (CustomRoutine, PracticeSession, Reminder, PushSubscription, DigestDelivery)}
    for mapper in sorted(db.Model.registry.mappers, key=lambda m: m.local_table.name):
        table = mapper.local_table
        if table.name in known or table.name in NOT_EXPORTED_TABLES or "user_id" not in table.c:
            continue
        if not any(fk.column.table.name == User.__tablename__ for fk in table.c.user_id.foreign_keys):
            continue
        yield table.name, _rows(_owned(mapper.class_, user.id, next(iter(table.primary_key.columns))))


def export_json(user: User, now: datetime) -> dict[str, Any]:
    """Everything the user owns, in plain JSON types, as one document (held whole in memory:
    the download streams the same with `stream_json`)."""
    return {key: value if isinstance(value, (str, int, dict)) else list(value) for key, value in _sections(user, now)}


def _indented(text: str, prefix: str) -> str:
    return text.replace("\n", "\n" + prefix)


def stream_json(user: User, now: datetime) -> Iterator[str]:
    """`json.dumps(export_json(user, now), ensure_ascii=False, indent=2)`, byte for byte, in
    pieces: one row at a time, so memory stays flat however long the history."""
    dumps = functools.partial(json.dumps, ensure_ascii=False, indent=2)
    yield "{"
    for i, (key, value) in enumerate(_sections(user, now)):
        yield ("," if i else "") + "\n  " + dumps(key) + ": "
        if isinstance(value, (str, int, dict)):
            yield _indented(dumps(value), "  ")
            continue
        empty = True
        for row in value:
            yield ("[\n    " if empty else ",\n    ") + _indented(dumps(row), "    ")
            empty = False
        yield "[]" if empty else "\n  ]"
    yield "\n}"


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


def stream_csv(user: User) -> Iterator[str]:
    """The user's sessions, oldest first, one row each, with a labelled header row; written a
    row at a time."""
    tz = zone(user.timezone)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")

    def flush() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    writer.writerow(csv_columns(user.timezone))
    yield flush()
    stmt = (
        select(PracticeSession)
        .where(PracticeSession.user_id == user.id)
        .order_by(PracticeSession.started_at, PracticeSession.id)
        .execution_options(yield_per=BATCH)
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
        yield flush()


def export_csv(user: User) -> str:
    """The whole CSV as one string (the download streams `stream_csv`)."""
    return "".join(stream_csv(user))


@dataclass(frozen=True)
class Download:
    body: Iterator[str]  # streamed a row at a time: flat memory whatever the history
    media_type: str
    filename: str


def _written_later(user_id: int, write: Callable[[User], Iterator[str]]) -> Iterator[str]:
    """The body is written after the request's own database session has ended, so it loads
    the user afresh rather than lean on the request's copy (which a commit in the request,
    such as a token's last use, leaves expired and detached)."""
    yield from write(db.session.get(User, user_id))


def download(user: User, fmt: str, now: datetime) -> Download:
    """The export as a file named for the day: `json` (everything) or `csv` (the sessions)."""
    stamp = now.date().isoformat()
    if fmt == "csv":
        # The BOM lets spreadsheet programs read the text as UTF-8 (°, –, accents in notes).
        body = itertools.chain([BOM], _written_later(user.id, stream_csv))
        return Download(body, "text/csv; charset=utf-8", f"coach-export-{stamp}.csv")
    body = _written_later(user.id, lambda fresh: stream_json(fresh, now))
    return Download(body, "application/json", f"coach-export-{stamp}.json")


__all__ = ["BOM", "FORMATS", "Download", "csv_columns", "csv_safe", "download", "export_csv", "export_json", "stream_csv", "stream_json"]
