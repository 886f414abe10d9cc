"""At least once after a crash, in one process: what the sender keeps in flight, and how a
later tick finishes the weekly summaries a dead process was sending.

(The real thing, a scheduler process killed with SIGKILL mid-tick, is in
test_crash_kill.py; reminders left `sending` are in test_dispatch.py.)
"""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from py_vapid import Vapid

from coach.tick import digests as send
from coach.tick.claims import LEASE
from coach.extensions import db
from coach.models import DigestDelivery
from coach.push.sender import Push, Sender
from coach.tick.scheduler import tick
from tests.helpers.digest import at, deliveries, member, user_of
from tests.helpers.push import PushService


class ProcessDied(BaseException):
    """A crash, not an error: the tick's per-step `except Exception` must not absorb it."""


def _die(*args, **kwargs):
    raise ProcessDied("the process died")


# --- the sender: a push holds its place until it is recorded -------------------------------------


def _pushes(service: PushService, n: int) -> list[Push]:
    devices = [service.device() for _ in range(n)]
    return [Push(i, d.endpoint, d.p256dh, d.auth_b64, b"{}", f"r{i}") for i, d in enumerate(devices)]


def _vapid() -> Vapid:
    key = Vapid()
    key.generate_keys()
    return key


def test_never_more_than_the_concurrency_delivered_and_not_yet_recorded():
    """With a slow database (each write 20 ms), pushes delivered but not recorded would pile
    up by the dozen if a push gave up its place on delivery; they never exceed the
    concurrency, which is what bounds the repeats after a crash."""
    concurrency = 4
    recorded: list[int] = []
    unrecorded_seen: list[int] = []
    writes = 0

    with PushService(verify=False) as service:
        pushes = _pushes(service, 60)

        async def write(outcomes):
            nonlocal writes
            writes += 1
            unrecorded_seen.append(len(service.received) - len(recorded))
            await asyncio.sleep(0.02)
            unrecorded_seen.append(len(service.received) - len(recorded))
            recorded.extend(o.tag for o in outcomes)

        with Sender(
            _vapid(), "mailto:ops@coach.example", ["127.0.0.1"], concurrency=concurrency, per_host=concurrency
        ) as sender:  # one push host, allowed the whole window
            outcomes = sender.send_all(pushes, record=write)

    assert [o.status for o in outcomes] == ["delivered"] * 60
    assert sorted(recorded) == list(range(60))  # each recorded once
    assert max(unrecorded_seen) <= concurrency
    assert max(unrecorded_seen) == concurrency  # the window is used: the test would see a leak
    assert writes < 60  # several pushes per write


def test_a_plain_write_is_called_between_turns_and_may_batch():
    recorded: list[int] = []
    with PushService(verify=False) as service:
        pushes = _pushes(service, 20)
        with Sender(_vapid(), "mailto:ops@coach.example", ["127.0.0.1"], concurrency=8) as sender:
            sender.send_all(pushes, record=lambda outcomes: recorded.extend(o.tag for o in outcomes))
    assert sorted(recorded) == list(range(20))


def test_a_write_that_fails_stops_the_sending_and_is_raised():
    class DatabaseDown(Exception):
        pass

    def write(outcomes):
        raise DatabaseDown("the database went away")

    with PushService(verify=False) as service:
        pushes = _pushes(service, 40)
        with Sender(_vapid(), "mailto:ops@coach.example", ["127.0.0.1"], concurrency=2) as sender:
            with pytest.raises(DatabaseDown):
                sender.send_all(pushes, record=write)
        # The first write fails after the first answer: at most the pushes already out go.
        assert len(service.received) <= 2 * 2


def test_a_write_is_awaited_even_when_the_budget_runs_out():
    """A push answered just before the budget ends is recorded, not reported for a retry
    (which would send it to that device a second time)."""
    recorded: list[int] = []

    async def slow_write(outcomes):
        await asyncio.sleep(0.5)  # still writing when the budget ends
        recorded.extend(o.tag for o in outcomes)

    with PushService(verify=False) as service:
        pushes = _pushes(service, 3)
        with Sender(_vapid(), "mailto:ops@coach.example", ["127.0.0.1"], concurrency=3, per_host=3) as sender:
            outcomes = sender.send_all(pushes, budget=0.3, record=slow_write)
    assert [o.status for o in outcomes] == ["delivered"] * 3
    assert sorted(recorded) == [0, 1, 2]


# --- digests: a week left `sending` by a dead process ---------------------------------------------

SEND = at("2026-11-22T17:00:00Z")  # Sunday 18:00 in Berlin


@pytest.fixture
def app_config(smtp_server):
    return {"MAIL_URL": smtp_server.url(), "MAIL_FROM": "Vagal-tone coach <coach@coach.example>"}


def _crash_after_claiming(monkeypatch):
    monkeypatch.setattr(send, "gather", _die)  # right after the claim is committed
    with pytest.raises(ProcessDied):
        tick(SEND)
    db.session.rollback()
    monkeypatch.undo()


def test_a_week_left_sending_by_a_dead_process_is_sent_when_the_lease_runs_out(client, smtp_server, monkeypatch):
    ann = member(client, "ann@example.com", "Europe/Berlin", at("2026-11-16T10:00:00Z"), send_empty=True)
    _crash_after_claiming(monkeypatch)
    assert smtp_server.received == []
    assert deliveries(ann) == [("2026-W47", "sending")]
    lease = user_of(ann).digest_next_at
    assert SEND + LEASE <= lease < SEND + LEASE + timedelta(seconds=30)

    tick(SEND + timedelta(seconds=30))  # the lease holds: no other tick takes it
    assert smtp_server.received == []
    report = send.send_due(lease)
    assert (report.sent, report.resumed) == (1, 1)
    [got] = smtp_server.received
    assert got.rcpt_tos == ["ann@example.com"]
    assert got.message["Message-ID"] == f"<digest-{ann['user']['id']}-2026-W47@coach.example>"
    assert deliveries(ann) == [("2026-W47", "sent")]
    assert user_of(ann).digest_next_at == at("2026-11-29T17:00:00Z")
    tick(lease + timedelta(minutes=10))
    assert len(smtp_server.received) == 1


def test_a_week_marked_sent_before_the_crash_is_not_sent_again(client, smtp_server, monkeypatch):
    """The marker commits `sent` as the server accepts each message: what a dead process
    had sent and marked is only re-planned by the later tick."""
    ann = member(client, "ann@example.com", "Europe/Berlin", at("2026-11-16T10:00:00Z"), send_empty=True)
    bob = member(client, "bob@example.com", "Europe/Berlin", at("2026-11-16T10:00:00Z"), send_empty=True)
    _crash_after_claiming(monkeypatch)
    row = db.session.scalar(db.select(DigestDelivery).where(DigestDelivery.user_id == ann["user"]["id"]))
    row.status = "sent"  # as the marker leaves a message the server accepted
    db.session.commit()
    lease = user_of(ann).digest_next_at
    send.send_due(lease)
    assert [r.rcpt_tos for r in smtp_server.received] == [["bob@example.com"]]
    assert deliveries(ann) == [("2026-W47", "sent")] and deliveries(bob) == [("2026-W47", "sent")]
    assert user_of(ann).digest_next_at == user_of(bob).digest_next_at == at("2026-11-29T17:00:00Z")


def test_a_week_left_sending_and_found_days_later_is_stale_not_sent(client, smtp_server, monkeypatch):
    ann = member(client, "ann@example.com", "Europe/Berlin", at("2026-11-16T10:00:00Z"), send_empty=True)
    _crash_after_claiming(monkeypatch)
    report = send.send_due(SEND + timedelta(days=3))
    assert (report.sent, report.stale) == (0, 1) and smtp_server.received == []
    assert deliveries(ann) == [("2026-W47", "stale")]
    assert user_of(ann).digest_next_at == at("2026-11-29T17:00:00Z")


def test_an_edit_during_the_send_wins_over_the_batchs_replan(client, smtp_server, monkeypatch):
    """The batch writes a user back only while the user still holds its lease."""
    ann = member(client, "ann@example.com", "Europe/Berlin", at("2026-11-16T10:00:00Z"), send_empty=True)
    real_gather = send.gather

    def edit_then_gather(*args, **kwargs):
        with client.application.app_context():
            r = client.patch("/api/me", headers=ann["headers"], json={"digest": {"weekday": 2, "local_time": "07:00"}})
            assert r.status_code == 200
        return real_gather(*args, **kwargs)

    monkeypatch.setattr(send, "gather", edit_then_gather)
    send.send_due(SEND)
    assert len(smtp_server.received) == 1
    planned = user_of(ann).digest_next_at
    assert planned != at("2026-11-29T17:00:00Z")  # not the batch's plan: the edit's
    assert planned.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin")).strftime("%a %H:%M") == "Wed 07:00"
