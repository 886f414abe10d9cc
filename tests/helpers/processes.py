"""The coach's commands run as real processes, as an operator runs them (`flask --app wsgi
coach …` from the checkout, configured through the environment), for the tests that tick,
kill or stop them."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from .push import Keys

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi", "coach"]


def process_env(database_url: str, tmp_path, keys: Keys, **extra: str) -> dict:
    """The environment of a scheduler process, as an operator sets it."""
    return dict(
        os.environ,
        DATABASE_URL=database_url,
        SECRET_KEY="crash-tests-signing-key-of-32-bytes",
        COACH_INSTANCE_PATH=str(tmp_path / "instance"),
        VAPID_PRIVATE_KEY=keys.pem,
        VAPID_SUBJECT="mailto:ops@coach.example",
        COACH_PUSH_INSECURE_HOSTS="127.0.0.1",
        COACH_PUBLIC_URL="https://coach.example",
        MAIL_FROM="Vagal-tone coach <coach@coach.example>",
        COACH_SCHEDULER="off",
        PYTHONUNBUFFERED="1",
        **extra,
    )


def start(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(FLASK + args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_until(condition, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the process ended before {what}: {proc.stdout.read()[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.002)
