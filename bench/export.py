"""Export benchmark: GET /api/me/export (json and csv) for a user with N and 10×N sessions.

The export is streamed (coach/accounts/export.py), so its memory should not grow with the
history and its time should grow no faster than the history. Per format and size this prints
the time, the peak memory Python allocated while the answer was made and read (tracemalloc),
and the time as a ratio to a floor measured in the same run: reading the same rows with a
bare `SELECT *` through sqlite3. Goals: peak(10×N) / peak(N) ≤ 1.5, and time(10×N) /
time(N) ≤ 12 (linear, with a little slack).

    .venv/bin/python bench/export.py [--sessions 5000]
"""
from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from coach import create_app  # noqa: E402
from coach.extensions import db  # noqa: E402
from coach.models import PracticeSession  # noqa: E402

UTC = timezone.utc
PASSWORD = "bench password 1"


def add_sessions(user_id: int, n: int, offset: int) -> None:
    start = datetime(2000, 1, 1, 7, tzinfo=UTC)
    rows = []
    for i in range(offset, offset + n):
        t = start + timedelta(hours=3 * i)
        rows.append({
            "user_id": user_id, "uuid": uuid.uuid4(), "routine": "resonance" if i % 2 else "box", "started_at": t,
            "ended_at": t + timedelta(minutes=10), "duration_seconds": 600, "completed_cycles": 60,
            "planned_cycles": 60, "pre_mood": 4, "pre_anxiety": 6, "pre_energy": 4, "post_mood": 6,
            "post_anxiety": 3, "post_energy": 5, "post_note": f"Calmer after the evening practice, number {i}.",
            "details": None, "created_at": t, "updated_at": t,
        })
        if len(rows) == 2000:
            db.session.execute(insert(PracticeSession), rows)
            rows = []
    if rows:
        db.session.execute(insert(PracticeSession), rows)
    db.session.commit()


def export_once(client, headers, fmt: str, traced: bool = False) -> tuple[float, int, int]:
    """(seconds, peak bytes or 0, answer bytes) for one export, read as a client reads it.
    The peak is measured in a run of its own: tracing slows every allocation."""
    if traced:
        tracemalloc.start()
    t0 = time.perf_counter()
    r = client.get(f"/api/me/export?format={fmt}", headers=headers, buffered=False)
    size = sum(len(chunk) for chunk in r.response)
    r.close()
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    if traced:
        tracemalloc.stop()
    assert r.status_code == 200, r.status_code
    return seconds, peak, size


def floor_once(path: Path, user_id: int) -> float:
    t0 = time.perf_counter()
    with sqlite3.connect(path) as conn:
        for _ in conn.execute("SELECT * FROM practice_sessions WHERE user_id = ? ORDER BY started_at", (user_id,)):
            pass
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=5000, help="N: the small history (the large one is 10×N)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="coach-export-bench-") as tmp:
        path = Path(tmp) / "coach.sqlite3"
        app = create_app({
            "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "INSTANCE_PATH": str(Path(tmp) / "i"),
            "RATELIMIT_ENABLED": False, "COACH_SCHEDULER": "off",
        })
        logging.getLogger("coach.request").setLevel(logging.WARNING)  # no line per request
        with app.app_context():
            db.create_all()
            client = app.test_client()
            assert client.post("/api/auth/register", json={"email": "b@example.com", "password": PASSWORD,
                                                           "timezone": "Europe/Berlin"}).status_code == 201
            login = client.post("/api/auth/login", json={"email": "b@example.com", "password": PASSWORD}).get_json()
            headers, user_id = {"Authorization": f"Bearer {login['token']}"}, login["user"]["id"]
            results: dict[tuple[str, int], tuple[float, int, int, float]] = {}
            have = 0
            failed = False
            for n in (args.sessions, 10 * args.sessions):
                add_sessions(user_id, n - have, have)
                have = n
                floor = min(floor_once(path, user_id) for _ in range(3))
                for fmt in ("json", "csv"):
                    export_once(client, headers, fmt)  # warm: statements compiled
                    seconds, _, size = min(export_once(client, headers, fmt) for _ in range(3))
                    peak = export_once(client, headers, fmt, traced=True)[1]
                    results[(fmt, n)] = (seconds, peak, size, floor)
                    print(f"{fmt:4} {n:>7,} sessions: {seconds * 1000:8.1f} ms  {size / 1e6:6.1f} MB sent  "
                          f"peak {peak / 1e6:5.2f} MB  time {seconds / floor:5.1f}× the floor ({floor * 1000:.1f} ms)")
            for fmt in ("json", "csv"):
                small, large = results[(fmt, args.sessions)], results[(fmt, 10 * args.sessions)]
                memory, slower = large[1] / small[1], large[0] / small[0]
                ok = memory <= 1.5 and slower <= 12
                failed |= not ok
                print(f"{fmt:4} 10× the history: peak memory ×{memory:.2f} (goal ≤ 1.5), time ×{slower:.1f} "
                      f"(goal ≤ 12)  [{'ok' if ok else 'BELOW GOAL'}]")
            db.engine.dispose()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
