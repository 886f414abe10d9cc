"""`flask coach scheduler` as a process of its own: ticks at once, stops cleanly on SIGTERM."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from flask_migrate import upgrade

from tests.helpers.apps import make_app

ROOT = Path(__file__).resolve().parent.parent


def test_scheduler_ticks_and_stops_gracefully_on_sigterm(tmp_path):
    url = f"sqlite:///{tmp_path / 'coach.sqlite3'}"
    app = make_app(url, tmp_path)
    with app.app_context():
        upgrade()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "scheduler-process-test-signing-key",
        "COACH_INSTANCE_PATH": str(tmp_path / "instance"),
        "PYTHONUNBUFFERED": "1",
    }
    flask = Path(sys.executable).with_name("flask")
    proc = subprocess.Popen(
        [str(flask), "--app", "wsgi", "coach", "scheduler"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        client = app.test_client()
        while time.monotonic() < deadline:
            with app.app_context():
                if client.get("/healthz").get_json()["scheduler"]["last_tick_at"]:
                    break
            time.sleep(0.2)
        else:
            raise AssertionError("the scheduler did not tick within 30 s")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "SIGTERM" in out and "scheduler: stopped" in out
