"""Graceful shutdown: SIGTERM to `flask coach scheduler` in the middle of a tick stops it
within one batch. The batch it holds is finished (none left `sending`, none left leased),
no further batch is claimed, and what is left stays due for the next scheduler, which
sends it: nothing lost, nothing twice, and the process exits 0.

A real process on real time: a few thousand reminders and some weekly summaries fall due
just before it starts, a slow loopback push service keeps each batch busy, and SIGTERM
comes once a few batches have gone out.
"""
from __future__ import annotations

import signal
import subprocess
from collections import Counter
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from coach.extensions import db
from coach.models import DigestDelivery, PushSubscription, Reminder, ReminderDelivery, User
from tests.helpers.apps import make_app
from tests.helpers.pg import private_postgres_database
from tests.helpers.processes import FLASK, ROOT, process_env, start, wait_until
from tests.helpers.push import PushService, vapid_keys
from tests.helpers.seeds import seed_digest_users, seed_due_reminders
from tests.helpers.smtp import SlowSmtp

BERLIN = ZoneInfo("Europe/Berlin")
N_REMINDERS = 3000
N_DIGESTS = 200
BATCH = 100
SIGNAL_AFTER = 300  # pushes delivered


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'coach.sqlite3'}"
        return
    url, drop = private_postgres_database()
    yield url
    drop()


def _planned(instant: datetime, weekday: int | None, hhmm: str) -> bool:
    """Whether `instant` is a plan (local `hhmm`, on `weekday` if given), not a lease."""
    local = instant.astimezone(BERLIN)
    return local.strftime("%H:%M") == hhmm and local.second == 0 and local.microsecond == 0 and (
        weekday is None or local.weekday() == weekday
    )


def test_sigterm_mid_tick_stops_within_one_batch_and_the_next_scheduler_sends_the_rest(database, tmp_path):
    keys = vapid_keys()
    due = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=30)
    # 20 ms a push, 16 at a time: a batch of 100 takes about 0.15 s, the whole queue seconds.
    with PushService(app_server_key=keys.public, delay=0.02) as push, SlowSmtp(delay=0.003) as smtp:
        devices = [push.device(f"dev{i}") for i in range(N_REMINDERS)]
        app = make_app(database, tmp_path)
        with app.app_context():
            db.create_all()
            seed_due_reminders(devices, due)
            seed_digest_users(N_DIGESTS, due)
            db.engine.dispose()
        env = process_env(database, tmp_path, keys, MAIL_URL=smtp.url, COACH_DISPATCH_BATCH=str(BATCH))

        proc = start(["scheduler"], env)
        try:
            wait_until(lambda: len(push.deliveries) >= SIGNAL_AFTER, 120, f"{SIGNAL_AFTER} pushes delivered", proc)
            proc.send_signal(signal.SIGTERM)
            at_signal = len(push.deliveries)
            out, _ = proc.communicate(timeout=180)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)
        pushed = Counter(d.endpoint for d in push.deliveries)
        mailed = smtp.per_recipient()
        assert push.errors == []

        assert proc.returncode == 0, out[-3000:]
        assert "SIGTERM" in out and "scheduler: stopped" in out

        with app.app_context():
            endpoint_of = dict(db.session.execute(select(PushSubscription.id, PushSubscription.endpoint)).all())
            reminder_rows = db.session.execute(select(ReminderDelivery.status, ReminderDelivery.sent_to)).all()
            nexts = list(db.session.scalars(select(Reminder.next_fire_at)))
            digest_rows = db.session.execute(
                select(User.email, DigestDelivery.status).join(DigestDelivery, DigestDelivery.user_id == User.id)
            ).all()
            digest_nexts = list(db.session.scalars(select(User.digest_next_at).where(User.digest_enabled.is_(True))))
            db.engine.dispose()

        # Within one batch: the batch in flight at the signal was finished, no other claimed.
        sent = len(pushed)
        assert sent % BATCH == 0, f"{sent} pushes: a batch was left half-sent"
        assert at_signal <= sent <= at_signal + BATCH, f"SIGTERM after {at_signal} pushes, {sent} sent before exit"
        assert mailed == Counter(), "the digest step claimed a batch after SIGTERM"
        # Nothing left half-done: no delivery `sending`, no lease left behind.
        assert "sending" not in {status for status, _ in reminder_rows}
        assert "sending" not in {status for _, status in digest_rows}
        assert all(n == due or _planned(n, None, "07:30") for n in nexts), "a reminder was left leased"
        assert all(n == due or _planned(n, 6, "18:00") for n in digest_nexts), "a user was left leased"
        # What the database says went out is what the push service got, once each.
        assert set(pushed.values()) == {1}
        sent_to = Counter(endpoint_of[s] for status, ids in reminder_rows if status == "sent" for s in ids or [])
        assert sent_to == pushed
        assert sum(1 for n in nexts if n == due) == N_REMINDERS - sent  # the rest untouched, due for the next scheduler
        assert sum(1 for n in digest_nexts if n == due) == N_DIGESTS

        # The next scheduler (one tick of it) sends the rest: nothing lost, nothing twice.
        after = subprocess.run(FLASK + ["tick"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert after.returncode == 0, after.stdout[-2000:] + after.stderr[-2000:]
        assert Counter(d.endpoint for d in push.deliveries) == Counter({d.endpoint: 1 for d in devices})
        assert set(smtp.per_recipient().values()) == {1} and len(smtp.per_recipient()) == N_DIGESTS
        assert push.errors == []
    print(f"\nSIGTERM after {at_signal} pushes: {sent} of {N_REMINDERS} sent before exit 0; the next tick sent the rest")


# --- in one process: the stop flag SIGTERM sets ----------------------------------------------------

AT = datetime(2026, 6, 1, 5, 30, tzinfo=timezone.utc)  # 07:30 in Berlin


@pytest.fixture
def app_config():
    return {"COACH_PUSH_INSECURE_HOSTS": ["127.0.0.1"], "COACH_DISPATCH_BATCH": 3}


@pytest.fixture
def stop_flag():
    from coach.tick.lease import stopping

    yield stopping
    stopping.clear()


def test_asked_to_stop_a_step_finishes_its_batch_and_claims_no_more(app, stop_flag, monkeypatch):
    """What SIGTERM asks of a running tick: the batch claimed is finished, the rest of the
    queue is left due (not leased) for the next scheduler."""
    from coach.push import vapid
    from coach.tick import reminders as dispatch
    from coach.tick.scheduler import tick

    with PushService(app_server_key=vapid.public_key(vapid.load(app))) as push:
        devices = [push.device() for _ in range(7)]
        rids = seed_due_reminders(devices, AT)
        real_complete = dispatch._complete

        def complete_then_stop(*args, **kwargs):
            real_complete(*args, **kwargs)
            stop_flag.set()  # SIGTERM arrives during the first batch

        monkeypatch.setattr(dispatch, "_complete", complete_then_stop)
        assert tick(AT).counts["reminders"] == 3
        db.session.expire_all()
        nexts = Counter(db.session.scalars(select(Reminder.next_fire_at).where(Reminder.id.in_(rids))))
        assert nexts == Counter({AT + timedelta(days=1): 3, AT: 4})  # the rest untouched, still due
        assert len(push.deliveries) == 3
        assert tick(AT).counts["reminders"] == 0  # a stopping process claims nothing

        monkeypatch.undo()
        stop_flag.clear()  # the next scheduler
        assert tick(AT + timedelta(seconds=30)).counts["reminders"] == 4
        assert Counter(d.endpoint for d in push.deliveries) == Counter({d.endpoint: 1 for d in devices})
        assert push.errors == []


def test_asked_to_stop_the_digest_step_finishes_its_batch_and_claims_no_more(app, stop_flag, monkeypatch, tmp_path):
    from coach.tick import digests as send

    send_at = datetime(2026, 11, 22, 17, 0, tzinfo=timezone.utc)
    with SlowSmtp(delay=0) as smtp:
        app.config.update(MAIL_URL=smtp.url, MAIL_FROM="Vagal-tone coach <coach@coach.example>")
        uids = seed_digest_users(5, send_at)
        real_record = send._record

        def record_then_stop(*args, **kwargs):
            real_record(*args, **kwargs)
            stop_flag.set()

        monkeypatch.setattr(send, "_record", record_then_stop)
        assert send.send_due(send_at, batch_size=2).sent == 2
        db.session.expire_all()
        nexts = Counter(db.session.scalars(select(User.digest_next_at).where(User.id.in_(uids))))
        assert nexts == Counter({send_at + timedelta(days=7): 2, send_at: 3})
        monkeypatch.undo()
        stop_flag.clear()
        assert send.send_due(send_at, batch_size=2).sent == 3
        assert set(smtp.per_recipient().values()) == {1} and len(smtp.per_recipient()) == 5
