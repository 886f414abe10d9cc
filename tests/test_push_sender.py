"""Small rules of the sender: Retry-After in both its forms, and the back-off."""
from __future__ import annotations

from datetime import timedelta
from email.utils import formatdate

from py_vapid import Vapid

from coach.push.sender import MAX_RETRY_AFTER, Push, Sender, parse_retry_after
from coach.tick.reminders import backoff
from tests.helpers.push import PushService


def test_retry_after_seconds_and_http_date():
    assert parse_retry_after("120") == 120
    wall = 1_800_000_000.0
    assert parse_retry_after(formatdate(wall + 90, usegmt=True), wall_now=wall) == 90
    assert parse_retry_after(formatdate(wall - 90, usegmt=True), wall_now=wall) == 0  # in the past: now
    assert parse_retry_after(str(10**9)) == MAX_RETRY_AFTER
    for junk in (None, "", "soon", "-5", "1.5"):
        assert parse_retry_after(junk) is None, junk


def test_backoff_doubles_from_30_seconds_to_15_minutes_and_honours_retry_after():
    assert [backoff(n, None).total_seconds() for n in range(1, 8)] == [30, 60, 120, 240, 480, 900, 900]
    assert backoff(1, 300) == timedelta(seconds=300)  # the service asked for longer
    assert backoff(4, 5) == timedelta(seconds=240)  # never sooner than our own back-off


def test_a_batch_never_outlives_its_budget():
    """A push service that hangs must not keep the tick past the lease on its rows."""
    vapid = Vapid()
    vapid.generate_keys()
    with PushService(verify=False, delay=2.0) as slow:
        devices = [slow.device() for _ in range(3)]
        pushes = [Push(i, d.endpoint, d.p256dh, d.auth_b64, b"{}", "r1") for i, d in enumerate(devices)]
        with Sender(vapid, "mailto:ops@coach.example", ["127.0.0.1"]) as sender:
            outcomes = sender.send_all(pushes, budget=0.3)
    # Without the budget they would have been answered (201, after 2 s).
    assert [(o.tag, o.status, o.detail) for o in outcomes] == [(i, "retry", "out of time") for i in range(3)]


# --- what one push endpoint can cost the sender -------------------------------------------------

MEASURE = r"""
import json, resource, sys
from py_vapid import Vapid
from coach.push.sender import Push, Sender

warm, big = json.loads(sys.argv[1])
vapid = Vapid()
vapid.generate_keys()


def peak():  # the process's peak resident memory, bytes (Linux: ru_maxrss in KiB)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


with Sender(vapid, "mailto:ops@coach.example", ["127.0.0.1"]) as sender:
    first = sender.send_all([Push(0, *warm, b'{"title":"Time to breathe"}', "r1")])
    before = peak()
    second = sender.send_all([Push(1, *big, b'{"title":"Time to breathe"}', "r2")])
    after = peak()
print(json.dumps({"before": before, "after": after, "statuses": [o.status for o in first + second]}))
"""


def test_an_answer_of_100_mb_leaves_the_senders_memory_within_a_few_mb():
    """A push endpoint is a URL a user chose: its 201 may carry any body. The sender reads
    a few KB of it at most; before, pywebpush read all of it (and decoded it as text)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from tests.helpers.push import PushService

    with PushService(verify=False) as service:
        warm, big = service.device(), service.device()
        service.answer_body(big, 100 * 1024 * 1024)
        args = json.dumps([[d.endpoint, d.p256dh, d.auth_b64] for d in (warm, big)])
        run = subprocess.run(
            [sys.executable, "-c", MEASURE, args],
            cwd=Path(__file__).resolve().parent.parent,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert run.returncode == 0, run.stderr[-2000:]
    got = json.loads(run.stdout)
    assert got["statuses"] == ["delivered", "delivered"]  # a 201 is a delivery, whatever follows
    grew = (got["after"] - got["before"]) / 2**20
    assert grew < 4, f"the sender's peak memory grew by {grew:.1f} MB over one answer"


def test_pushes_start_round_robin_over_their_owners():
    from coach.push.sender import Push, round_robin

    owners = ["a"] * 5 + ["b", "c", "c"]
    pushes = [Push(i, f"https://push.example/{i}", "k", "a", b"{}", "t", owner=o) for i, o in enumerate(owners)]
    assert [owners[i] for i in round_robin(pushes)] == ["a", "b", "c", "a", "c", "a", "a", "a"]


def test_a_push_host_that_answers_nobody_is_set_aside_for_the_tick():
    """Endpoints of many users on one host that only holds connections open: once a whole
    round of its connections went unanswered, its other pushes are not sent in this tick;
    another host's are not held up meanwhile."""
    import aiohttp
    from py_vapid import Vapid

    from coach.push.sender import Push, Sender
    from tests.helpers.push import PushService

    vapid = Vapid()
    vapid.generate_keys()
    with PushService(verify=False) as hanging, PushService(verify=False) as fine:
        bad = [hanging.device() for _ in range(20)]
        for dev in bad:
            hanging.hang(dev)
        good = [fine.device() for _ in range(20)]
        pushes = [
            Push(i, d.endpoint, d.p256dh, d.auth_b64, b"{}", f"r{i}", owner=i)
            for i, d in enumerate(d for pair in zip(bad, good) for d in pair)
        ]
        timeout = aiohttp.ClientTimeout(total=2, sock_read=0.3)
        with Sender(vapid, "mailto:ops@coach.example", ["127.0.0.1"], concurrency=4, per_host=2, timeout=timeout) as sender:
            outcomes = sender.send_all(pushes)
        assert len(hanging.received) == 2 and len(fine.received) == 20
    statuses = [o.status for o in outcomes]
    assert statuses[1::2] == ["delivered"] * 20
    assert statuses[0::2] == ["timeout"] * 2 + ["set_aside"] * 18
