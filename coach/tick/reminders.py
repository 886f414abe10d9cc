"""The reminder step of the tick: the database is the queue (design.md, The scheduler).

Per batch of due reminders:
1. claim: one UPDATE moves their `next_fire_at` to a lease instant (5 min ahead on the
   tick's clock, this batch's own: coach.tick.lease) and RETURNs them; on PostgreSQL its
   subquery is `SELECT … FOR UPDATE SKIP LOCKED`, so concurrent scheduler processes
   each take other rows; on SQLite the statement is a compare-and-set
   (`next_fire_at <= now` is checked again under SQLite's single writer lock). Committed
   at once, so other processes see the lease, not a due row.
2. record: a `ReminderDelivery(reminder, planned_at)` row, unique, with status `sending`,
   is inserted and committed BEFORE any push goes out.
3. send to every subscription of the user, concurrently (coach.push.sender): the slow
   part is the network and the per-message encryption, so no row is locked meanwhile.
   Each device reached is added to the row's `sent_to` and committed as it happens (many
   per commit when they come together), and a push counts against the send concurrency
   until its device is recorded.
4. finish: delivery status, dead subscriptions (404/410) deleted, and each reminder either
   re-planned to its next occurrence or, after a 429/5xx/network failure, left due at a
   back-off instant with the same planned_at (so the retry reuses the delivery row and
   skips devices that already got it). The reminder row is written only while it still
   holds this batch's lease: an edit made through the API meanwhile wins.

Crash recovery, at least once: a process that dies mid-send leaves its reminders leased
and their deliveries `sending`. When the lease runs out a later tick claims them again,
finds `sending` (only a dead process leaves it behind an expired lease: a live one stops
sending before its lease ends) and sends the same occurrence, under the same delivery key
and with the same `Topic`, to the devices not yet in `sent_to`. So nothing is lost, and
only pushes in flight at the instant of the kill (at most the send concurrency) go out
twice; a push service replaces a queued message by a newer one with the same Topic.
Without a crash each device gets each occurrence once: repeated ticks and a second
scheduler meet the lease, a retry after 429/5xx skips the devices in `sent_to`.

Not sent, re-planned from now: an occurrence more than an hour stale, and one whose user
practised in the last two hours (a session started or ended then).
"""
from __future__ import annotations

import json
import logging
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, any_, bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql

from .. import dialect, planning
from .. import reminders as reminder_service
from ..dialect import insert
from ..extensions import db
from ..models import PracticeSession, PushSubscription, Reminder, ReminderDelivery, User
from ..push import vapid as vapid_keys
from ..push.sender import DEFAULT_CONCURRENCY, DEFAULT_TTL, Outcome, Push, Sender
from .lease import TickClock, lease_from, stopping

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
LEASE_MARGIN = timedelta(seconds=45)  # a batch's sending stops this long before its lease ends
STALE_AFTER = timedelta(hours=1)
PRACTISED_WITHIN = timedelta(hours=2)
KEEP_DELIVERIES = timedelta(days=35)
BATCH_SIZE = 500
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(minutes=15)

# A delivery row in these states is sent on to the devices not in its `sent_to`: `retry`
# after a 429/5xx, `sending` when the process sending it died (its lease ran out).
RESUMABLE = ("retry", "sending")

R = Reminder.__table__
D = ReminderDelivery.__table__
S = PushSubscription.__table__


@dataclass
class DispatchReport:
    sent: int = 0  # occurrences delivered to at least one device by this tick
    pushes: int = 0  # pushes the push services accepted
    retrying: int = 0  # occurrences left due with a back-off
    skipped: int = 0  # practised recently
    stale: int = 0
    failed: int = 0
    no_device: int = 0
    gone: int = 0  # subscriptions deleted after 404/410
    claimed: int = 0
    detail: dict[str, int] = field(default_factory=dict)


@dataclass
class _Item:
    row: Any  # the claimed reminder (id, user_id, local_time, weekdays, routine, planned_at, attempts)
    delivery_id: int | None = None
    delivery_status: str | None = None
    sent_to: list[int] = field(default_factory=list)
    targets: list[Any] = field(default_factory=list)  # subscription rows
    status: str | None = None  # the decision before sending
    delivered: list[int] = field(default_factory=list)
    retry_after: float | None = None
    retryable: bool = False
    retry_at: datetime | None = None
    payload: bytes = b""
    recorded: list[int] = field(default_factory=list)  # devices reached, committed while sending


def _setting(name: str, default: int) -> int:
    value = current_app.config.get(name) or os.environ.get(name)
    return int(value) if value else default


def send_due_reminders(now: datetime, *, batch_size: int | None = None, concurrency: int | None = None) -> DispatchReport:
    """Send every reminder due at `now`; returns what happened (`.sent` for the tick)."""
    app = current_app._get_current_object()
    batch_size = batch_size or _setting("COACH_DISPATCH_BATCH", BATCH_SIZE)
    concurrency = concurrency or _setting("COACH_PUSH_CONCURRENCY", DEFAULT_CONCURRENCY)
    report = DispatchReport()
    sender = Sender(
        vapid_keys.load(app),
        subject=app.config["VAPID_SUBJECT"],
        insecure_hosts=app.config.get("COACH_PUSH_INSECURE_HOSTS") or (),
        concurrency=concurrency,
        ttl=DEFAULT_TTL,
    )
    clock = TickClock(now)
    with sender:
        # Every handled row leaves the due set (re-planned, leased or backed off to a later
        # instant), so the loop ends; the cap is only a guard against a planning bug.
        for _ in range(100_000):
            if stopping.is_set():
                break
            rows, lease = _claim(now, clock(), batch_size)
            if not rows:
                break
            report.claimed += len(rows)
            _handle(rows, lease, now, clock, sender, report, app.config["COACH_PUBLIC_URL"])
    return report


def _among(column, ids):
    """`column IN ids`; on PostgreSQL `= ANY(array)`: one parameter instead of hundreds, so
    the driver does not parse a new statement for every batch."""
    if dialect.name() == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=postgresql.ARRAY(column.type)))
    return column.in_(ids)


# --- 1. claim ------------------------------------------------------------------------------


def _claim(now: datetime, clock_now: datetime, limit: int):
    lease = lease_from(clock_now, LEASE)
    due = select(R.c.id).where(R.c.next_fire_at <= now).order_by(R.c.next_fire_at).limit(limit)
    if dialect.name() == "postgresql":
        due = due.with_for_update(skip_locked=True)
    stmt = (
        update(R)
        .where(R.c.id.in_(due), R.c.next_fire_at <= now)
        .values(next_fire_at=lease, planned_at=db.func.coalesce(R.c.planned_at, R.c.next_fire_at))
        .returning(R.c.id, R.c.user_id, R.c.local_time, R.c.weekdays, R.c.routine, R.c.planned_at, R.c.attempts)
    )
    rows = db.session.execute(stmt).all()
    db.session.commit()
    return rows, lease


# --- 2.–4. one batch -------------------------------------------------------------------------


def _handle(rows, lease: datetime, now: datetime, clock: TickClock, sender: Sender, report: DispatchReport, public_url: str) -> None:
    items = [_Item(row=r) for r in rows]
    user_ids = sorted({r.user_id for r in rows})
    users = {u.id: u for u in db.session.scalars(select(User).where(_among(User.id, user_ids)))}
    # Plain values: the commits below expire the ORM objects, and re-loading each is a query.
    zones = {u.id: u.timezone for u in users.values()}
    subs: dict[int, list[Any]] = defaultdict(list)
    for s in db.session.execute(
        select(S.c.id, S.c.user_id, S.c.endpoint, S.c.p256dh, S.c.auth).where(_among(S.c.user_id, user_ids)).order_by(S.c.id)
    ):
        subs[s.user_id].append(s)
    since = now - PRACTISED_WITHIN
    P = PracticeSession
    practised = set(
        db.session.scalars(
            select(P.user_id)
            .where(
                _among(P.user_id, user_ids),
                or_(and_(P.started_at > since, P.started_at <= now), and_(P.ended_at > since, P.ended_at <= now)),
            )
            .distinct()
        )
    )
    # Deliveries of these occurrences. A reminder's older rows are skipped by the bound on
    # planned_at (occurrences of one batch are close together) and the exact pairs matched here.
    wanted = {(r.id, r.planned_at) for r in rows}
    existing = {
        (d.reminder_id, d.planned_at): d
        for d in db.session.execute(
            select(D.c.id, D.c.reminder_id, D.c.planned_at, D.c.status, D.c.sent_to).where(
                _among(D.c.reminder_id, [r.id for r in rows]), D.c.planned_at >= min(r.planned_at for r in rows)
            )
        )
        if (d.reminder_id, d.planned_at) in wanted
    }

    # Decide, before anything is written.
    for item in items:
        r = item.row
        d = existing.get((r.id, r.planned_at))
        if d is not None:
            item.delivery_id, item.delivery_status, item.sent_to = d.id, d.status, list(d.sent_to or [])
        if d is not None and d.status not in RESUMABLE:
            item.status = "done"  # handled before (a crash between recording and re-planning)
        elif r.user_id not in users:
            item.status = "done"
        elif now - r.planned_at > STALE_AFTER:
            item.status = "stale"
        elif r.user_id in practised:
            item.status = "skipped"
        else:
            item.targets = [s for s in subs.get(r.user_id, []) if s.id not in item.sent_to]
            if item.targets:
                item.status = "send"
            else:
                item.status = "sent" if item.sent_to else "no_device"

    _payloads([i for i in items if i.status == "send"], users, public_url)
    _record_before_sending(items, now)
    replans = [i for i in items if i.status != "send"]
    _write_reminders(replans, lease, now, zones)
    for item in replans:
        _count(report, item.status)
    db.session.commit()

    to_send = [i for i in items if i.status == "send"]
    if not to_send:
        return
    pushes = _pushes(to_send)
    budget = (lease - LEASE_MARGIN - clock()).total_seconds()
    outcomes = sender.send_all(pushes, budget=max(budget, 0.0), record=_Progress.for_engine(db.engine))
    _finish(to_send, outcomes, lease, now, zones, report)


class _Progress:
    """Commits the devices each push reached (the delivery's `sent_to`) while the batch is
    still sending, a few pushes per commit, on a connection of its own. The sender calls it
    on its event loop, so it is kept lean: one plain driver statement per commit."""

    def __init__(self, engine):
        self.engine = engine
        self.conn = None

    @staticmethod
    def rows(outcomes: list[Outcome]) -> tuple[list[int], list[str]]:
        """(delivery ids, their `sent_to` as JSON) after these outcomes."""
        touched: dict[int, _Item] = {}
        for outcome in outcomes:
            item, sub_id = outcome.tag
            item.recorded.append(sub_id)
            touched[id(item)] = item
        items = touched.values()
        return [i.delivery_id for i in items], [json.dumps(i.sent_to + i.recorded) for i in items]

    @staticmethod
    def for_engine(engine) -> _Progress:
        return _PostgresProgress(engine) if engine.dialect.name == "postgresql" else _SqliteProgress(engine)


class _SqliteProgress(_Progress):
    """A plain call: SQLite answers in-process, there is no round trip to overlap."""

    SQL = f"UPDATE {D.name} SET sent_to = ? WHERE id = ?"

    def __call__(self, outcomes: list[Outcome]) -> None:
        ids, reached = self.rows(outcomes)
        if self.conn is None:
            self.conn = self.engine.raw_connection()
        try:
            cursor = self.conn.cursor()
            cursor.executemany(self.SQL, list(zip(reached, ids)))
            cursor.close()
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise

    async def aclose(self) -> None:
        if self.conn is not None:
            self.conn.close()  # back to the pool


class _PostgresProgress(_Progress):
    """A coroutine on psycopg's asyncio connection, so the loop goes on sending while the
    database answers. Each write is one statement in its own transaction (autocommit: one
    round trip) that does not wait for the WAL to reach the disk (`synchronous_commit =
    off`): that wait would hold every push in flight, and what it guards against is only
    the database server itself crashing in the next fraction of a second, which would
    repeat those pushes (same Topic), never lose one. A crash of this process loses nothing
    that was committed."""

    SQL = (
        f"UPDATE {D.name} AS d SET sent_to = v.sent_to::json "
        "FROM unnest(%s::integer[], %s::text[]) AS v(id, sent_to) WHERE d.id = v.id"
    )

    async def __call__(self, outcomes: list[Outcome]) -> None:
        ids, reached = self.rows(outcomes)
        if self.conn is None:
            import psycopg

            url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self.conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
            await self.conn.execute("SET synchronous_commit TO off")
        await self.conn.execute(self.SQL, (ids, reached))

    async def aclose(self) -> None:
        if self.conn is not None:
            await self.conn.close()


def _count(report: DispatchReport, status: str) -> None:
    attr = {"stale": "stale", "skipped": "skipped", "no_device": "no_device"}.get(status)
    if attr:
        setattr(report, attr, getattr(report, attr) + 1)
    report.detail[status] = report.detail.get(status, 0) + 1


def _insert_ignoring_conflicts(values: list[dict]) -> dict[int, int]:
    """Insert delivery rows; returns {reminder id: delivery id} for the new ones (a conflict
    means another process recorded that occurrence first)."""
    if not values:
        return {}
    stmt = insert(D).on_conflict_do_nothing(index_elements=["reminder_id", "planned_at"])
    result = db.session.execute(stmt.returning(D.c.id, D.c.reminder_id), values)
    return {row.reminder_id: row.id for row in result}


def _record_before_sending(items: list[_Item], now: datetime) -> None:
    new_rows, updates = [], []
    for item in items:
        if item.status == "done":
            continue
        status = "sending" if item.status == "send" else item.status
        if item.delivery_id is None:
            new_rows.append(
                {"reminder_id": item.row.id, "planned_at": item.row.planned_at, "sent_at": now, "status": status, "sent_to": None}
            )
        else:
            updates.append(item)
    inserted = _insert_ignoring_conflicts(new_rows)
    for item in items:
        if item.delivery_id is None and item.status != "done":
            if item.row.id in inserted:
                item.delivery_id = inserted[item.row.id]
            else:
                item.status = "done"  # someone else owns this occurrence
    if updates:
        # retry (or a dead process's sending) → sending, or → a final status.
        claimed = set(
            db.session.scalars(
                update(D)
                .where(_among(D.c.id, [i.delivery_id for i in updates if i.status == "send"]), D.c.status.in_(RESUMABLE))
                .values(status="sending", sent_at=now)
                .returning(D.c.id)
            )
        ) if any(i.status == "send" for i in updates) else set()
        finals = [i for i in updates if i.status != "send"]
        if finals:
            db.session.connection().execute(
                update(D).where(D.c.id == bindparam("d_id")).values(status=bindparam("d_status"), sent_at=now),
                [{"d_id": i.delivery_id, "d_status": i.status} for i in finals],
            )
        for item in updates:
            if item.status == "send" and item.delivery_id not in claimed:
                item.status = "done"


def _write_reminders(items: list[_Item], lease: datetime, now: datetime, zones: dict[int, str]) -> None:
    """Re-plan or back off each reminder, only where it still holds this batch's lease.

    Reminders that get the same values are written by one statement (most share a
    schedule, and a batch's back-offs share an instant): a few statements a batch, not one
    per row."""
    plans: dict[tuple, datetime | None] = {}
    replanned: dict[datetime | None, list[int]] = defaultdict(list)
    backed_off: dict[datetime, list[int]] = defaultdict(list)
    for item in items:
        r = item.row
        if item.status == "retry":
            backed_off[item.retry_at].append(r.id)
            continue
        tz = zones.get(r.user_id)
        key = (r.local_time, tuple(r.weekdays), tz)
        if key not in plans:
            plans[key] = planning.next_occurrence(r.local_time, r.weekdays, tz, now) if tz else None
        replanned[plans[key]].append(r.id)
    for nxt, ids in replanned.items():
        db.session.execute(
            update(R).where(_among(R.c.id, ids), R.c.next_fire_at == lease).values(next_fire_at=nxt, planned_at=nxt, attempts=0)
        )
    for retry_at, ids in backed_off.items():  # planned_at stays: the same occurrence, later
        db.session.execute(
            update(R)
            .where(_among(R.c.id, ids), R.c.next_fire_at == lease)
            .values(next_fire_at=retry_at, attempts=R.c.attempts + 1)
        )


# --- 3. the messages -------------------------------------------------------------------------


def _routine_info(user: User, slug: str | None, cache: dict) -> dict[str, Any] | None:
    """The routine as the routines service plans it for this user; None when the
    reminder names none or the routine is gone (the message then names none). A built-in
    depends only on the user's resonance rate, so it is planned once per batch and rate."""
    if not slug:
        return None
    from ..routines.catalogue import BUILTIN_SLUGS
    from ..routines.service import get_routine

    key = (slug, user.resonance_bpm) if slug in BUILTIN_SLUGS else (slug, user.id)
    if key not in cache:
        cache[key] = get_routine(user, slug)
    return cache[key]


def _payloads(items: list[_Item], users: dict[int, User], public_url: str) -> None:
    """Each item's message, made while the users are loaded (before any commit expires them)."""
    routines: dict = {}
    encoded: dict = {}
    for item in items:
        r = item.row
        user = users[r.user_id]
        routine = _routine_info(user, r.routine, routines)
        key = (r.routine, id(routine), user.language)  # in the user's own language
        if key not in encoded:
            message = reminder_service.message(routine, public_url, user.language)
            encoded[key] = json.dumps(message, separators=(",", ":")).encode()
        item.payload = encoded[key]


def _pushes(items: list[_Item]) -> list[Push]:
    return [
        Push(tag=(item, s.id), endpoint=s.endpoint, p256dh=s.p256dh, auth=s.auth, payload=item.payload, topic=f"r{item.row.id}")
        for item in items
        for s in item.targets
    ]


# --- 4. finish -------------------------------------------------------------------------------


def backoff(attempt: int, retry_after: float | None) -> timedelta:
    """Exponential (30 s, 1 min, 2 min … ≤ 15 min), never sooner than Retry-After asks."""
    delay = min(BACKOFF_BASE * (2 ** max(attempt - 1, 0)), BACKOFF_CAP)
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return delay


def _finish(items: list[_Item], outcomes: list[Outcome], lease: datetime, now: datetime, zones, report: DispatchReport) -> None:
    gone: set[int] = set()
    problems: Counter[str] = Counter()
    for outcome in outcomes:
        item, sub_id = outcome.tag
        if outcome.status == "delivered":
            item.delivered.append(sub_id)
            report.pushes += 1
        elif outcome.status == "gone":
            gone.add(sub_id)
        elif outcome.status == "retry":
            item.retryable = True
            if outcome.retry_after is not None:
                item.retry_after = max(item.retry_after or 0.0, outcome.retry_after)
        else:  # refused by the guard, or a 4xx other than 404/410: not worth retrying
            log.debug("push to subscription %s: %s %s %s", sub_id, outcome.status, outcome.http_status, outcome.detail)
            problems[f"{outcome.status} {outcome.http_status or outcome.detail}"] += 1

    if problems:
        log.warning("pushes not delivered and not retried: %s", dict(problems))
    retrying: list[dict] = []
    final: dict[str, list[int]] = defaultdict(list)
    for item in items:
        r = item.row
        reached = item.sent_to + item.delivered
        if item.retryable:
            attempt = r.attempts + 1
            retry_at = now + backoff(attempt, item.retry_after)
            if attempt < MAX_ATTEMPTS and retry_at - r.planned_at <= STALE_AFTER:
                item.status, item.retry_at = "retry", retry_at
                report.retrying += 1
                report.detail["retry"] = report.detail.get("retry", 0) + 1
                retrying.append({"d_id": item.delivery_id, "d_sent_to": reached})
                if item.delivered:
                    report.sent += 1  # some devices have it now; the rest later
                continue
        item.status = "sent" if reached else "failed"
        if item.delivered:
            report.sent += 1
        elif not reached:
            report.failed += 1
        report.detail[item.status] = report.detail.get(item.status, 0) + 1
        final[item.status].append(item.delivery_id)

    for status, ids in final.items():
        db.session.execute(update(D).where(_among(D.c.id, ids)).values(status=status, sent_at=now))
    if retrying:  # each remembers which devices already have it
        db.session.connection().execute(
            update(D).where(D.c.id == bindparam("d_id")).values(status="retry", sent_to=bindparam("d_sent_to"), sent_at=now),
            retrying,
        )
    _write_reminders(items, lease, now, zones)
    if gone:
        db.session.execute(delete(S).where(_among(S.c.id, sorted(gone))))
        report.gone += len(gone)
    # Keep each reminder's history short: a reminder fires at most daily, so this bounds it.
    db.session.execute(
        delete(D).where(_among(D.c.reminder_id, [i.row.id for i in items]), D.c.planned_at < now - KEEP_DELIVERIES)
    )
    db.session.commit()
