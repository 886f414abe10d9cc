"""The scale path: two scheduler processes tick the same instant against one PostgreSQL
database over 2,000 due reminders, and every reminder reaches its device exactly once.

Real processes (`flask --app wsgi coach tick --at …`, as an operator runs them), a real
loopback push service that verifies and decrypts every message; its log is the judge.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from coach.extensions import db
from coach.models import Reminder, ReminderDelivery
from tests.helpers.apps import make_app
from tests.helpers.pg import PG_SKIP_REASON, PG_URL, private_database
from tests.helpers.push import b64url, PushService
from tests.helpers.seeds import seed_due_reminders

ROOT = Path(__file__).resolve().parent.parent
DUE = datetime(2026, 6, 1, 5, 30, tzinfo=timezone.utc)  # 07:30 in Berlin
N = 2000

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)]


@pytest.fixture
def own_database():
    url, drop = private_database(PG_URL, "coach_push")
    yield url
    drop()


def test_two_scheduler_processes_deliver_each_reminder_exactly_once(own_database, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = b64url(key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))

    # A little latency per answer, as a real push service has, so both ticks overlap.
    with PushService(app_server_key=public, delay=0.02) as push:
        devices = [push.device(f"dev{i}") for i in range(N)]
        app = make_app(own_database, tmp_path)
        with app.app_context():
            db.create_all()
            rids = seed_due_reminders(devices, DUE)
            db.engine.dispose()

        env = dict(
            os.environ,
            DATABASE_URL=own_database,
            SECRET_KEY="two-schedulers-share-one-signing-key",
            COACH_INSTANCE_PATH=str(tmp_path / "instance"),
            VAPID_PRIVATE_KEY=pem.decode(),
            VAPID_SUBJECT="mailto:ops@coach.example",
            COACH_PUSH_INSECURE_HOSTS="127.0.0.1",
            COACH_PUBLIC_URL="https://coach.example",
            COACH_SCHEDULER="off",
            COACH_DISPATCH_BATCH="50",
        )
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "coach", "tick", "--at", DUE.isoformat()]
        procs = [
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=300) for p in procs]
        for p, (_out, err) in zip(procs, outputs):
            assert p.returncode == 0, err[-3000:]

        assert push.errors == []
        received = Counter(r.endpoint for r in push.received)
        delivered = Counter(d.endpoint for d in push.deliveries)
    assert len(received) == N and set(received.values()) == {1}, "a device got a message twice"
    assert delivered == Counter({d.endpoint: 1 for d in devices})
    assert all(d.payload["type"] == "reminder" for d in push.deliveries)

    counts = [int(re.search(r"reminders (\d+)", out).group(1)) for out, _ in outputs]
    assert sum(counts) == N, counts
    assert min(counts) > 0, f"one process did all the work ({counts}): the test did not overlap them"

    with app.app_context():
        statuses = Counter(db.session.scalars(select(ReminderDelivery.status)))
        nexts = set(db.session.scalars(select(Reminder.next_fire_at).where(Reminder.id.in_(rids))))
        db.engine.dispose()
    assert statuses == Counter({"sent": N})
    assert nexts == {DUE + timedelta(days=1)}
