"""Insights cost against history size: the GET /api/insights answer computed with no cache
(insights.summary, what a person waits for right after each session) for three users with
365, 3,650 and 36,500 sessions spread over the same year (1, 10 and 100 a day).

Prints the median time of each (CPU and wall) and the ratio largest/smallest: of the CPU
times on SQLite (the database works in this process), of the wall times on PostgreSQL. Goal: ≤ 2 (the cost follows
the days and routines in the window, not the sessions). Each user's per-day sums are built
once before timing, as a running coach keeps them.

    .venv/bin/python bench/insights_scale.py                    # SQLite in a temporary folder
    .venv/bin/python bench/insights_scale.py --postgres URL     # a PostgreSQL database made and dropped
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from dispatch import make_database  # noqa: E402  (a SQLite file, or a PostgreSQL database made and dropped)

UTC = timezone.utc
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ZONE = "Europe/Berlin"  # with its two DST changes inside the year
ROUTINES = ["resonance", "box", "cyclic-sighing", "extended-exhale", "humming", "4-7-8"]
PER_DAY = (1, 10, 100)


def seed(per_day: int, user_id: int) -> int:
    """A user with `per_day` sessions on each of the 365 days before NOW, mixed routines and ratings."""
    from sqlalchemy import insert

    from coach.extensions import db
    from coach.models import PracticeSession, User

    rng = random.Random(per_day)
    db.session.execute(insert(User), [{
        "id": user_id, "email": f"user{per_day}@example.com", "password_hash": "x", "timezone": ZONE,
        "resonance_bpm": 6.0, "created_at": NOW - timedelta(days=400),
    }])
    rows = []
    for day in range(365):
        for k in range(per_day):
            started = NOW - timedelta(days=day + 1) + timedelta(seconds=rng.randint(0, 86_399))
            seconds = rng.randint(120, 1200)
            pre = rng.randint(2, 7)
            rows.append({
                "uuid": uuid.uuid4(), "user_id": user_id, "routine": rng.choice(ROUTINES), "started_at": started,
                "ended_at": started + timedelta(seconds=seconds), "duration_seconds": seconds,
                "completed_cycles": None, "planned_cycles": None,
                "pre_mood": pre, "post_mood": min(10, pre + rng.randint(-1, 3)),
                "pre_anxiety": rng.randint(2, 8), "post_anxiety": rng.randint(1, 6),
                "pre_energy": rng.randint(2, 8), "post_energy": rng.randint(3, 8),
                "details": None, "created_at": started, "updated_at": started,
            })
    for chunk in range(0, len(rows), 20_000):
        db.session.execute(insert(PracticeSession), rows[chunk:chunk + 20_000])
    db.session.commit()
    return len(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL URL (a database is made and dropped)")
    parser.add_argument("--reads", type=int, default=15, help="timed reads per user (the median is printed)")
    parser.add_argument("--days", type=int, default=365, help="the insights window")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="coach-bench-insights-"))
    database_url, drop = make_database(args.postgres, workdir)
    try:
        os.environ.update({
            "DATABASE_URL": database_url, "SECRET_KEY": "bench", "COACH_INSTANCE_PATH": str(workdir / "instance"),
            "COACH_SCHEDULER": "off", "RATELIMIT_ENABLED": "false",
        })
        from coach import create_app
        from coach.extensions import db
        from coach.models import User
        from coach.practice import insights

        app = create_app()
        with app.app_context():
            db.create_all()
            users = {}
            for i, per_day in enumerate(PER_DAY, start=1):
                users[seed(per_day, i)] = i
                insights.summary(db.session.get(User, i), NOW, args.days)  # the per-day sums are built once, as in a running coach
            # Rounds over all three users in turn, so that other work on the machine weighs on
            # each alike; CPU time is what the answer costs (SQLite runs in this process).
            wall = {n: [] for n in users}
            cpu = {n: [] for n in users}
            for _ in range(args.reads):
                for n, i in users.items():
                    db.session.expire_all()  # nothing kept between reads but the database's own cache
                    user = db.session.get(User, i)
                    began, began_cpu = time.perf_counter(), time.process_time()
                    answer = insights.summary(user, NOW, args.days)
                    cpu[n].append(time.process_time() - began_cpu)
                    wall[n].append(time.perf_counter() - began)
                    assert answer["totals"]["sessions"] == n, answer["totals"]
            # On PostgreSQL the database works in another process: its cost shows in wall time.
            times = {n: median((wall if args.postgres else cpu)[n]) for n in users}
            for n in users:
                print(f"{n:>7,} sessions over a year: insights (days={args.days}) computed in {median(cpu[n]) * 1000:6.1f} ms CPU, "
                      f"{median(wall[n]) * 1000:6.1f} ms wall (medians of {args.reads})", flush=True)
        ratio = max(times.values()) / min(times.values())
        verdict = "ok" if ratio <= 2 else "ABOVE GOAL"
        measure = "wall" if args.postgres else "CPU"
        print(f"ratio largest/smallest history ({measure} time): {ratio:.2f}  (goal ≤ 2)  [{verdict}]")
        return 0 if ratio <= 2 else 1
    finally:
        if drop:
            drop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
