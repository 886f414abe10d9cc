"""`make run`'s command: `flask --app wsgi coach serve` upgrades the schema and serves it all."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_coach_serve_answers_the_api_the_front_end_and_ticks(tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY", "MAIL_URL"}},
        "COACH_DEV": "1",
        "COACH_INSTANCE_PATH": str(tmp_path / "instance"),
        "PYTHONUNBUFFERED": "1",
    }
    flask = Path(sys.executable).with_name("flask")
    proc = subprocess.Popen(
        [str(flask), "--app", "wsgi", "coach", "serve", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = json.loads(urllib.request.urlopen(base + "/healthz", timeout=2).read())
                if health["scheduler"]["last_tick_at"]:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "coach serve did not come up and tick within 30 s"
            time.sleep(0.3)
        page = urllib.request.urlopen(base + "/", timeout=5)
        assert page.headers.get_content_type() == "text/html"
        assert b'rel="manifest"' in page.read()
        req = urllib.request.Request(
            base + "/api/auth/register",
            data=json.dumps({"email": "new@example.com", "password": "0123456789ab", "timezone": "Europe/Berlin"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert urllib.request.urlopen(req, timeout=5).status == 201
        # The embedded defaults: SQLite and the VAPID key in the instance folder.
        assert (tmp_path / "instance" / "coach.sqlite3").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
