"""`make run` as a newcomer sees it: the port can be chosen, and after the migrations the
development server still says where it runs and logs each request."""
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


def test_make_run_takes_the_port_from_PORT():
    env = {**os.environ, "PORT": "5050"}
    planned = subprocess.run(["make", "-n", "run"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    serve = [line for line in planned.stdout.splitlines() if " coach serve" in line]
    assert serve and "--port 5050" in serve[-1], planned.stdout


def test_serve_logs_after_the_migrations(tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY", "MAIL_URL", "COACH_LOG_LEVEL"}},
        "COACH_DEV": "1",
        "COACH_SCHEDULER": "off",
        "COACH_INSTANCE_PATH": str(tmp_path / "instance"),  # empty: every migration runs first
        "PYTHONUNBUFFERED": "1",
    }
    flask = Path(sys.executable).with_name("flask")
    proc = subprocess.Popen(
        [str(flask), "--app", "wsgi", "coach", "serve", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "coach serve did not come up within 30 s"
                time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
    assert "Running upgrade" in output, output  # the migrations ran in this process …
    assert f"Running on http://127.0.0.1:{port}" in output, output  # … and the server still speaks after them
    requests = []
    for line in output.splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("logger") == "coach.request":
                requests.append(entry)
    assert any(e["path"] == "/healthz" and e["status"] == 200 and e["method"] == "GET" for e in requests), output
