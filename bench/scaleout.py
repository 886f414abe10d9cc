"""Scale-out on PostgreSQL: gunicorn with 4 workers and two scheduler processes over one
database, under load, with no error and no duplicate.

What runs, all on loopback:
- a fresh PostgreSQL database (made and dropped here), its schema by `flask db upgrade`;
- gunicorn, 4 workers (gthread, 4 threads each: keep-alive, and a thread waiting on the
  database leaves the others to serve), COACH_SCHEDULER=off, rate limits in Redis
  (RATELIMIT_STORAGE_URI, one Redis database of its own, emptied first) so all workers
  count together;
- two `flask --app wsgi coach scheduler` processes (ticking every 30 s on real time);
- a push service (in a process of its own; afterwards every message is verified and
  decrypted with the device's own keys) and an SMTP server (aiosmtpd, its own process);
- wrk for 60 s with bench/scaleout.lua: many users, each request as one of them:
  PUT /api/sessions/<uuid>, GET /api/sessions, GET /api/insights, reminders CRUD.
Meanwhile seeded reminders and weekly summaries fall due throughout the window (their due
instants are spread over its first 55 s), so every scheduler tick has work.

Then: rate limits across workers (the login limit per email, the write limit per account,
each hit on fresh connections that gunicorn spreads over its workers: exactly the limit
gets through), the schedulers stopped with SIGTERM (both must exit 0), and the judges:
wrk's counts by kind and status (no non-2xx, no 5xx, no socket error), the push service's
log (every due reminder's device got it exactly once, with its Topic), the SMTP log (every
due summary exactly once), the database (no delivery left `sending`) and the app's own
logs (no error). Prints req/s, latency percentiles, pushes, digests, duplicates.

    .venv/bin/python bench/scaleout.py                     # PostgreSQL at COACH_TEST_POSTGRES_URL or loopback
    .venv/bin/python bench/scaleout.py --postgres URL --redis redis://127.0.0.1:6379/11
    .venv/bin/python bench/scaleout.py --worker-class sync --worker-threads 1   # gunicorn's default workers
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from dispatch import ChildServer, ServiceProcess, make_database  # noqa: E402  (the reminders bench's server processes and database maker)

UTC = timezone.utc
ZONE = "Europe/Berlin"
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
DUE_SPREAD = 55  # seconds: due instants spread over the window's first 55 s
LOGIN_PER_EMAIL = 5  # coach/config.py COACH_LIMIT_LOGIN_PER_EMAIL: 5 failed per minute per email
WRITES_PER_ROUTE = 120  # coach/config.py COACH_LIMIT_WRITES: 120 per minute per account, all writes together


# --- the SMTP server, in a process of its own ----------------------------------------------------


def _smtp_main(conn) -> None:
    import email
    from email import policy

    from aiosmtpd.controller import Controller

    from tests.helpers.smtp import free_port

    class Recording:
        def __init__(self):
            self.log: list[tuple[str, str]] = []

        async def handle_DATA(self, server, session, envelope):
            msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
            for rcpt in envelope.rcpt_tos:
                self.log.append((rcpt, msg["Message-ID"]))
            return "250 OK"

    handler = Recording()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    conn.send(port)
    while True:
        command = conn.recv()
        if command == "log":
            conn.send(list(handler.log))
        elif command == "stop":
            controller.stop()
            conn.send(True)
            return


# --- seeding -----------------------------------------------------------------------------------------


def seed(app, devices, tokens: list[str], reminders: int, digests: int, start: datetime, now: datetime):
    """Users (one per token, each with a push subscription), `reminders` reminders and
    `digests` weekly summaries due at instants spread over [start, start + DUE_SPREAD];
    returns (reminder id → device endpoint, due digest user ids, a spare user's token)."""
    from sqlalchemy import insert

    from coach.extensions import db
    from coach.models import AuthToken, PushSubscription, Reminder, User

    def due(i: int, n: int) -> datetime:
        return start + timedelta(seconds=1 + (DUE_SPREAD - 1) * i / max(n - 1, 1))

    with app.app_context():
        spare = secrets.token_urlsafe(32)
        users = db.session.execute(
            insert(User).returning(User.id, sort_by_parameter_order=True),
            [
                {
                    "email": f"load{i}@example.com",
                    "password_hash": "!",  # nobody logs in with a password: the tokens are made here
                    "timezone": ZONE,
                    "digest_enabled": i < digests,
                    "digest_weekday": 6,
                    "digest_local_time": "18:00",
                    "digest_send_empty": True,
                    "digest_next_at": due(i, digests) if i < digests else None,
                    "digest_planned_at": due(i, digests) if i < digests else None,
                    "created_at": now - timedelta(days=60),
                }
                for i in range(len(tokens) + 1)
            ],
        ).scalars().all()
        db.session.execute(
            insert(AuthToken),
            [
                {
                    "user_id": uid,
                    "token_hash": hashlib.sha256(token.encode()).hexdigest(),
                    "created_at": now,
                    "expires_at": now + timedelta(days=30),
                }
                for uid, token in zip(users, tokens + [spare])
            ],
        )
        db.session.execute(
            insert(PushSubscription),
            [
                {"user_id": uid, "endpoint": dev.endpoint, "p256dh": dev.p256dh, "auth": dev.auth_b64, "created_at": now}
                for uid, dev in zip(users, devices)
            ],
        )
        owners = [i % len(devices) for i in range(reminders)]  # some users have two
        rids = db.session.execute(
            insert(Reminder).returning(Reminder.id, sort_by_parameter_order=True),
            [
                {
                    "user_id": users[o],
                    "local_time": "07:30",
                    "weekdays": [0, 1, 2, 3, 4, 5, 6],
                    "routine": "resonance",
                    "enabled": True,
                    "next_fire_at": due(i, reminders),
                    "planned_at": due(i, reminders),
                    "attempts": 0,
                    "created_at": now,
                }
                for i, o in enumerate(owners)
            ],
        ).scalars().all()
        db.session.commit()
        db.engine.dispose()
    return {rid: devices[o].endpoint for rid, o in zip(rids, owners)}, list(users[:digests]), spare


# --- HTTP helpers ------------------------------------------------------------------------------------


def fresh_request(port: int, method: str, path: str, body: dict | None = None, token: str | None = None):
    """One request on a connection of its own (gunicorn hands each to whichever worker
    accepts it); returns (status, request id)."""
    request_id = f"probe-{uuid.uuid4().hex[:16]}"
    headers = {"X-Request-ID": request_id}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, request_id
    finally:
        conn.close()


def wait_for_http(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if fresh_request(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz")


def workers_of(access_log: Path, request_ids: list[str]) -> set[str]:
    """The worker pids that served these requests, from gunicorn's access log."""
    wanted = set(request_ids)
    pids = set()
    for line in access_log.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[2] in wanted:
            pids.add(parts[0])
    return pids


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- main --------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("COACH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11", help="a Redis database of its own (emptied first)")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--reminders", type=int, default=3000, help="falling due during the window")
    parser.add_argument("--digests", type=int, default=1000, help="falling due during the window")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class (gthread, sync)")
    parser.add_argument("--worker-threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--threads", type=int, default=4, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs) and say where")
    args = parser.parse_args()

    import redis

    from tests.helpers.push import Device, Received, check_request

    workdir = Path(tempfile.mkdtemp(prefix="coach-scaleout-"))
    push = ServiceProcess()
    smtp = ChildServer(_smtp_main)
    database_url, drop = make_database(args.postgres, workdir)
    store = redis.Redis.from_url(args.redis)
    store.flushdb()
    procs: dict[str, subprocess.Popen] = {}
    failures: list[str] = []
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        from tests.helpers.push import b64url

        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        public = b64url(key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_hex(32),
            "COACH_INSTANCE_PATH": str(workdir / "instance"),
            "VAPID_PRIVATE_KEY": pem.decode(),
            "VAPID_SUBJECT": "mailto:ops@coach.example",
            "COACH_PUSH_INSECURE_HOSTS": "127.0.0.1",
            "COACH_PUBLIC_URL": "https://coach.example",
            "MAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
            "MAIL_FROM": "Vagal-tone coach <coach@coach.example>",
            "RATELIMIT_STORAGE_URI": args.redis,
            "COACH_SCHEDULER": "off",
            "PYTHONUNBUFFERED": "1",
        }
        subprocess.run(FLASK + ["db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)

        now = datetime.now(UTC)
        start = now + timedelta(seconds=20)  # seeding and starting the processes come first
        print(f"seeding {args.users:,} users, {args.reminders:,} reminders and {args.digests:,} summaries due "
              f"from {start:%H:%M:%S} to {start + timedelta(seconds=DUE_SPREAD):%H:%M:%S} …", flush=True)
        devices = [Device(f"{push.origin}/push/dev{i}") for i in range(args.users)]
        tokens = [secrets.token_urlsafe(32) for _ in range(args.users)]
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "SECRET_KEY", "COACH_INSTANCE_PATH", "COACH_SCHEDULER")})
        from coach import create_app

        app = create_app()
        topics, digest_users, spare_token = seed(app, devices, tokens, args.reminders, args.digests, start, now)
        tokens_file = workdir / "tokens.txt"
        tokens_file.write_text("\n".join(tokens) + "\n")

        port = free_port()
        access_log = workdir / "access.log"
        logs = {name: open(workdir / f"{name}.log", "w") for name in ("web", "scheduler-a", "scheduler-b", "wrk")}
        procs["web"] = subprocess.Popen(
            [GUNICORN, "-w", str(args.workers), "-k", args.worker_class, "--threads", str(args.worker_threads),
             "-b", f"127.0.0.1:{port}", "--access-logfile", str(access_log),
             "--access-logformat", "%(p)s %(s)s %({x-request-id}i)s %(m)s %(U)s %(L)s", "wsgi:app"],
            cwd=ROOT, env=env, stdout=logs["web"], stderr=subprocess.STDOUT,
        )
        wait_for_http(port)
        pause = (start - datetime.now(UTC)).total_seconds()
        if pause < 0:
            raise RuntimeError("seeding took longer than planned; start later")
        time.sleep(pause)

        # The load and the two schedulers start together.
        for name in ("scheduler-a", "scheduler-b"):
            procs[name] = subprocess.Popen(FLASK + ["coach", "scheduler"], cwd=ROOT, env=env, stdout=logs[name], stderr=subprocess.STDOUT)
        local_time = (datetime.now(ZoneInfo(ZONE)) + timedelta(hours=6)).strftime("%H:%M")  # never due in the run
        print(f"load: wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {args.workers} gunicorn workers "
              f"({args.worker_class}, {args.worker_threads} thread{'s' if args.worker_threads > 1 else ''} each), "
              f"2 scheduler processes (load average before {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores) …", flush=True)
        wrk = subprocess.run(
            ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s",
             "-s", str(ROOT / "bench" / "scaleout.lua"), f"http://127.0.0.1:{port}",
             "--", str(tokens_file), local_time, str(args.threads)],
            capture_output=True, text=True, timeout=args.duration + 120,
        )
        logs["wrk"].write(wrk.stdout + wrk.stderr)
        if wrk.returncode != 0:
            raise RuntimeError(f"wrk failed: {wrk.stderr[-2000:]}")

        # Rate limits across workers, on fresh connections (each goes to whichever worker accepts it).
        nobody = {"email": f"nobody-{uuid.uuid4().hex[:8]}@example.com", "password": "not the password at all"}
        login = [fresh_request(port, "POST", "/api/auth/login", nobody) for _ in range(LOGIN_PER_EMAIL + 7)]
        session_id = str(uuid.uuid4())
        session = {"routine": "box", "started_at": "2026-01-05T07:00:00Z", "ended_at": "2026-01-05T07:10:00Z"}
        writes = [fresh_request(port, "PUT", f"/api/sessions/{session_id}", session, spare_token) for _ in range(WRITES_PER_ROUTE + 5)]

        # The schedulers: let the tick after the last due instant finish, then SIGTERM both.
        last_due = start + timedelta(seconds=DUE_SPREAD)
        from sqlalchemy import func, select

        from coach.extensions import db
        from coach.models import DigestDelivery, PushSubscription, ReminderDelivery, SchedulerHeartbeat

        deadline = time.monotonic() + 90
        with app.app_context():
            while time.monotonic() < deadline:
                beats = list(db.session.scalars(select(SchedulerHeartbeat.last_tick_at)))
                db.session.rollback()
                if len(beats) >= 2 and min(beats) > last_due:
                    break
                time.sleep(0.5)
            else:
                failures.append(f"the schedulers did not both tick after {last_due:%H:%M:%S}: {beats}")
            db.engine.dispose()
        for name in ("scheduler-a", "scheduler-b"):
            procs[name].send_signal(signal.SIGTERM)
        for name in ("scheduler-a", "scheduler-b"):
            code = procs[name].wait(120)
            if code != 0:
                failures.append(f"{name} exited {code} on SIGTERM")
        procs["web"].send_signal(signal.SIGTERM)
        procs["web"].wait(60)
        for handle in logs.values():
            handle.close()

        # --- the judges ----------------------------------------------------------------------
        counts: Counter = Counter()
        for line in wrk.stdout.splitlines():
            if line.startswith("COUNT "):
                kind, status, n = line[6:].rsplit("|", 2)
                counts[(kind, int(status))] += int(n)
        summary = [int(x) for x in re.search(r"^SUMMARY (.*)$", wrk.stdout, re.M).group(1).split()]
        latency = [int(x) for x in re.search(r"^LATENCY (.*)$", wrk.stdout, re.M).group(1).split()]
        requests, duration_us, *socket_errors = summary
        p50, p90, p99, worst, mean = latency
        total = sum(counts.values())
        non_2xx = {k: n for k, n in counts.items() if not 200 <= k[1] < 300}
        five_xx = sum(n for k, n in counts.items() if k[1] >= 500)

        log = push.ask("dump")
        by_endpoint = {d.endpoint: d for d in devices}
        received: Counter = Counter()
        bad_pushes = 0
        for endpoint, headers, body, answered in log:
            try:
                delivery = check_request(Received(endpoint, headers, body, 0.0, answered), by_endpoint, push.origin, public)
            except AssertionError:
                bad_pushes += 1
                continue
            received[(endpoint, delivery.topic)] += 1
        expected = Counter({(endpoint, f"r{rid}"): 1 for rid, endpoint in topics.items()})
        push_duplicates = sum(n - 1 for n in received.values() if n > 1)
        push_missing = sum(1 for k in expected if k not in received)
        push_unexpected = sum(1 for k in received if k not in expected)

        mails = smtp.ask("log")
        per_recipient = Counter(rcpt for rcpt, _ in mails)
        message_ids = defaultdict(set)
        for rcpt, message_id in mails:
            message_ids[rcpt].add(message_id)
        wanted_mail = {f"load{i}@example.com" for i in range(args.digests)}
        mail_duplicates = sum(n - 1 for n in per_recipient.values() if n > 1)
        mail_missing = len(wanted_mail - set(per_recipient))

        with app.app_context():
            reminder_states = Counter(db.session.scalars(select(ReminderDelivery.status)))
            digest_states = Counter(db.session.scalars(select(DigestDelivery.status)))
            subscriptions = db.session.scalar(select(func.count()).select_from(PushSubscription))
            db.engine.dispose()
        errors_logged = []
        for name in ("web", "scheduler-a", "scheduler-b"):
            for line in (workdir / f"{name}.log").read_text().splitlines():
                if '"level": "error"' in line or '"level": "critical"' in line or "Traceback" in line:
                    errors_logged.append(f"{name}: {line[:300]}")
        ticks, work = [], []
        for name in ("scheduler-a", "scheduler-b"):
            done = re.findall(r"\"msg\": \"tick \S+: \{'reminders': (\d+), 'digests': (\d+)\}", (workdir / f"{name}.log").read_text())
            ticks.append(len(done))
            work.append((sum(int(r) for r, _ in done), sum(int(d) for _, d in done)))

        login_statuses = [s for s, _ in login]
        write_statuses = [s for s, _ in writes]
        login_workers = workers_of(access_log, [r for _, r in login])
        write_workers = workers_of(access_log, [r for _, r in writes])

        # --- figures -------------------------------------------------------------------------
        seconds = duration_us / 1e6
        print(f"(load average after {os.getloadavg()[0]:.2f}: everything above shares these cores, wrk and the services included)")
        print(f"\nweb: {total:,} requests in {seconds:.1f} s = {total / seconds:,.0f} req/s over {args.connections} connections; "
              f"latency p50 {p50 / 1000:.1f} ms, p90 {p90 / 1000:.1f} ms, p99 {p99 / 1000:.1f} ms, max {worst / 1000:.1f} ms")
        for (kind, status), n in sorted(counts.items()):
            print(f"  {kind:<28} {status}  {n:>7,}")
        print(f"  non-2xx: {sum(non_2xx.values())}, 5xx: {five_xx}, socket errors (connect/read/write/status/timeout): {socket_errors}")
        print(f"push: {sum(received.values()):,} pushes to {len({e for e, _ in received}):,} devices for {len(expected):,} due reminders; "
              f"duplicates {push_duplicates}, missing {push_missing}, unexpected {push_unexpected}, failing checks {bad_pushes}; "
              f"deliveries {dict(reminder_states)}")
        print(f"mail: {len(mails):,} digests to {len(per_recipient):,} recipients for {args.digests:,} due; duplicates {mail_duplicates}, "
              f"missing {mail_missing}; deliveries {dict(digest_states)}")
        print(f"schedulers: ticks {ticks}; reminders sent {[r for r, _ in work]}, digests sent {[d for _, d in work]}; "
              f"both stopped by SIGTERM with exit 0: {'yes' if not any('SIGTERM' in f for f in failures) else 'NO'}")
        print(f"rate limits in Redis, shared by the workers: login for one email {Counter(login_statuses)} "
              f"over {len(login_workers)} workers; {len(writes)} writes with one token {Counter(write_statuses)} "
              f"over {len(write_workers)} workers")

        if non_2xx:
            failures.append(f"non-2xx answers under load: {non_2xx}")
        if five_xx or any(socket_errors):
            failures.append(f"5xx {five_xx}, socket errors {socket_errors}")
        if push_duplicates or push_missing or push_unexpected or bad_pushes:
            failures.append("push: a duplicate, a missing or an unexpected message")
        if sum(r for r, _ in work) != len(expected) or sum(d for _, d in work) != args.digests:
            failures.append(f"the schedulers' own counts {work} do not add up")
        if set(reminder_states) != {"sent"} or sum(reminder_states.values()) != len(expected) or subscriptions != args.users:
            failures.append(f"reminder deliveries {dict(reminder_states)}")
        if mail_duplicates or mail_missing or set(per_recipient) != wanted_mail:
            failures.append("mail: a duplicate or a missing summary")
        if any(len(ids) != 1 for ids in message_ids.values()):
            failures.append("mail: a recipient got two Message-IDs")
        if digest_states != Counter({"sent": args.digests}):
            failures.append(f"digest deliveries {dict(digest_states)}")
        if login_statuses != [401] * LOGIN_PER_EMAIL + [429] * 7:
            failures.append(f"login limit not shared: {login_statuses}")
        if write_statuses != [201] + [200] * (WRITES_PER_ROUTE - 1) + [429] * 5:
            failures.append(f"write limit not shared: {Counter(write_statuses)}")
        if len(login_workers | write_workers) < 2:
            failures.append("the probes were not spread over several workers: the rate-limit proof proves nothing")
        if errors_logged:
            failures.append(f"errors in the logs: {errors_logged[:5]}")
        print("\n" + ("all checks passed" if not failures else "FAILED:\n  " + "\n  ".join(failures)))
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)
        push.stop()
        smtp.stop()
        store.flushdb()
        if drop:
            drop()
        if args.keep:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
