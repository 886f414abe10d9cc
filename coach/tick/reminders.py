"""The reminder step of the tick: the database is the queue (design.md, The scheduler).

Per batch of due reminders (claim, lease and record as coach.tick.claims does them for
every step):
1. claim: the due reminders' `next_fire_at` becomes this batch's lease instant, and
   `planned_at` keeps the occurrence.
2. record: a `ReminderDelivery(reminder, planned_at)` row, unique, with status `sending`,
   is inserted and committed BEFORE any push goes out.
3. send to every subscription of the user, concurrently (coach.push.sender): the slow
   part is the network and the per-message encryption, so no row is locked meanwhile.
   Each device reached is added to the row's `sent_to` and committed as it happens (many
   per commit when they come together), and a push counts against the send concurrency
   until its device is recorded.
4. finish: delivery status, dead subscriptions (404/410) deleted, endpoints that keep
   giving no answer set aside for hours, and each reminder either re-planned to its next
   occurrence or, after a 429/5xx/no answer, left due at a back-off instant with the
   same planned_at (so the retry reuses the delivery row and skips devices that already
   got it). The reminder row is written only while it still holds this batch's lease: an
   edit made through the API meanwhile wins.

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
practised in the last two hours (a session of a minute or more started or ended then).
"""
from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from concurrent.futures import FIRST_COMPLETED
from concurrent.futures import wait as wait_for_any
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from flask import current_app
from sqlalchemy import and_, bindparam, delete, or_, select, update

from .. import planning
from .. import reminders as reminder_service
from ..extensions import db
from ..models import PracticeSession, PushSubscription, Reminder, ReminderDelivery, User
from ..push import vapid as vapid_keys
from ..push.sender import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, DEFAULT_TTL, Outcome, Push, Sender, Sending
from ..routines.catalogue import BUILTIN_SLUGS
from ..routines.service import get_routine
from .claims import Queue, among, record_once
from .lease import TickClock

log = logging.getLogger(__name__)

LEASE_MARGIN = timedelta(seconds=45)  # a batch's sending stops this long before its lease ends
STALE_AFTER = timedelta(hours=1)
PRACTISED_WITHIN = timedelta(hours=2)
KEEP_DELIVERIES = timedelta(days=35)
BATCH_SIZE = 500
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(minutes=15)
# An endpoint with this many pushes in a row unanswered (timed out or unreachable) is set
# aside for SET_ASIDE_FIRST, twice as long after each further one, at most SET_ASIDE_CAP.
SET_ASIDE_AFTER = 3
SET_ASIDE_FIRST = timedelta(hours=1)
SET_ASIDE_CAP = timedelta(hours=24)
PUSH_TIMEOUT = DEFAULT_TIMEOUT
# Batches under way at once. A batch waits for its slowest push; while every push it still
# waits for goes to a host that answers nobody (Sending.stalled: down, or an attacker's),
# the next batch is claimed and sent meanwhile, so that host's timeouts cost the others
# nothing. Otherwise one at a time: a graceful stop finishes the batch under way (and any
# stalled ones, which end by their timeouts).
MAX_UNDER_WAY = 8

# A delivery row in these states is sent on to the devices not in its `sent_to`: `retry`
# after a 429/5xx, `sending` when the process sending it died (its lease ran out).
RESUMABLE = ("retry", "sending")

R = Reminder.__table__
D = ReminderDelivery.__table__
S = PushSubscription.__table__
QUEUE = Queue(R, due="next_fire_at", planned="planned_at")
CLAIMED = (R.c.id, R.c.user_id, R.c.local_time, R.c.weekdays, R.c.routine, R.c.planned_at, R.c.attempts)


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


@dataclass
class _UnderWay:
    """A batch whose pushes are on their way."""

    items: list[_Item]
    lease: datetime
    zones: dict[int, str]
    sending: Sending


def send_due_reminders(
    now: datetime, *, batch_size: int = BATCH_SIZE, concurrency: int = DEFAULT_CONCURRENCY
) -> DispatchReport:
    """Send every reminder due at `now`, `batch_size` claimed at a time and `concurrency`
    pushes at once; returns what happened (`.sent` for the tick)."""
    app = current_app._get_current_object()
    report = DispatchReport()
    sender = Sender(
        vapid_keys.load(app),
        subject=app.config["VAPID_SUBJECT"],
        insecure_hosts=app.config.get("COACH_PUSH_INSECURE_HOSTS") or (),
        concurrency=concurrency,
        ttl=DEFAULT_TTL,
        timeout=PUSH_TIMEOUT,
    )
    clock = TickClock(now)
    under_way: list[_UnderWay] = []
    with sender:
        for rows, lease in QUEUE.batches(now, clock, batch_size, CLAIMED):
            report.claimed += len(rows)
            batch = _start(rows, lease, now, clock, sender, report, app.config["COACH_PUBLIC_URL"])
            if batch is not None:
                under_way.append(batch)
            _finish_done(under_way, now, report)
        for batch in under_way:  # stalled ones: they end by their timeouts
            _complete(batch, now, report)
    return report


def _finish_done(under_way: list[_UnderWay], now: datetime, report: DispatchReport) -> None:
    """Finish each batch as it is done; return once none is left, or once every one left is
    stalled (and there is room for another)."""
    while under_way:
        for batch in [b for b in under_way if b.sending.done()]:
            under_way.remove(batch)
            _complete(batch, now, report)
        if not under_way or (len(under_way) < MAX_UNDER_WAY and all(b.sending.stalled() for b in under_way)):
            return
        wait_for_any([b.sending.future for b in under_way], timeout=0.05, return_when=FIRST_COMPLETED)


def _complete(batch: _UnderWay, now: datetime, report: DispatchReport) -> None:
    outcomes = batch.sending.future.result()
    _finish(batch.items, outcomes, batch.lease, now, batch.zones, report)


# --- 2.–4. one batch -------------------------------------------------------------------------


def _start(
    rows, lease: datetime, now: datetime, clock: TickClock, sender: Sender, report: DispatchReport, public_url: str
) -> _UnderWay | None:
    """Decide, record and commit a claimed batch, then hand its pushes to the sender (None:
    nothing to send, the batch is finished)."""
    items = [_Item(row=r) for r in rows]
    user_ids = sorted({r.user_id for r in rows})
    users = {u.id: u for u in db.session.scalars(select(User).where(among(User.id, user_ids)))}
    # Plain values: the commits below expire the ORM objects, and re-loading each is a query.
    zones = {u.id: u.timezone for u in users.values()}
    subs: dict[int, list[Any]] = defaultdict(list)
    for s in db.session.execute(
        select(S.c.id, S.c.user_id, S.c.endpoint, S.c.p256dh, S.c.auth, S.c.failures)
        .where(among(S.c.user_id, user_ids), or_(S.c.set_aside_until.is_(None), S.c.set_aside_until <= now))
        .order_by(S.c.id)
    ):
        subs[s.user_id].append(s)
    since = now - PRACTISED_WITHIN
    P = PracticeSession
    practised = set(
        db.session.scalars(
            select(P.user_id)
            .where(
                among(P.user_id, user_ids),
                P.short.is_(False),  # a session of seconds counts nowhere, here neither (api.md)
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
                among(D.c.reminder_id, [r.id for r in rows]), D.c.planned_at >= min(r.planned_at for r in rows)
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
        return None
    budget = (lease - LEASE_MARGIN - clock()).total_seconds()
    sending = sender.submit(_pushes(to_send), budget=max(budget, 0.0), record=_Progress.for_engine(db.engine))
    return _UnderWay(to_send, lease, zones, sending)


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
    # A conflict: another process recorded that occurrence first.
    inserted = {
        row.reminder_id: row.id for row in record_once(D, ("reminder_id", "planned_at"), new_rows, (D.c.id, D.c.reminder_id))
    }
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
                .where(among(D.c.id, [i.delivery_id for i in updates if i.status == "send"]), D.c.status.in_(RESUMABLE))
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
            update(R).where(among(R.c.id, ids), QUEUE.held(lease)).values(next_fire_at=nxt, planned_at=nxt, attempts=0)
        )
    for retry_at, ids in backed_off.items():  # planned_at stays: the same occurrence, later
        db.session.execute(
            update(R)
            .where(among(R.c.id, ids), QUEUE.held(lease))
            .values(next_fire_at=retry_at, attempts=R.c.attempts + 1)
        )


# --- 3. the messages -------------------------------------------------------------------------


def _routine_info(user: User, slug: str | None, cache: dict) -> dict[str, Any] | None:
    """The routine as the routines service plans it for this user; None when the
    reminder names none or the routine is gone (the message then names none). A built-in
    depends only on the user's resonance rate, so it is planned once per batch and rate."""
    if not slug:
        return None
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
    """A reminder is time-critical: `Urgency: high` (with `normal` some Android phones hold
    it back for minutes). Each push is its user's: users are served round-robin."""
    return [
        Push(
            tag=(item, s.id),
            endpoint=s.endpoint,
            p256dh=s.p256dh,
            auth=s.auth,
            payload=item.payload,
            topic=f"r{item.row.id}",
            urgency="high",
            owner=item.row.user_id,
        )
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


def set_aside_until(failures: int, now: datetime) -> datetime | None:
    """When an endpoint with `failures` unanswered pushes in a row is tried again (None: at
    once, as the reminder's own back-off asks)."""
    if failures < SET_ASIDE_AFTER:
        return None
    return now + min(SET_ASIDE_FIRST * 2 ** (failures - SET_ASIDE_AFTER), SET_ASIDE_CAP)


def _finish(items: list[_Item], outcomes: list[Outcome], lease: datetime, now: datetime, zones, report: DispatchReport) -> None:
    gone: set[int] = set()
    answered: set[int] = set()
    unanswered: set[int] = set()
    problems: Counter[str] = Counter()
    for outcome in outcomes:
        item, sub_id = outcome.tag
        if outcome.status == "delivered":
            item.delivered.append(sub_id)
            answered.add(sub_id)
            report.pushes += 1
        elif outcome.status == "gone":
            gone.add(sub_id)
        elif outcome.status in ("retry", "timeout", "set_aside"):
            # 429/5xx, no answer in time, or not tried (its endpoint timed out earlier in
            # this tick): the occurrence stays due with a back-off.
            item.retryable = True
            if outcome.status == "timeout":
                unanswered.add(sub_id)
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
        db.session.execute(update(D).where(among(D.c.id, ids)).values(status=status, sent_at=now))
    if retrying:  # each remembers which devices already have it
        db.session.connection().execute(
            update(D).where(D.c.id == bindparam("d_id")).values(status="retry", sent_to=bindparam("d_sent_to"), sent_at=now),
            retrying,
        )
    _write_reminders(items, lease, now, zones)
    _note_endpoints(items, answered, unanswered - answered, now)
    if gone:
        db.session.execute(delete(S).where(among(S.c.id, sorted(gone))))
        report.gone += len(gone)
    # Keep each reminder's history short: a reminder fires at most daily, so this bounds it.
    db.session.execute(
        delete(D).where(among(D.c.reminder_id, [i.row.id for i in items]), D.c.planned_at < now - KEEP_DELIVERIES)
    )
    db.session.commit()


def _note_endpoints(items: list[_Item], answered: set[int], unanswered: set[int], now: datetime) -> None:
    """Count each endpoint's unanswered pushes in a row (an answer resets the count) and set
    aside the ones that keep failing; one statement per distinct count."""
    failures = {s.id: s.failures for item in items for s in item.targets}
    recovered = sorted(sub_id for sub_id in answered if failures.get(sub_id))
    if recovered:
        db.session.execute(update(S).where(among(S.c.id, recovered)).values(failures=0, set_aside_until=None))
    by_count: dict[int, list[int]] = defaultdict(list)
    for sub_id in unanswered:
        by_count[failures.get(sub_id, 0) + 1].append(sub_id)
    for count, ids in by_count.items():
        db.session.execute(
            update(S).where(among(S.c.id, sorted(ids))).values(failures=count, set_aside_until=set_aside_until(count, now))
        )
