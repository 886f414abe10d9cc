"""Helpers for the tests that run real scheduler processes and kill or stop them: a private
database (SQLite file or a PostgreSQL database made and dropped), the environment an
operator would give the process, bulk-seeded digest users, and a slow loopback SMTP server
whose log is the judge."""
from __future__ import annotations

import asyncio
import email
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import PG_SKIP_REASON, PG_URL
from pg_databases import private_database
from pushservice import b64url
from smtpd_fixtures import free_port

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi", "coach"]


def private_postgres_database():
    """(url, drop) for a database of this test's own; skips without PostgreSQL."""
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    return private_database(PG_URL, "coach_crash")


@pytest.fixture
def pg_private():
    url, drop = private_postgres_database()
    yield url
    drop()


@dataclass
class Keys:
    pem: str
    public: str  # the application server key, base64url


def vapid_keys() -> Keys:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = b64url(key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
    return Keys(pem.decode(), public)


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


def seed_digest_users(n: int, due_at, timezone: str = "Europe/Berlin") -> list[int]:
    """n users whose weekly summary (empty weeks included) is due at `due_at`. Needs an
    app context; returns their ids."""
    from sqlalchemy import insert

    from coach.extensions import db
    from coach.models import User

    ids = db.session.execute(
        insert(User).returning(User.id, sort_by_parameter_order=True),
        [
            {
                "email": f"reader{i}@example.com",
                "password_hash": "!",
                "timezone": timezone,
                "digest_enabled": True,
                "digest_weekday": 6,
                "digest_local_time": "18:00",
                "digest_send_empty": True,
                "digest_next_at": due_at,
                "digest_planned_at": due_at,
                "created_at": due_at,
            }
            for i in range(n)
        ],
    ).scalars().all()
    db.session.commit()
    return list(ids)


@dataclass
class Mail:
    recipient: str
    message_id: str
    at: float


@dataclass
class _SlowHandler:
    delay: float
    mails: list[Mail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)  # a distant server takes a moment over each message
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.mails.append(Mail(rcpt, msg["Message-ID"], time.monotonic()))
        return "250 OK"


class SlowSmtp:
    """aiosmtpd on loopback that takes `delay` seconds over each message and logs
    (recipient, Message-ID) of every one it accepted."""

    def __init__(self, delay: float = 0.003):
        self.handler = _SlowHandler(delay)
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SlowSmtp:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def log(self) -> list[Mail]:
        with self.handler.lock:
            return list(self.handler.mails)

    def count(self) -> int:
        with self.handler.lock:
            return len(self.handler.mails)

    def per_recipient(self) -> Counter:
        return Counter(m.recipient for m in self.log())
