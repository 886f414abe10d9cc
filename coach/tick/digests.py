"""The tick's digest step: claim the due summaries, send them, record them, plan the next.

Per batch of users (design.md, the database is the queue; claimed, leased and recorded by
coach.tick.claims, as reminders are):
1. claim: the due users' `digest_next_at` (`digest_enabled` and due) becomes this batch's
   lease instant, and `digest_planned_at` keeps the occurrence. Then the delivery row of
   each (user, ISO week of the local send date) is inserted `sending` under that unique
   key (a week recorded already is not inserted again); commit. A week whose row is already
   final (sent, skipped, failed, stale) is not sent again; one still `sending` was being
   sent by a process that died (a live one would still hold the user's lease) and is sent
   again now.
2. add up the batch's weeks in a few statements (gather), render and send over one SMTP
   connection (a sender thread sends each message while the next one is made). Each
   message the server accepts is marked `sent` and committed at once, by a thread of its
   own, and no more than MARK_WINDOW messages are ever on the wire or accepted but not yet
   marked (the sender waits for the marks). Sending stops LEASE_MARGIN before the lease
   ends; what is left waits for the next tick.
3. record the outcome: `skipped` (no sessions and the user did not ask for empty weeks),
   `failed` (the server refused the recipient for good, 5xx: not retried, next week goes
   as usual). A temporary failure (4xx, refused or lost connection, timeout) removes the
   claim and puts the user back in the queue for the same occurrence, after a short
   back-off that grows with how long it has been failing (a down server is not hammered
   every 30 s for days). A summary more than `STALE_AFTER` late is not sent. Then every
   other user of the batch is planned for next week; users are written only while they
   still hold this batch's lease (a change made through the API meanwhile wins).

After a crash, at least once: a killed process leaves its users leased and their weeks
`sending`; when the lease runs out a later tick claims them again and sends every week not
yet marked `sent`. Only the messages in flight at the instant of the kill (at most
MARK_WINDOW) can go out twice, and a repeat carries the same Message-ID (one per user and
week, coach.digest.render), so mail clients that de-duplicate show it once. Without a
crash each week goes once: a second scheduler meets the lease, a repeated tick the row.
"""
from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, delete, select, update

from ..digest.content import RoutineBook
from ..digest.gather import Target, gather
from ..digest.period import covered_monday
from ..digest.render import Composer, Recipient
from ..extensions import db
from ..mail import BackgroundSender, ConnectionFailure, PermanentFailure, TemporaryFailure, transport_from_config
from ..models import DigestDelivery, User
from ..planning import delivery_week, next_send
from ..timeutil import zone
from .claims import Queue, record_once
from .lease import TickClock

log = logging.getLogger(__name__)

BATCH_SIZE = 500
STALE_AFTER = timedelta(days=2)
MIN_RETRY_DELAY = timedelta(seconds=1)  # never again within the same tick
MAX_RETRY_DELAY = timedelta(hours=1)
DETAIL_MAX = 500
# Sending stops this long before the lease ends: a message already started may take a
# few SMTP commands of up to 30 s each (coach.mail's default timeout) to finish.
LEASE_MARGIN = timedelta(seconds=90)
# Messages on the wire or accepted but not yet marked `sent`: all a crash can repeat.
MARK_WINDOW = 4

D = DigestDelivery.__table__
U = User.__table__
QUEUE = Queue(U, due="digest_next_at", planned="digest_planned_at", ready=(U.c.digest_enabled.is_(True),), tiebreak=(U.c.id,))


@dataclass
class DigestReport:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    deferred: int = 0
    stale: int = 0
    resumed: int = 0  # weeks a process that died was sending, sent on by this tick


@dataclass(frozen=True)
class Claim:
    """What sending needs, copied out of the ORM row before the claim is committed."""

    recipient: Recipient
    timezone: str
    send_empty: bool
    planned_at: datetime
    iso_week: str

    @property
    def user_id(self) -> int:
        return self.recipient.user_id


@dataclass
class Batch:
    lease: datetime
    size: int = 0  # users claimed
    claims: list[Claim] = field(default_factory=list)  # weeks to send
    finals: list[dict] = field(default_factory=list)  # delivery rows settled while claiming
    next_at: dict[int, datetime | None] = field(default_factory=dict)  # every user's next week


@dataclass
class _Outcomes:
    final: list[dict] = field(default_factory=list)  # rows for the delivery update
    deferred: list[Claim] = field(default_factory=list)
    connection_lost: bool = False


class OutOfTime(ConnectionFailure):
    """The batch's lease is nearly over: no new message is started."""


class NotRecorded(ConnectionFailure):
    """A `sent` mark could not be committed: no new message is started."""


def send_due(now: datetime, *, batch_size: int = BATCH_SIZE, transport=None) -> DigestReport:
    """Send every summary due at `now`; called by the scheduler tick."""
    app = current_app._get_current_object()
    transport = transport or transport_from_config(app.config, app.instance_path)
    composer = None  # set up on the first batch: most ticks find nothing due
    report = DigestReport()
    clock = TickClock(now)
    for claimed, lease in QUEUE.batches(now, clock, batch_size, (U.c.id, U.c.digest_planned_at)):
        batch = _open_batch(dict(claimed), lease, now, report)
        outcomes = _Outcomes()
        if batch.claims:
            composer = composer or Composer(app)
            outcomes = _deliver(batch, now, clock, transport, composer, report)
        _record(batch, outcomes, now)
        if outcomes.connection_lost or batch.size < batch_size:
            break  # (a lost server: the rest waits for the next tick)
    return report


def _open_batch(planned_at: dict[int, datetime], lease: datetime, now: datetime, report: DigestReport) -> Batch:
    """The claimed users' weeks: each recorded `sending` (or `stale`), or found recorded."""
    batch = Batch(lease=lease)
    users = db.session.scalars(
        select(User).where(User.id.in_(planned_at)).execution_options(populate_existing=True)
    ).all()

    candidates: dict[int, Claim] = {}
    stale: set[int] = set()
    rows = []
    for user in users:
        planned = planned_at[user.id]
        week = delivery_week(planned, user.timezone)
        if now - planned > STALE_AFTER:
            stale.add(user.id)
        rows.append({"user_id": user.id, "iso_week": week, "sent_at": now, "status": "stale" if user.id in stale else "sending"})
        batch.next_at[user.id] = next_send(user, now)  # next week's occurrence, whatever happens to this one
        candidates[user.id] = Claim(
            recipient=Recipient.of(user),
            timezone=user.timezone,
            send_empty=bool(user.digest_send_empty),
            planned_at=planned,
            iso_week=week,
        )
    batch.size = len(users)
    won = dict(record_once(D, ("user_id", "iso_week"), rows, (D.c.user_id, D.c.status)))
    report.stale += sum(1 for status in won.values() if status == "stale")
    batch.claims = [candidates[user_id] for user_id, status in won.items() if status == "sending"]
    taken = [candidates[user_id] for user_id in candidates if user_id not in won]
    if taken:  # the week has a row already: finished, or left `sending` by a process that died
        left = {
            (row.user_id, row.iso_week)
            for row in db.session.execute(
                select(D.c.user_id, D.c.iso_week).where(D.c.user_id.in_([c.user_id for c in taken]), D.c.status == "sending")
            )
        }
        for claim in taken:
            if (claim.user_id, claim.iso_week) not in left:
                continue
            if claim.user_id in stale:
                batch.finals.append({"b_user": claim.user_id, "b_week": claim.iso_week, "status": "stale", "detail": None})
                report.stale += 1
            else:
                batch.claims.append(claim)
                report.resumed += 1
    db.session.commit()
    return batch


class _Marker:
    """Marks each message the server accepted `sent`, in a thread of its own so the next
    message goes out meanwhile, several per commit when they come together, on a plain
    driver connection of its own. `acquire()` before a message goes out waits while
    MARK_WINDOW messages are out or accepted and not yet marked."""

    def __init__(self, engine, window: int = MARK_WINDOW):
        self._engine = engine
        mark = "%s" if engine.dialect.name == "postgresql" else "?"
        self._sql = f"UPDATE {D.name} SET status = 'sent' WHERE user_id = {mark} AND iso_week = {mark} AND status = 'sending'"
        self._slots = threading.Semaphore(window)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self.error: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="digest-marks", daemon=True)
        self._thread.start()

    def acquire(self) -> None:
        self._slots.acquire()

    def release(self) -> None:
        self._slots.release()

    def sent(self, claim: Claim) -> None:
        self._queue.put(claim)  # its slot is released once the mark is committed

    def finish(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        conn = None
        try:
            while True:
                group = [self._queue.get()]
                while True:
                    try:
                        group.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                claims = [c for c in group if c is not None]
                if claims and self.error is None:
                    try:
                        conn = conn or self._engine.raw_connection()
                        cursor = conn.cursor()
                        cursor.executemany(self._sql, [(c.user_id, c.iso_week) for c in claims])
                        cursor.close()
                        conn.commit()
                    except Exception as exc:  # noqa: BLE001 - the batch stops sending and raises it
                        self.error = exc
                        log.error("digest: could not mark messages sent: %r", exc)
                for _ in claims:
                    self._slots.release()
                if None in group:
                    return
        finally:
            if conn is not None:
                try:
                    conn.close()
                except Exception:  # noqa: BLE001 - a broken connection is dropped by the pool
                    pass


class _MarkingConnection:
    """The batch's mail connection as the BackgroundSender sees it: no message is started
    once the lease is nearly over or a mark has failed, and each one the server accepts is
    handed to the marker."""

    def __init__(self, connection, marker: _Marker, clock: TickClock, deadline: datetime):
        self._connection = connection
        self._marker = marker
        self._clock = clock
        self._deadline = deadline
        self._claims: dict[int, Claim] = {}

    def expect(self, message, claim: Claim) -> None:
        self._claims[id(message)] = claim

    def send(self, message, recipient: str) -> None:
        claim = self._claims.pop(id(message))
        self._marker.acquire()
        try:
            if self._marker.error is not None:
                raise NotRecorded(f"could not record what was sent: {self._marker.error!r}")
            if self._clock() >= self._deadline:
                raise OutOfTime("the batch's lease is nearly over")
            self._connection.send(message, recipient)
        except BaseException:
            self._marker.release()
            raise
        self._marker.sent(claim)


def _deliver(batch: Batch, now: datetime, clock: TickClock, transport, composer: Composer, report: DigestReport) -> _Outcomes:
    claims = batch.claims
    targets = [Target(c.user_id, c.timezone, covered_monday(c.planned_at, zone(c.timezone))) for c in claims]
    figures = gather(targets, now)
    book = RoutineBook()
    out = _Outcomes()

    def final(claim: Claim, status: str, detail: str | None = None) -> None:
        out.final.append({"b_user": claim.user_id, "b_week": claim.iso_week, "status": status, "detail": detail})

    marker = _Marker(db.engine)
    try:
        with transport.connect() as conn:
            marking = _MarkingConnection(conn, marker, clock, deadline=batch.lease - LEASE_MARGIN)
            sender = BackgroundSender(marking)
            try:
                for claim in claims:
                    if sender.lost:
                        break  # the server went away (or time is up): make no more messages
                    week = figures[claim.user_id]
                    if week.sessions == 0 and not claim.send_empty:
                        final(claim, "skipped", "no sessions that week")
                        report.skipped += 1
                        continue
                    try:
                        view = composer.view(claim.recipient, week, book)
                        message = composer.message(
                            user_id=claim.user_id, email=claim.recipient.email, iso_week=claim.iso_week, view=view, now=now
                        )
                    except Exception:  # one user's odd data must not hold up everyone else's summary
                        log.exception("digest for user %s could not be composed", claim.user_id)
                        final(claim, "failed", "could not be composed")
                        report.failed += 1
                        continue
                    marking.expect(message, claim)
                    sender.submit(claim, message, claim.recipient.email)
            finally:
                results = sender.finish()
    finally:
        marker.finish()
    if marker.error is not None:
        # What was sent is marked up to the failure; the rest of the batch stays claimed
        # and is sent by a later tick when the lease runs out.
        raise marker.error
    handled = {claim.user_id for claim, _ in results} | {row["b_user"] for row in out.final}
    for claim, error in results:
        if error is None:
            report.sent += 1  # marked `sent` already
        elif isinstance(error, PermanentFailure):
            log.warning("digest for user %s refused: %s", claim.user_id, error)
            final(claim, "failed", str(error)[:DETAIL_MAX])
            report.failed += 1
        elif isinstance(error, TemporaryFailure):  # a ConnectionFailure too
            out.deferred.append(claim)
            report.deferred += 1
        else:  # a bug must not stop the batch; the claim stays, so no second copy later
            log.error("digest for user %s could not be sent", claim.user_id, exc_info=error)
            final(claim, "failed", "could not be sent")
            report.failed += 1
    if sender.lost:
        out.connection_lost = True
        unsent = [c for c in claims if c.user_id not in handled]
        out.deferred.extend(unsent)
        report.deferred += len(unsent)
        if isinstance(sender.lost, OutOfTime):
            log.warning("digest batch out of time, %d digests wait for the next tick", report.deferred)
        else:
            log.warning("mail server unavailable, %d digests wait for the next tick: %s", report.deferred, sender.lost)
    return out


def retry_at(planned_at: datetime, now: datetime) -> datetime:
    """Soon after a first failure, then less often: half the time it has been failing,
    between MIN_RETRY_DELAY and MAX_RETRY_DELAY."""
    delay = min(MAX_RETRY_DELAY, max(MIN_RETRY_DELAY, (now - planned_at) / 2))
    return now + delay


def _record(batch: Batch, outcomes: _Outcomes, now: datetime) -> None:
    """A constant number of statements whatever the batch holds (executemany)."""
    this_week = and_(D.c.user_id == bindparam("b_user"), D.c.iso_week == bindparam("b_week"))
    still_ours = and_(U.c.id == bindparam("b_user"), QUEUE.held(batch.lease))  # an edit meanwhile wins
    finals = batch.finals + outcomes.final
    if finals:
        db.session.execute(
            update(D).where(this_week).values(status=bindparam("status"), detail=bindparam("detail"), sent_at=now),
            finals,
        )
    deferred = {c.user_id for c in outcomes.deferred}
    if outcomes.deferred:
        keys = [{"b_user": c.user_id, "b_week": c.iso_week} for c in outcomes.deferred]
        db.session.execute(delete(D).where(this_week, D.c.status == "sending"), keys)
        db.session.execute(
            update(U)
            .where(still_ours, U.c.digest_enabled.is_(True))
            .values(digest_next_at=bindparam("b_retry"), digest_planned_at=bindparam("b_planned")),
            [
                {"b_user": c.user_id, "b_retry": retry_at(c.planned_at, now), "b_planned": c.planned_at}
                for c in outcomes.deferred
            ],
        )
    replans = [{"b_user": uid, "b_next": nxt} for uid, nxt in batch.next_at.items() if uid not in deferred]
    if replans:
        db.session.execute(
            update(U).where(still_ours).values(digest_next_at=bindparam("b_next"), digest_planned_at=bindparam("b_next")),
            replans,
        )
    db.session.commit()
