"""The tick's account-mail step: send the queued account emails (coach.accounts.outbox).

Claimed like the digests (a lease on `due_at`, `FOR UPDATE SKIP LOCKED` on PostgreSQL), then
each message is decided against the account as it is now, so a superseded link, a changed
address or an unconfirmed address gets nothing: only the confirmations go to an address
that is not confirmed. A temporary mail failure puts the row back with a growing back-off.
Account mail is rare, so each message is recorded as it goes (no batching of the marks).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from .. import dialect
from ..accounts import links, outbox
from ..accounts.emails import AccountMail, View
from ..accounts.reset import password_tag
from ..extensions import db
from ..mail import ConnectionFailure, PermanentFailure, TemporaryFailure, transport_from_config
from ..models import AccountEmail, User
from .lease import TickClock, lease_from, stopping

log = logging.getLogger(__name__)

BATCH_SIZE = 100
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 12
MAX_RETRY_DELAY = timedelta(hours=1)
# Handled rows are kept as long as a link in them can work ("this wasn't me": 30 days).
KEEP_HANDLED = links.LIFETIME[links.NOT_ME] + timedelta(days=1)
E = AccountEmail.__table__


@dataclass
class AccountMailReport:
    sent: int = 0
    dropped: int = 0  # nothing to send any more (superseded, unconfirmed, unknown address)
    failed: int = 0
    deferred: int = 0


def retry_at(attempts: int, now: datetime) -> datetime:
    return now + min(MAX_RETRY_DELAY, timedelta(seconds=30 * 2 ** max(0, attempts - 1)))


def send_due(now: datetime, *, batch_size: int = BATCH_SIZE, transport=None) -> AccountMailReport:
    app = current_app._get_current_object()
    report = AccountMailReport()
    clock = TickClock(now)
    mail = None
    while not stopping.is_set():
        ids = _claim(now, clock, batch_size)
        if not ids:
            break
        transport = transport or transport_from_config(app.config, app.instance_path)
        mail = mail or AccountMail(app)
        rows = db.session.scalars(select(AccountEmail).where(AccountEmail.id.in_(ids)).order_by(AccountEmail.id)).all()
        lost = False
        with transport.connect() as conn:
            for row in rows:
                if lost:
                    _defer(row, now, report)
                    continue
                lost = _handle(row, conn, mail, now, report)
                db.session.commit()
        if lost or len(ids) < batch_size:
            break
    if mail is not None:  # rows were handled: those past any use go (rarely run, so cheap enough)
        db.session.execute(delete(E).where(E.c.due_at.is_(None), E.c.created_at < now - KEEP_HANDLED))
        db.session.commit()
    return report


def _claim(now: datetime, clock: TickClock, batch_size: int) -> list[int]:
    due = select(E.c.id).where(E.c.due_at <= now).order_by(E.c.due_at, E.c.id).limit(batch_size)
    if dialect.name() == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = db.session.execute(
        update(E).where(E.c.id.in_(due), E.c.due_at <= now)
        .values(due_at=lease_from(clock(), LEASE), attempts=E.c.attempts + 1)
        .returning(E.c.id)
    ).scalars().all()
    db.session.commit()
    return list(ids)


def _done(row: AccountEmail, status: str, now: datetime, detail: str | None = None) -> None:
    row.status, row.due_at, row.detail = status, None, detail
    if status == "sent":
        row.sent_at = now


def _defer(row: AccountEmail, now: datetime, report: AccountMailReport) -> None:
    if row.attempts >= MAX_ATTEMPTS:
        _done(row, "failed", now, "gave up after repeated temporary failures")
        report.failed += 1
    else:
        row.due_at = retry_at(row.attempts, now)
        report.deferred += 1


def _view(row: AccountEmail, user: User | None, mail: AccountMail, now: datetime) -> View | None:
    """What to send for this row as the account is now; None: nothing any more."""
    if row.kind == outbox.RESET_REQUEST:
        found = db.session.scalar(select(User).where(User.email == row.address))
        if found is None or found.email_confirmed_at is None:
            row.address = ""  # an address without a (confirmed) account is not kept
            return None
        row.user_id, row.nonce, user = found.id, links.new_nonce(), found
        user.reset_nonce = row.nonce  # a newer link voids the older ones
        return mail.reset(user.id, row.nonce, password_tag(user), now)
    if user is None or not row.nonce:
        return None
    if row.kind == outbox.CONFIRM:
        if user.email == row.address and user.email_confirmed_at is None and user.confirm_nonce == row.nonce:
            return mail.confirm(user.id, row.address, row.nonce, now, change=False)
    elif row.kind == outbox.CONFIRM_NEW:
        if user.pending_email == row.address and user.confirm_nonce == row.nonce:
            return mail.confirm(user.id, row.address, row.nonce, now, change=True)
    elif row.kind == outbox.CHANGED:
        if row.other_address:  # the old address was the confirmed one when the change was asked
            return mail.changed(user.id, row.address, row.other_address, row.nonce, now)
    elif row.kind == outbox.RESET:
        if user.email == row.address and user.email_confirmed_at is not None and user.reset_nonce == row.nonce:
            return mail.reset(user.id, row.nonce, password_tag(user), now)
    return None


def _handle(row: AccountEmail, conn, mail: AccountMail, now: datetime, report: AccountMailReport) -> bool:
    """Send one row; True when the mail server is lost (the rest waits)."""
    user = db.session.get(User, row.user_id) if row.user_id is not None else None
    try:
        view = _view(row, user, mail, now)
    except Exception:  # one odd row must not hold up the others
        log.exception("account email %s could not be composed", row.id)
        _done(row, "failed", now, "could not be composed")
        report.failed += 1
        return False
    if view is None:
        _done(row, "dropped", now)
        report.dropped += 1
        return False
    try:
        conn.send(mail.message(key=str(row.id), address=row.address, view=view, now=now), row.address)
    except ConnectionFailure as exc:
        log.warning("mail server unavailable, account emails wait for the next tick: %s", exc)
        _defer(row, now, report)
        return True
    except TemporaryFailure:
        _defer(row, now, report)
        return False
    except PermanentFailure as exc:
        _done(row, "failed", now, str(exc)[:500])
        report.failed += 1
        return False
    _done(row, "sent", now)
    report.sent += 1
    return False
