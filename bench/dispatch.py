"""Reminder dispatch benchmark: N users, each with a push subscription and a reminder due at
one instant, one tick, to a loopback push service.

Prints pushes/s and total seconds of the tick, and the ratio to a floor measured in the same
run: the same payloads encrypted with http_ece (aes128gcm, a fresh ECDH key each) and
POSTed over one keep-alive connection from one thread, to the same service. The push
service runs in a process of its own and only records while timed; afterwards every
recorded message is checked (VAPID JWT, decryption with the device's own keys) and each
device must have exactly one.

Goal: 10,000 pushes in ≤ 10 s on this 2-core machine and ≥ 0.5 of the floor; with two
scheduler processes on PostgreSQL, faster than one.

Then the same tick with `--hostile` % more users (default 5) whose one subscription is at
an attacker's push host that reads each request and never answers (its own process): the
honest pushes/s (honest pushes over the time to the last one) and their worst delay,
beside the same figures of the run without them. Goal: within 10 %.

    .venv/bin/python bench/dispatch.py                              # SQLite, one process
    .venv/bin/python bench/dispatch.py --postgres URL --processes 2 # one, then two processes
"""
from __future__ import annotations

import argparse
import functools
import http.client
import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # coach and tests.helpers, from any working directory

DUE = datetime(2026, 6, 1, 5, 30, tzinfo=timezone.utc)  # 07:30 in Berlin
PUBLIC_URL = "https://coach.example"


# --- the push service, in a process of its own ------------------------------------------------


def _service_main(conn, hang: bool = False) -> None:
    from tests.helpers.push import PushService

    service = PushService(verify=False, hang_all=hang).start()
    conn.send(service.port)
    while True:
        command = conn.recv()
        if command == "count":
            conn.send(len(service.received))
        elif command == "dump":
            conn.send([(r.endpoint, r.headers, r.body, r.answered, r.at) for r in service.received])
        elif command == "clear":
            service.clear()
            conn.send(True)
        elif command == "stop":
            service.stop()
            conn.send(True)
            return


class ChildServer:
    """A loopback server in a spawned process of its own, so its CPU is not the benchmark's
    (the digest and scale-out benchmarks' SMTP servers use it too): `main(conn)` sends its
    port, then answers commands over the pipe until "stop"."""

    def __init__(self, main):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=main, args=(child,), daemon=True)
        self.proc.start()
        self.port = self.conn.recv()

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (is it the bottleneck?)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def ask(self, command):
        self.conn.send(command)
        return self.conn.recv()

    def stop(self):
        self.ask("stop")
        self.proc.join(10)


class ServiceProcess(ChildServer):
    """The loopback push service (`hang`: one that never answers)."""

    def __init__(self, hang: bool = False):
        super().__init__(functools.partial(_service_main, hang=hang))
        self.origin = f"http://127.0.0.1:{self.port}"


# --- scheduler processes -----------------------------------------------------------------------


def _tick_main(env: dict, ready, go, results) -> None:
    os.environ.update(env)
    from coach import create_app
    from coach.push import vapid
    from coach.tick.scheduler import tick

    app = create_app()
    with app.app_context():
        # A running scheduler has ticked before: one tick a day early (nothing due then)
        # loads the modules and compiles the statements before the clock starts.
        vapid.load(app)
        tick(DUE - timedelta(days=1))
        ready.put(os.getpid())
        go.wait()
        started = time.perf_counter()
        report = tick(DUE)
        results.put((report.counts.get("reminders", 0), time.perf_counter() - started))


def run_ticks(env: dict, processes: int) -> tuple[float, list, float]:
    ctx = mp.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_tick_main, args=(env, ready, go, results)) for _ in range(processes)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    started, wall = time.perf_counter(), time.time()
    go.set()
    outcome = [results.get(timeout=600) for _ in procs]
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join(30)
    return elapsed, outcome, wall


# --- the floor ---------------------------------------------------------------------------------


def floor(service: ServiceProcess, devices, payload: bytes, vapid_header: str) -> float:
    """Encrypt + POST each payload over one keep-alive connection, one thread; pushes/s."""
    import http_ece
    from cryptography.hazmat.primitives.asymmetric import ec

    conn = http.client.HTTPConnection("127.0.0.1", service.port)
    raw_keys = [(d, _raw_p256dh(d)) for d in devices]
    started = time.perf_counter()
    for i, (dev, dh) in enumerate(raw_keys):
        body = http_ece.encrypt(
            payload,
            private_key=ec.generate_private_key(ec.SECP256R1()),
            dh=dh,
            auth_secret=dev.auth,
            version="aes128gcm",
        )
        conn.request(
            "POST",
            f"/floor/{i}",
            body=body,
            headers={
                "TTL": "3600",
                "Content-Encoding": "aes128gcm",
                "Urgency": "normal",
                "Topic": f"r{i}",
                "Authorization": vapid_header,
            },
        )
        response = conn.getresponse()
        response.read()
        assert response.status == 201, response.status
    elapsed = time.perf_counter() - started
    conn.close()
    return len(devices) / elapsed


def _raw_p256dh(dev) -> bytes:
    from tests.helpers.push import unb64url

    return unb64url(dev.p256dh)


# --- the database ------------------------------------------------------------------------------


def make_database(postgres: str | None, workdir: Path):
    if not postgres:
        return f"sqlite:///{workdir / 'bench.sqlite3'}", None
    from tests.helpers.pg import private_database

    return private_database(postgres, "coach_bench")


def reset_due(app, rids, off=()) -> None:
    """Make these reminders due again (for another round over the same data), and those
    in `off` not due at all."""
    from sqlalchemy import delete, update

    from coach.extensions import db
    from coach.models import Reminder, ReminderDelivery

    with app.app_context():
        db.session.execute(delete(ReminderDelivery))
        for ids, due in ((rids, DUE), (off, None)):
            for start in range(0, len(ids), 5000):
                db.session.execute(
                    update(Reminder)
                    .where(Reminder.id.in_(ids[start : start + 5000]))
                    .values(next_fire_at=due, planned_at=due, attempts=0)
                )
        db.session.commit()
        db.engine.dispose()


def check_log(service: ServiceProcess, devices, public_key: str, wall: float) -> tuple[int, int, float]:
    """Every recorded message verified and decrypted; each device exactly once. Returns
    (messages, devices, seconds from `wall`, the tick's start, to the last message)."""
    from collections import Counter

    from tests.helpers.push import Received, check_request

    by_endpoint = {d.endpoint: d for d in devices}
    log = service.ask("dump")
    seen = Counter()
    for endpoint, headers, body, answered, _at in log:
        assert answered == 201, (endpoint, answered)
        check_request(Received(endpoint, headers, body, 0.0, answered), by_endpoint, service.origin, public_key)
        seen[endpoint] += 1
    assert set(seen) == set(by_endpoint), f"{len(by_endpoint) - len(seen)} devices got nothing"
    assert set(seen.values()) == {1}, "some device got a message twice"
    return len(log), len(seen), max(at for *_, at in log) - wall


# --- main --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL URL (a database is made and dropped)")
    parser.add_argument("--processes", type=int, default=1, help="scheduler processes (>1: also runs 1 first)")
    parser.add_argument("--concurrency", type=int, help="pushes in flight per process (default: the app's)")
    parser.add_argument("--hostile", type=float, default=5, help="%% more users at a hanging push host (0: no such run)")
    args = parser.parse_args()
    if args.processes > 1 and not args.postgres:
        parser.error("several scheduler processes need --postgres (SQLite has one writer)")

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from py_vapid import Vapid

    from tests.helpers.push import Device, b64url

    workdir = Path(tempfile.mkdtemp(prefix="coach-bench-"))
    service = ServiceProcess()
    attacker = ServiceProcess(hang=True)
    database_url, drop = make_database(args.postgres, workdir)
    try:
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        public = b64url(key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
        env = {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench-signing-key-of-at-least-32-bytes",
            "COACH_INSTANCE_PATH": str(workdir / "instance"),
            "VAPID_PRIVATE_KEY": pem.decode(),
            "VAPID_SUBJECT": "mailto:ops@coach.example",
            "COACH_PUSH_INSECURE_HOSTS": "127.0.0.1",
            "COACH_PUBLIC_URL": PUBLIC_URL,
            "COACH_SCHEDULER": "off",
            "RATELIMIT_ENABLED": "false",
        }
        if args.concurrency:
            env["COACH_PUSH_CONCURRENCY"] = str(args.concurrency)
        os.environ.update(env)

        print(f"making {args.users} users, subscriptions and due reminders …", flush=True)
        devices = [Device(f"{service.origin}/push/dev{i}") for i in range(args.users)]
        from coach import create_app, reminders
        from coach.extensions import db
        from coach.models import User
        from coach.routines.service import get_routine
        from tests.helpers.seeds import seed_due_reminders

        app = create_app()
        with app.app_context():
            db.create_all()
            # The hostile users' (for the last run) among the others, one in every 1/hostile.
            n_hostile = round(args.users * args.hostile / 100)
            every = max(1, round(args.users / n_hostile)) if n_hostile else 0
            hostile_devices = [Device(f"{attacker.origin}/push/h{i}") for i in range(n_hostile)]
            everyone, hostile_at = [], set()
            for i, dev in enumerate(devices):
                everyone.append(dev)
                if every and (i + 1) % every == 0 and len(hostile_at) < n_hostile:
                    hostile_at.add(len(everyone))
                    everyone.append(hostile_devices[len(hostile_at) - 1])
            all_rids = seed_due_reminders(everyone, DUE)
            rids = [r for i, r in enumerate(all_rids) if i not in hostile_at]
            hostile_rids = [r for i, r in enumerate(all_rids) if i in hostile_at]
            user = db.session.scalar(db.select(User).limit(1))
            payload = json.dumps(reminders.message(get_routine(user, "resonance"), PUBLIC_URL), separators=(",", ":")).encode()
            db.engine.dispose()

        vapid_header = Vapid(key).sign({"sub": "mailto:ops@coach.example", "aud": service.origin})["Authorization"]
        sample = devices[: min(len(devices), 5000)]

        def measure_floor() -> float:
            rate = floor(service, sample, payload, vapid_header)
            service.ask("clear")
            return rate

        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
        floor_before = measure_floor()
        reset_due(app, rids, off=hostile_rids)  # the run without them first

        rounds = [1] if args.processes == 1 else [1, args.processes]
        measured = []
        for i, processes in enumerate(rounds):
            if i:
                reset_due(app, rids)
                service.ask("clear")
            cpu_before = service.cpu_seconds()
            elapsed, outcome, wall = run_ticks(env, processes)
            service_cpu = service.cpu_seconds() - cpu_before
            received, distinct, last = check_log(service, devices, public, wall)
            service.ask("clear")
            measured.append((processes, elapsed, outcome, received, distinct, service_cpu, last))
        # With hostile users: their endpoints at a host that never answers.
        hostile_run = None
        if n_hostile:
            reset_due(app, rids + hostile_rids)
            service.ask("clear")
            elapsed, outcome, wall = run_ticks(env, 1)
            received, distinct, last = check_log(service, devices, public, wall)
            hostile_run = (elapsed, received, distinct, last, attacker.ask("count"))
            # The run without them once more: the machine's load drifts; compare with both.
            reset_due(app, rids, off=hostile_rids)
            service.ask("clear")
            _, _, wall = run_ticks(env, 1)
            clean_again = check_log(service, devices, public, wall)
        # The floor before and after the ticks: other work on the machine moves both.
        floor_after = measure_floor()
        floor_rate = (floor_before + floor_after) / 2
        print(
            f"floor (encrypt + POST, one keep-alive connection, one thread): {floor_rate:,.0f} pushes/s "
            f"(before {floor_before:,.0f}, after {floor_after:,.0f})",
            flush=True,
        )
        results = {}
        for processes, elapsed, outcome, received, distinct, service_cpu, _last in measured:
            sent = sum(n for n, _ in outcome)
            rate = received / elapsed
            results[processes] = elapsed
            db_name = "PostgreSQL" if args.postgres else "SQLite"
            print(
                f"{processes} scheduler process{'es' if processes > 1 else ''} on {db_name}: "
                f"{received:,} pushes to {distinct:,} devices (reminders sent {sent:,}) in {elapsed:.2f} s = "
                f"{rate:,.0f} pushes/s; ratio to floor {rate / floor_rate:.2f}"
                + (f"; per process {[n for n, _ in outcome]}" if processes > 1 else "")
                + f" (the push service was busy {service_cpu / elapsed:.0%} of the time)",
                flush=True,
            )
            print(
                f"  goal: all delivered in ≤ 10 s: {'yes' if elapsed <= 10 and distinct == args.users else 'NO'}; "
                f"≥ 0.5 of the floor: {'yes' if rate / floor_rate >= 0.5 else 'NO'}",
                flush=True,
            )
        if len(results) > 1:
            speedup = results[1] / results[rounds[-1]]
            print(f"  {rounds[-1]} processes vs 1: {speedup:.2f}× ({'faster' if speedup > 1 else 'NOT faster'})")
        if hostile_run:
            _, _, _, clean_received, _, _, clean_first = measured[0]
            clean_last = (clean_first + clean_again[2]) / 2
            elapsed, received, distinct, last, tried = hostile_run
            clean_rate, rate = clean_received / clean_last, received / last
            print(
                f"honest pushes, 1 process: without hostile users {clean_rate:,.0f}/s, worst delay {clean_last:.2f} s "
                f"(mean of the runs before and after: {clean_first:.2f} s, {clean_again[2]:.2f} s); "
                f"with {n_hostile:,} hostile users ({args.hostile:g} %, hanging endpoints) {rate:,.0f}/s, "
                f"worst delay {last:.2f} s; ratio {rate / clean_rate:.2f} "
                f"(the tick {elapsed:.2f} s; {tried} requests reached the hanging host)",
                flush=True,
            )
            print(
                f"  goal: honest pushes/s and worst delay within 10 %: "
                f"{'yes' if rate >= 0.9 * clean_rate and last <= 1.1 * clean_last and distinct == args.users else 'NO'}",
                flush=True,
            )
    finally:
        attacker.stop()
        service.stop()
        if drop:
            drop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
