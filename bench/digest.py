"""Weekly summary benchmark: N users with a week of sessions each (and some the week before),
all due at one instant, one scheduler tick delivering to a loopback SMTP server (aiosmtpd, in
a process of its own).

Prints digests/s, SQL statements per 1,000 users (and per batch: it must not grow with the
batch's contents), where the time goes, and the ratio to a floor measured in the same run:
the same number of pre-rendered messages (a real digest, as received) sent with smtplib over
one SMTP connection to the same server. Afterwards every recipient must have exactly one
message and every delivery row must say `sent`.

Goal: ≥ 200 digests/s and a constant number of statements per batch.

    .venv/bin/python bench/digest.py                    # SQLite in a temporary folder
    .venv/bin/python bench/digest.py --postgres URL     # a PostgreSQL database made and dropped
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import smtplib
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, time as clock, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # coach and tests.helpers, from any working directory

from dispatch import ChildServer, make_database  # noqa: E402  (the reminders benchmark's: a server process; a SQLite file, or a PostgreSQL database made and dropped)

UTC = timezone.utc
# Sunday 22 November 2026, 18:00 local, is due everywhere below by Monday 03:00 UTC (Los
# Angeles is last, at 02:00 UTC) and no more than a day late anywhere (Sydney, 07:00 UTC Sunday).
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
WEEK_MONDAY = datetime(2026, 11, 16)  # local Monday of the covered week
ZONES = ["Europe/Berlin", "Asia/Tokyo", "America/Los_Angeles", "America/New_York", "Europe/London",
         "Australia/Sydney", "Asia/Kolkata", "UTC"]
ROUTINES = ["resonance", "box", "cyclic-sighing", "extended-exhale", "cold-face", "humming"]
MAIL_FROM = "Vagal-tone coach <coach@coach.example>"


# --- the SMTP server, in a process of its own -------------------------------------------------


def _server_main(conn) -> None:
    from aiosmtpd.controller import Controller

    from tests.helpers.smtp import free_port

    class Counting:
        def __init__(self):
            self.recipients: Counter = Counter()
            self.first: bytes | None = None

        async def handle_DATA(self, server, session, envelope):
            for rcpt in envelope.rcpt_tos:
                self.recipients[rcpt] += 1
            if self.first is None:
                self.first = envelope.original_content or envelope.content
            return "250 OK"

    handler = Counting()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    conn.send(port)
    while True:
        command = conn.recv()
        if command == "count":
            conn.send((sum(handler.recipients.values()), len(handler.recipients), max(handler.recipients.values(), default=0)))
        elif command == "first":
            conn.send(handler.first)
        elif command == "clear":
            handler.recipients.clear()
            conn.send(True)
        elif command == "stop":
            controller.stop()
            conn.send(True)
            return


# --- the database -----------------------------------------------------------------------------

def seed(users: int) -> int:
    """Users due at NOW, each with 7 sessions in the covered week and 3 the week before."""
    from sqlalchemy import insert

    from coach.extensions import db
    from coach.models import PracticeSession, User
    from coach.timeutil import local_to_utc, next_weekly, zone

    rng = random.Random(7)
    planned = {z: next_weekly(local_to_utc(WEEK_MONDAY.date(), clock(0), zone(z)), clock(18), [6], zone(z)) for z in ZONES}
    user_rows, session_rows = [], []
    for i in range(users):
        z = ZONES[i % len(ZONES)]
        user_rows.append({
            "id": i + 1, "email": f"user{i}@example.com", "password_hash": "x", "timezone": z,
            "resonance_bpm": 6.0, "digest_enabled": True, "digest_weekday": 6, "digest_local_time": "18:00",
            "digest_send_empty": False, "digest_next_at": planned[z], "digest_planned_at": planned[z],
            "created_at": NOW - timedelta(days=60),
        })
        monday = local_to_utc(WEEK_MONDAY.date(), clock(0), zone(z))
        days = [(d, True) for d in range(7)] + [(d - 7, False) for d in (1, 3, 5)]
        for day, _this_week in days:
            routine = rng.choice(ROUTINES)
            started = monday + timedelta(days=day, hours=rng.randint(6, 16), minutes=rng.randint(0, 59))
            seconds = 45 if routine == "cold-face" else rng.randint(180, 900)
            pre = rng.randint(2, 7)
            session_rows.append({
                "uuid": uuid.uuid4(), "user_id": i + 1, "routine": routine, "started_at": started,
                "ended_at": started + timedelta(seconds=seconds), "duration_seconds": seconds,
                "completed_cycles": None, "planned_cycles": None,
                "pre_mood": pre, "post_mood": min(10, pre + rng.randint(-1, 3)),
                "pre_anxiety": rng.randint(2, 8), "post_anxiety": rng.randint(1, 6),
                "pre_energy": None, "post_energy": None,
                "details": {"cold_seconds": seconds} if routine == "cold-face" else None,
                "created_at": started, "updated_at": started,
            })
    for chunk in range(0, len(user_rows), 5000):
        db.session.execute(insert(User), user_rows[chunk:chunk + 5000])
    for chunk in range(0, len(session_rows), 20000):
        db.session.execute(insert(PracticeSession), session_rows[chunk:chunk + 20000])
    db.session.commit()
    return len(session_rows)


# --- timing what the tick does ----------------------------------------------------------------


class Phases:
    """Wall time spent in each part of the digest step, and SQL statements per batch."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.statements = 0
        self.per_batch: list[int] = []

    def wrap(self, owner, name: str, label: str):
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started

        setattr(owner, name, timed)

    def count(self, *_args):
        self.statements += 1


def run_tick(phases: Phases, batch_size: int | None) -> tuple[float, dict]:
    from sqlalchemy import event

    from coach import mail
    from coach.digest import render
    from coach.tick import digests as send
    from coach.extensions import db
    from coach.tick.scheduler import tick

    if batch_size:
        send.BATCH_SIZE = batch_size
        send.send_due.__kwdefaults__["batch_size"] = batch_size
    opened = send._open_batch  # called right after each batch's claim (coach.tick.claims)

    def open_and_mark(*args, **kwargs):
        phases.per_batch.append(phases.statements)
        return opened(*args, **kwargs)

    send._open_batch = open_and_mark
    phases.wrap(send, "_open_batch", "after the claim: select users, insert deliveries, commit")
    phases.wrap(send, "gather", "gather (SQL sums)")
    phases.wrap(render.Composer, "view", "content (view model)")
    phases.wrap(render.Composer, "text", "render text")
    phases.wrap(render.Composer, "html", "render HTML + css-inline")
    phases.wrap(mail.SmtpConnection, "send", "SMTP: flatten + sendmail (sender thread, overlaps)")
    phases.wrap(send, "_record", "record outcomes (executemany, commit)")

    event.listen(db.engine, "before_cursor_execute", phases.count)
    started = time.perf_counter()
    report = tick(NOW)
    elapsed = time.perf_counter() - started
    event.remove(db.engine, "before_cursor_execute", phases.count)
    phases.per_batch.append(phases.statements)
    return elapsed, report.counts


def floor(port: int, message: bytes, n: int) -> float:
    """n copies of a real digest, pre-rendered, over one SMTP connection: messages/s."""
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    for i in range(n):
        smtp.sendmail("coach@coach.example", [f"floor{i}@example.com"], message)
    elapsed = time.perf_counter() - started
    smtp.quit()
    return n / elapsed


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL URL (a database is made and dropped)")
    parser.add_argument("--batch", type=int, help="users per batch (default: the app's)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="coach-bench-digest-"))
    server = ChildServer(_server_main)
    database_url, drop = make_database(args.postgres, workdir)
    try:
        os.environ.update({
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench-signing-key-of-at-least-32-bytes",
            "COACH_INSTANCE_PATH": str(workdir / "instance"),
            "COACH_PUBLIC_URL": "https://coach.example",
            "MAIL_URL": f"smtp://127.0.0.1:{server.port}",
            "MAIL_FROM": MAIL_FROM,
            "COACH_SCHEDULER": "off",
            "RATELIMIT_ENABLED": "false",
        })
        from sqlalchemy import func, select

        from coach import create_app
        from coach.tick import digests as send
        from coach.extensions import db
        from coach.models import DigestDelivery

        app = create_app()
        db_name = "PostgreSQL" if args.postgres else "SQLite"
        with app.app_context():
            db.create_all()
            print(f"making {args.users:,} users with a week of sessions each on {db_name} …", flush=True)
            sessions = seed(args.users)
            print(f"  {sessions:,} sessions", flush=True)
            db.session.remove()
            db.engine.dispose()
            db.session.execute(select(1))  # connect before the clock starts
            db.session.commit()

            phases = Phases()
            elapsed, counts = run_tick(phases, args.batch)
            total, distinct, most = server.ask("count")
            statuses = dict(db.session.execute(select(DigestDelivery.status, func.count()).group_by(DigestDelivery.status)).all())
        assert total == distinct == args.users and most == 1, (total, distinct, most)
        assert statuses == {"sent": args.users}, statuses
        rate = args.users / elapsed

        message = server.ask("first")
        server.ask("clear")
        floor_rate = floor(server.port, message, args.users)
        batch = args.batch or send.BATCH_SIZE
        marks = phases.per_batch
        per_batch = [b - a for a, b in zip(marks, marks[1:])]
        full = per_batch[:-1] if len(per_batch) > 1 else per_batch  # the last one finds nothing due

        print(f"one tick on {db_name}: {total:,} digests to {distinct:,} recipients in {elapsed:.2f} s = {rate:,.0f} digests/s "
              f"(tick counts {counts})")
        print(f"floor (the same number of pre-rendered {len(message):,}-byte digests over one SMTP connection): "
              f"{floor_rate:,.0f} messages/s; ratio to floor {rate / floor_rate:.2f}")
        print(f"SQL statements: {phases.statements} in all = {phases.statements / (args.users / 1000):.1f} per 1,000 users; "
              f"per batch of {batch}: {sorted(set(full))} (+{per_batch[-1]} for the last look that finds none due)")
        print("where the time goes:")
        for label, seconds in sorted(phases.seconds.items(), key=lambda kv: -kv[1]):
            print(f"  {label:<48} {seconds:6.2f} s  {1000 * seconds / args.users:6.3f} ms/digest")
        print(f"goal ≥ 200 digests/s: {'yes' if rate >= 200 else 'NO'}; "
              f"constant statements per batch: {'yes' if len(set(full)) == 1 else 'NO'}")
    finally:
        server.stop()
        if drop:
            drop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
