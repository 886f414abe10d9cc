"""The tick's digest step: claim the due summaries, send them, record them, plan the next.

Per batch of users (design.md, the database is the queue):
1. select the due users (`digest_enabled` and `digest_next_at <= now`), on PostgreSQL with
   `FOR UPDATE SKIP LOCKED` so parallel schedulers take different users;
2. claim each (user, ISO week of the local send date) by inserting its delivery row with
   `ON CONFLICT DO NOTHING … RETURNING`: only the process whose row went in sends, on every
   database, and a week already handled is never sent again; re-plan every selected user for
   next week; commit. From here on the week can only be sent once: a crash while sending
   loses that week's summary rather than sending it twice;
3. add up the batch's weeks in a few statements (gather), render and send over one SMTP
   connection (a sender thread sends each message while the next one is made);
4. record the outcome: `sent`, `skipped` (no sessions and the user did not ask for empty
   weeks), `failed` (the server refused the recipient for good, 5xx: not retried, next
   week goes as usual). A temporary failure (4xx, refused or lost connection, timeout)
   removes the claim and puts the user back in the queue for the same occurrence, after a
   short back-off that grows with how long it has been failing (a down server is not
   hammered every 30 s for days). A summary more than `STALE_AFTER` late is not sent.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..mail import BackgroundSender, PermanentFailure, TemporaryFailure, transport_from_config
from ..models import DigestDelivery, User
from ..timeutil import zone
from .content import RoutineBook
from .gather import Target, gather
from .period import covered_monday
from .render import Composer, Recipient
from .schedule import delivery_week, plan_digest

log = logging.getLogger(__name__)

BATCH_SIZE = 500
STALE_AFTER = timedelta(days=2)
MIN_RETRY_DELAY = timedelta(seconds=1)  # never again within the same tick
MAX_RETRY_DELAY = timedelta(hours=1)
DETAIL_MAX = 500


@dataclass
class DigestReport:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    deferred: int = 0
    stale: int = 0


@dataclass(frozen=True)
class Claim:
    """What sending needs, copied out of the ORM row before the claim is committed."""

    recipient: Recipient
    timezone: str
    send_empty: bool
    planned_at: datetime
    iso_week: str
    replanned_at: datetime | None  # what step 2 set, so a retry does not undo a user's change

    @property
    def user_id(self) -> int:
        return self.recipient.user_id


@dataclass
class _Outcomes:
    final: list[dict] = field(default_factory=list)  # rows for the delivery update
    deferred: list[Claim] = field(default_factory=list)
    connection_lost: bool = False


def send_due(now: datetime, *, batch_size: int = BATCH_SIZE, transport=None) -> DigestReport:
    """Send every summary due at `now`; called by the scheduler tick."""
    app = current_app._get_current_object()
    transport = transport or transport_from_config(app.config, app.instance_path)
    composer = None  # set up on the first batch: most ticks find nothing due
    report = DigestReport()
    while True:
        claims, selected = _claim_batch(now, batch_size, report)
        if claims:
            composer = composer or Composer(app)
            outcomes = _deliver(claims, now, transport, composer, report)
            _record(outcomes, now)
            if outcomes.connection_lost:
                break  # the server is away: the rest waits for the next tick
        if selected < batch_size:
            break
    return report


def _insert(dialect: str):
    return pg_insert if dialect == "postgresql" else sqlite_insert


def _claim_batch(now: datetime, batch_size: int, report: DigestReport) -> tuple[list[Claim], int]:
    dialect = db.session.get_bind().dialect.name
    due = (
        select(User)
        .where(User.digest_enabled.is_(True), User.digest_next_at <= now)
        .order_by(User.digest_next_at, User.id)
        .limit(batch_size)
    )
    if dialect == "postgresql":
        due = due.with_for_update(skip_locked=True, of=User)
    users = db.session.scalars(due).all()
    if not users:
        db.session.rollback()
        return [], 0

    candidates: dict[int, Claim] = {}
    rows = []
    for user in users:
        planned = user.digest_planned_at or user.digest_next_at
        week = delivery_week(planned, user.timezone)
        stale = now - planned > STALE_AFTER
        rows.append({"user_id": user.id, "iso_week": week, "sent_at": now, "status": "stale" if stale else "sending"})
        plan_digest(user, now)  # next week's occurrence, whatever happens to this one
        if not stale:
            candidates[user.id] = Claim(
                recipient=Recipient.of(user),
                timezone=user.timezone,
                send_empty=bool(user.digest_send_empty),
                planned_at=planned,
                iso_week=week,
                replanned_at=user.digest_next_at,
            )
    d = DigestDelivery.__table__
    stmt = (
        _insert(dialect)(d)
        .on_conflict_do_nothing(index_elements=["user_id", "iso_week"])
        .returning(d.c.user_id, d.c.status)
    )
    won = db.session.execute(stmt, rows).all()  # executemany: one multi-row INSERT per page
    db.session.commit()
    report.stale += sum(1 for _, status in won if status == "stale")
    claims = [candidates[user_id] for user_id, status in won if status == "sending"]
    return claims, len(users)


def _deliver(claims: list[Claim], now: datetime, transport, composer: Composer, report: DigestReport) -> _Outcomes:
    targets = [Target(c.user_id, c.timezone, covered_monday(c.planned_at, zone(c.timezone))) for c in claims]
    figures = gather(targets, now)
    book = RoutineBook()
    out = _Outcomes()

    def final(claim: Claim, status: str, detail: str | None = None) -> None:
        out.final.append({"b_user": claim.user_id, "b_week": claim.iso_week, "status": status, "detail": detail})

    with transport.connect() as conn:
        sender = BackgroundSender(conn)
        try:
            for claim in claims:
                if sender.lost:
                    break  # the server went away: make no more messages for this batch
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
                sender.submit(claim, message, claim.recipient.email)
        finally:
            results = sender.finish()
    handled = {claim.user_id for claim, _ in results} | {row["b_user"] for row in out.final}
    for claim, error in results:
        if error is None:
            final(claim, "sent")
            report.sent += 1
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
        log.warning("mail server unavailable, %d digests wait for the next tick: %s", report.deferred, sender.lost)
    return out


def retry_at(planned_at: datetime, now: datetime) -> datetime:
    """Soon after a first failure, then less often: half the time it has been failing,
    between MIN_RETRY_DELAY and MAX_RETRY_DELAY."""
    delay = min(MAX_RETRY_DELAY, max(MIN_RETRY_DELAY, (now - planned_at) / 2))
    return now + delay


def _record(outcomes: _Outcomes, now: datetime) -> None:
    """A constant number of statements whatever the batch holds (executemany)."""
    d = DigestDelivery.__table__
    this_week = and_(d.c.user_id == bindparam("b_user"), d.c.iso_week == bindparam("b_week"))
    if outcomes.final:
        db.session.execute(
            update(d).where(this_week).values(status=bindparam("status"), detail=bindparam("detail"), sent_at=now),
            outcomes.final,
        )
    if outcomes.deferred:
        keys = [{"b_user": c.user_id, "b_week": c.iso_week} for c in outcomes.deferred]
        db.session.execute(delete(d).where(this_week, d.c.status == "sending"), keys)
        u = User.__table__
        db.session.execute(
            update(u)
            .where(
                u.c.id == bindparam("b_user"),
                u.c.digest_enabled.is_(True),
                u.c.digest_next_at == bindparam("b_replanned"),
            )
            .values(digest_next_at=bindparam("b_retry"), digest_planned_at=bindparam("b_planned")),
            [
                {
                    "b_user": c.user_id,
                    "b_replanned": c.replanned_at,
                    "b_retry": retry_at(c.planned_at, now),
                    "b_planned": c.planned_at,
                }
                for c in outcomes.deferred
            ],
        )
    db.session.commit()

