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
