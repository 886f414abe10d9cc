"""A scheduler process killed with SIGKILL in the middle of a tick loses nothing, and repeats
only what was in flight at the instant of the kill.

Real processes on PostgreSQL (`flask --app wsgi coach tick --at …`, as an operator runs
them); the loopback push service (which verifies and decrypts every message) and a slow
loopback SMTP server are the judges. The kill lands while the tick is sending (the services
take a few milliseconds over each message); the restart is a tick after the lease has run
out (`--at` six minutes later).

Judged from the services' logs and the database at the instant of the kill:
- every reminder reached its device, every user got the week's summary, at least once;
- exactly the messages delivered before the kill but not yet recorded went out twice, and
  there were no more of those than the send concurrency (pushes) or the mark window (mail);
- each repeat carries the same Topic (push) or Message-ID (mail) as the first copy.
"""
from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from coach.tick.digests import MARK_WINDOW
from coach.extensions import db
from coach.models import DigestDelivery, PushSubscription, Reminder, ReminderDelivery, User
from tests.helpers.apps import make_app
from tests.helpers.pg import PG_SKIP_REASON, PG_URL
from tests.helpers.processes import process_env, start, wait_until
from tests.helpers.push import PushService, vapid_keys
from tests.helpers.seeds import seed_digest_users, seed_due_reminders
from tests.helpers.smtp import SlowSmtp

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)]

DUE = datetime(2026, 6, 1, 5, 30, tzinfo=timezone.utc)  # 07:30 in Berlin
SEND = datetime(2026, 11, 22, 17, 0, tzinfo=timezone.utc)  # Sunday 18:00 in Berlin
LATER = timedelta(minutes=6)  # the lease (5 min on the tick's clock) has run out by then
N_REMINDERS = 2000
N_DIGESTS = 1000
CONCURRENCY = 16
# After the kill, the services finish handling what had reached them (the SMTP server
# takes 3 ms over a message) before their logs are read as "delivered before the kill".
SETTLE = 0.5


def _tick_output(proc, timeout=300) -> str:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-3000:]
    return out


def test_reminders_killed_mid_tick_are_all_delivered_and_only_the_in_flight_repeat(pg_private, tmp_path):
    keys = vapid_keys()
    with PushService(app_server_key=keys.public, delay=0.005) as push:
        devices = [push.device(f"dev{i}") for i in range(N_REMINDERS)]
        app = make_app(pg_private, tmp_path)
        with app.app_context():
            db.create_all()
            rids = seed_due_reminders(devices, DUE)
            db.engine.dispose()
        topic_of = {dev.endpoint: f"r{rid}" for dev, rid in zip(devices, rids)}
        env = process_env(pg_private, tmp_path, keys, COACH_DISPATCH_BATCH="200", COACH_PUSH_CONCURRENCY=str(CONCURRENCY))

        first = start(["tick", "--at", DUE.isoformat()], env)
        wait_until(lambda: len(push.deliveries) >= 700, 120, "700 pushes delivered", first)
        first.kill()  # SIGKILL: no handler, no clean-up
        first.wait(30)
        time.sleep(SETTLE)
        before_kill = Counter(d.endpoint for d in push.deliveries)

        with app.app_context():  # what the dead process had committed
            endpoint_of = dict(db.session.execute(select(PushSubscription.id, PushSubscription.endpoint)).all())
            rows = db.session.execute(select(ReminderDelivery.status, ReminderDelivery.sent_to)).all()
            leased = db.session.scalar(select(db.func.count()).where(Reminder.next_fire_at > DUE, Reminder.next_fire_at < DUE + LATER))
            db.engine.dispose()
        recorded = {endpoint_of[sub_id] for _, sent_to in rows for sub_id in (sent_to or [])}
        in_flight = set(before_kill) - recorded
        assert 0 < len(before_kill) < N_REMINDERS, "the kill did not land mid-tick"
        assert any(status == "sending" for status, _ in rows) and leased > 0, "nothing was in flight"
        assert recorded <= set(before_kill)  # nothing recorded that the push service did not get
        assert len(in_flight) <= CONCURRENCY

        out = _tick_output(start(["tick", "--at", (DUE + LATER).isoformat()], env))
        resent = int(re.search(r"reminders (\d+)", out).group(1))

        # Truncated requests cut off by the kill fail the service's checks; nothing else may.
        bad = [r for r in push.received if r.answered == 400]
        assert all(len(r.body) < int(r.headers.get("content-length", 0)) for r in bad), push.errors
        delivered = Counter(d.endpoint for d in push.deliveries)
        topics = defaultdict(set)
        for d in push.deliveries:
            topics[d.endpoint].add(d.topic)

    assert set(delivered) == {d.endpoint for d in devices}, "a reminder was lost"
    repeated = {endpoint for endpoint, n in delivered.items() if n > 1}
    assert repeated == in_flight  # exactly what was in flight at the kill went twice …
    assert max(delivered.values()) <= 2
    assert all(topics[e] == {topic_of[e]} for e in delivered)  # … each with its first copy's Topic
    assert resent == N_REMINDERS - len(recorded)

    with app.app_context():
        statuses = Counter(db.session.scalars(select(ReminderDelivery.status)))
        nexts = set(db.session.scalars(select(Reminder.next_fire_at)))
        db.engine.dispose()
    assert statuses == Counter({"sent": N_REMINDERS})
    assert nexts == {DUE + timedelta(days=1)}
    print(
        f"\nreminders: {len(before_kill)} delivered before SIGKILL, {len(recorded)} recorded, "
        f"{len(in_flight)} in flight; after the restart every one of {N_REMINDERS} delivered, "
        f"{len(repeated)} twice (concurrency {CONCURRENCY})"
    )


def test_digests_killed_mid_tick_are_all_delivered_and_only_the_in_flight_repeat(pg_private, tmp_path):
    keys = vapid_keys()
    with SlowSmtp(delay=0.003) as smtp:
        app = make_app(pg_private, tmp_path)
        with app.app_context():
            db.create_all()
            uids = seed_digest_users(N_DIGESTS, SEND)
            emails = dict(db.session.execute(select(User.id, User.email)).all())
            db.engine.dispose()
        env = process_env(pg_private, tmp_path, keys, MAIL_URL=smtp.url)

        first = start(["tick", "--at", SEND.isoformat()], env)
        wait_until(lambda: smtp.count() >= 300, 120, "300 digests delivered", first)
        first.kill()
        first.wait(30)
        time.sleep(SETTLE)
        before_kill = smtp.per_recipient()

        with app.app_context():
            rows = db.session.execute(select(DigestDelivery.user_id, DigestDelivery.status)).all()
            db.engine.dispose()
        marked = {emails[uid] for uid, status in rows if status == "sent"}
        in_flight = set(before_kill) - marked
        assert 0 < len(before_kill) < N_DIGESTS, "the kill did not land mid-tick"
        assert any(status == "sending" for _, status in rows), "nothing was in flight"
        assert marked <= set(before_kill)
        assert len(in_flight) <= MARK_WINDOW

        out = _tick_output(start(["tick", "--at", (SEND + LATER).isoformat()], env))
        resent = int(re.search(r"digests (\d+)", out).group(1))
        log = smtp.log()

    got = Counter(m.recipient for m in log)
    assert set(got) == set(emails.values()), "a summary was lost"
    repeated = {r for r, n in got.items() if n > 1}
    assert repeated == in_flight
    assert max(got.values()) <= 2
    ids = defaultdict(set)
    for m in log:
        ids[m.recipient].add(m.message_id)
    uid_of = {e: uid for uid, e in emails.items()}
    assert all(ids[r] == {f"<digest-{uid_of[r]}-2026-W47@coach.example>"} for r in got)  # one Message-ID per week
    assert resent == N_DIGESTS - len(marked)

    with app.app_context():
        statuses = Counter(db.session.scalars(select(DigestDelivery.status)))
        nexts = set(db.session.scalars(select(User.digest_next_at).where(User.id.in_(uids))))
        db.engine.dispose()
    assert statuses == Counter({"sent": N_DIGESTS})
    assert nexts == {SEND + timedelta(days=7)}
    print(
        f"\ndigests: {len(before_kill)} delivered before SIGKILL, {len(marked)} marked sent, "
        f"{len(in_flight)} in flight; after the restart all {N_DIGESTS} delivered, "
        f"{len(repeated)} twice (mark window {MARK_WINDOW})"
    )
