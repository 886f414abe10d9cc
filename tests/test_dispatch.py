"""The tick sends due reminders as Web Push, to a real loopback push service that checks
the VAPID JWT and decrypts every message with the device's own keys.

Instants are fixed (`tick(now)`, as `coach tick --at` runs it), so the DST days of 2026
are real: America/New_York springs forward on 8 March and falls back on 1 November,
Europe/Berlin on 29 March and 25 October.
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
from sqlalchemy import select

from coach import planning, reminders
from coach.accounts import profile
from coach.extensions import db
from coach.models import PracticeSession, PushSubscription, Reminder, ReminderDelivery, User
from coach.push import vapid
from coach.tick import reminders as dispatch
from coach.tick.scheduler import tick
from tests.helpers.accounts import signup
from tests.helpers.push import Device, PushService

UTC = timezone.utc
EVERY_DAY = [0, 1, 2, 3, 4, 5, 6]


def Z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def app_config():
    return {"COACH_PUSH_INSECURE_HOSTS": ["127.0.0.1"]}


def person(client, push, timezone="Europe/Berlin", devices=1):
    who = signup(client, timezone=timezone)
    who["devices"] = []
    for _ in range(devices):
        dev = push.device()
        r = client.post("/api/push/subscriptions", json=dev.subscription(), headers=who["headers"])
        assert r.status_code == 201, r.get_json()
        who["devices"].append(dev)
    return who


def remind(client, who, planned_from: datetime, local_time="07:30", weekdays=EVERY_DAY, routine="resonance") -> int:
    """Create a reminder through the API, then plan it as if created at `planned_from`."""
    r = client.post(
        "/api/reminders",
        json={"local_time": local_time, "weekdays": weekdays, "routine": routine},
        headers=who["headers"],
    )
    assert r.status_code == 201, r.get_json()
    db.session.expire_all()
    reminder = db.session.get(Reminder, r.get_json()["id"])
    planning.plan_reminder(reminder, db.session.get(User, who["user"]["id"]), planned_from)
    db.session.commit()
    return reminder.id


def reminder(rid: int) -> Reminder:
    db.session.expire_all()
    return db.session.get(Reminder, rid)


def deliveries(rid: int) -> list[ReminderDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(ReminderDelivery).where(ReminderDelivery.reminder_id == rid).order_by(ReminderDelivery.planned_at)))


def client_sub_id(dev: Device) -> int:
    db.session.expire_all()
    return db.session.scalar(select(PushSubscription.id).where(PushSubscription.endpoint == dev.endpoint))


def count(push: PushService, dev: Device) -> int:
    return len(push.delivered_to(dev))


# --- planning across DST, and the tick ---------------------------------------------------------


DST = [
    # zone, local time, planned from, fires at (UTC), a later tick that must not fire again, then
    pytest.param(
        "America/New_York", "02:30", "2026-03-08T05:00Z", "2026-03-08T07:00Z", "2026-03-08T07:30Z", "2026-03-09T06:30Z",
        id="new-york-spring-gap",  # 02:30 does not exist: 03:00 EDT
    ),
    pytest.param(
        "America/New_York", "01:30", "2026-11-01T04:00Z", "2026-11-01T05:30Z", "2026-11-01T06:30Z", "2026-11-02T06:30Z",
        id="new-york-fall-fold",  # 01:30 twice: the first (EDT) only
    ),
    pytest.param(
        "Europe/Berlin", "02:15", "2026-03-28T23:00Z", "2026-03-29T01:00Z", "2026-03-29T01:15Z", "2026-03-30T00:15Z",
        id="berlin-spring-gap",  # 02:15 does not exist: 03:00 CEST
    ),
    pytest.param(
        "Europe/Berlin", "02:30", "2026-10-24T22:00Z", "2026-10-25T00:30Z", "2026-10-25T01:30Z", "2026-10-26T01:30Z",
        id="berlin-fall-fold",  # 02:30 twice: the first (CEST) only
    ),
]


@pytest.mark.shared_app
@pytest.mark.parametrize("zone, local, planned_from, fires, again, then", DST)
def test_dst_days_fire_once_at_the_right_instant(client, push, zone, local, planned_from, fires, again, then):
    who = person(client, push, timezone=zone)
    rid = remind(client, who, Z(planned_from), local_time=local)
    assert reminder(rid).next_fire_at == Z(fires)

    assert tick(Z(fires) - timedelta(seconds=1)).counts["reminders"] == 0
    assert count(push, who["devices"][0]) == 0
    assert tick(Z(fires)).counts["reminders"] == 1
    assert tick(Z(again)).counts["reminders"] == 0  # the fold's second pass, or just later
    assert count(push, who["devices"][0]) == 1
    assert reminder(rid).next_fire_at == Z(then)
    assert tick(Z(then)).counts["reminders"] == 1
    assert count(push, who["devices"][0]) == 2


def test_cli_tick_at_an_instant(app, client, push):
    who = person(client, push, timezone="America/New_York")
    rid = remind(client, who, Z("2026-03-08T05:00Z"))  # 07:30 EDT = 11:30Z, on the spring-forward day
    runner = app.test_cli_runner()
    result = runner.invoke(args=["coach", "tick", "--at", "2026-03-08T12:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "reminders 1" in result.output
    assert count(push, who["devices"][0]) == 1
    assert reminder(rid).next_fire_at == Z("2026-03-09T11:30Z")
    again = runner.invoke(args=["coach", "tick", "--at", "2026-03-08T12:00:00Z"])
    assert "reminders 0" in again.output
    assert count(push, who["devices"][0]) == 1
    bad = runner.invoke(args=["coach", "tick", "--at", "2026-03-08T12:00:00"])  # no offset
    assert bad.exit_code != 0


def test_the_message_every_device_gets(client, push):
    who = person(client, push, devices=2)
    rid = remind(client, who, Z("2026-05-04T00:00Z"))  # 07:30 CEST = 05:30Z
    plain = remind(client, who, Z("2026-05-04T00:00Z"), local_time="08:00", routine=None)
    minutes = round(client.get("/api/routines/resonance", headers=who["headers"]).get_json()["total_seconds"] / 60)
    assert tick(Z("2026-05-04T06:00Z")).counts["reminders"] == 2
    for dev in who["devices"]:
        got = {d.topic: d for d in push.delivered_to(dev)}
        assert set(got) == {f"r{rid}", f"r{plain}"}
        msg = got[f"r{rid}"]
        assert msg.payload == {
            "type": "reminder",
            "title": f"Time for {minutes} minutes of resonance breathing",
            "body": msg.payload["body"],
            "routine": "resonance",
            "url": "https://coach.example/#/run/resonance",
        }
        assert msg.payload["body"] and "cure" not in msg.payload["body"].lower()
        assert msg.urgency == "high" and 0 < msg.ttl <= 4 * 3600  # time-critical (api.md)
        assert got[f"r{plain}"].payload["routine"] is None
        assert got[f"r{plain}"].payload["url"] == "https://coach.example/"
        assert msg.claims["sub"].startswith("mailto:")


# --- exactly once ----------------------------------------------------------------------------


def test_repeated_ticks_send_each_occurrence_once(client, push):
    who = person(client, push, devices=2)
    rid = remind(client, who, Z("2026-06-01T00:00Z"))
    at = reminder(rid).next_fire_at
    for t in (at, at, at + timedelta(seconds=30), at + timedelta(minutes=5), at + timedelta(minutes=59)):
        tick(t)
    assert [count(push, d) for d in who["devices"]] == [1, 1]
    assert [(d.planned_at, d.status) for d in deliveries(rid)] == [(at, "sent")]


class ProcessDied(BaseException):
    """A crash, not an error: the tick's per-step `except Exception` must not absorb it."""


def _die(*args, **kwargs):
    raise ProcessDied("the process died")


def test_a_crash_after_sending_sends_nothing_again(client, push, monkeypatch):
    """Each device reached is committed while the batch sends, so a process that dies after
    sending (before the batch is finished) leaves nothing for the next tick to repeat."""
    who = person(client, push, devices=2)
    rid = remind(client, who, Z("2026-06-01T00:00Z"))
    at = reminder(rid).next_fire_at

    monkeypatch.setattr(dispatch, "_finish", _die)
    with pytest.raises(ProcessDied):
        tick(at)
    db.session.rollback()
    monkeypatch.undo()
    assert [count(push, d) for d in who["devices"]] == [1, 1]
    [row] = deliveries(rid)
    assert row.status == "sending" and sorted(row.sent_to) == sorted(client_sub_id(d) for d in who["devices"])
    held = reminder(rid).next_fire_at
    assert held > at  # still leased: no tick takes it meanwhile
    assert tick(at + timedelta(minutes=1)).counts["reminders"] == 0
    # The lease runs out: a later tick takes the occurrence again, finds both devices reached.
    tick(held)
    assert [count(push, d) for d in who["devices"]] == [1, 1]
    assert [d.status for d in deliveries(rid)] == ["sent"]
    assert reminder(rid).next_fire_at == at + timedelta(days=1)
    tick(at + timedelta(days=1))
    assert [count(push, d) for d in who["devices"]] == [2, 2]


def test_a_crash_mid_send_is_sent_on_to_the_devices_not_recorded(client, push, monkeypatch):
    """What a process killed mid-send leaves behind: the delivery `sending`, one device
    recorded in `sent_to`, the reminder leased. Before, such an occurrence was never sent
    again (at most once); now, when the lease runs out, the rest of it goes out, with the
    same Topic, and the device already recorded is not sent to again."""
    who = person(client, push, devices=2)
    reached, missed = who["devices"]
    rid = remind(client, who, Z("2026-06-01T00:00Z"))
    at = reminder(rid).next_fire_at

    monkeypatch.setattr(dispatch, "_pushes", _die)  # dies right after recording `sending`
    with pytest.raises(ProcessDied):
        tick(at)
    db.session.rollback()
    monkeypatch.undo()
    [row] = deliveries(rid)
    assert row.status == "sending" and push.received == []
    row.sent_to = [client_sub_id(reached)]  # as the progress writer commits it
    db.session.commit()
    held = reminder(rid).next_fire_at
    assert tick(held - timedelta(seconds=1)).counts["reminders"] == 0  # a live lease is left alone
    assert tick(held).counts["reminders"] == 1
    assert (count(push, reached), count(push, missed)) == (0, 1)
    assert [d.topic for d in push.delivered_to(missed)] == [f"r{rid}"]
    [row] = deliveries(rid)
    assert row.status == "sent" and sorted(row.sent_to) == sorted(client_sub_id(d) for d in who["devices"])
    assert reminder(rid).next_fire_at == at + timedelta(days=1)
    tick(held + timedelta(minutes=5))
    assert (count(push, reached), count(push, missed)) == (0, 1)


def test_a_lost_replan_does_not_resend(client, push):
    """As if the process died after recording `sent` but before re-planning committed."""
    who = person(client, push)
    rid = remind(client, who, Z("2026-06-01T00:00Z"))
    at = reminder(rid).next_fire_at
    tick(at)
    r = reminder(rid)
    r.next_fire_at = r.planned_at = at
    db.session.commit()
    assert tick(at + timedelta(seconds=30)).counts["reminders"] == 0
    assert count(push, who["devices"][0]) == 1
    assert reminder(rid).next_fire_at == at + timedelta(days=1)


def test_many_reminders_in_small_batches(app, client, push):
    app.config["COACH_DISPATCH_BATCH"] = 3
    people = [person(client, push) for _ in range(7)]
    for who in people:
        remind(client, who, Z("2026-06-01T00:00Z"))
    report = tick(Z("2026-06-01T05:30Z"))
    assert report.counts["reminders"] == 7
    assert [count(push, who["devices"][0]) for who in people] == [1] * 7


# --- what the push service answers -------------------------------------------------------------


@pytest.mark.shared_app
@pytest.mark.parametrize("status", [410, 404])
def test_gone_subscriptions_are_deleted(client, push, status):
    who = person(client, push, devices=2)
    gone, alive = who["devices"]
    push.answer(gone, status)
    rid = remind(client, who, Z("2026-06-01T00:00Z"))
    at = reminder(rid).next_fire_at
    assert tick(at).counts["reminders"] == 1
    assert count(push, alive) == 1 and count(push, gone) == 0
    assert [s.endpoint for s in db.session.scalars(select(PushSubscription))] == [alive.endpoint]
    tried = len([r for r in push.received if r.endpoint == gone.endpoint])
    tick(at + timedelta(days=1))
    assert count(push, alive) == 2
    assert len([r for r in push.received if r.endpoint == gone.endpoint]) == tried  # never tried again


def test_the_only_device_gone_fails_the_occurrence_and_replans(client, push):
    who = person(client, push)
    push.answer(who["devices"][0], 410)
    rid = remind(client, who, Z("2026-06-01T00:00Z"))
    at = reminder(rid).next_fire_at
    assert tick(at).counts["reminders"] == 0
    assert [d.status for d in deliveries(rid)] == ["failed"]
    assert reminder(rid).next_fire_at == at + timedelta(days=1)
    assert db.session.scalar(select(db.func.count()).select_from(PushSubscription)) == 0


def test_429_backs_off_as_retry_after_asks_then_sends_the_rest_once(client, push):
    who = person(client, push, devices=2)
    busy, fine = who["devices"]
    push.answer(busy, 429, retry_after="120", times=1)
    rid = remind(client, who, Z("2026-06-01T00:00Z"))
    at = reminder(rid).next_fire_at
    tick(at)
    assert (count(push, busy), count(push, fine)) == (0, 1)
    r = reminder(rid)
    assert r.next_fire_at == at + timedelta(seconds=120) and r.planned_at == at and r.attempts == 1
    assert [(d.status, d.sent_to) for d in deliveries(rid)] == [("retry", [client_sub_id(fine)])]
    requests_before = len(push.received)
    tick(at + timedelta(seconds=60))
    assert len(push.received) == requests_before  # not yet
    tick(at + timedelta(seconds=120))
    assert (count(push, busy), count(push, fine)) == (1, 1)  # the busy one now; the other not twice
    assert [d.status for d in deliveries(rid)] == ["sent"]
    assert reminder(rid).next_fire_at == at + timedelta(days=1)
    tick(at + timedelta(days=1))
    assert (count(push, busy), count(push, fine)) == (2, 2)


def test_5xx_backs_off_exponentially_and_gives_up_within_the_hour(client, push):
    who = person(client, push)
    push.answer(who["devices"][0], 500)
    rid = remind(client, who, Z("2026-06-01T00:00Z"))
    at = reminder(rid).next_fire_at
    times = []
    t = at
    while t < at + timedelta(hours=2):
        times.append(t)
        tick(t)
        t = reminder(rid).next_fire_at
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
    assert gaps == [30, 60, 120, 240, 480, 900, 900]  # doubling, capped at 15 min
    assert times[-1] - at <= timedelta(hours=1)
    assert t == at + timedelta(days=1)  # given up: the next occurrence
    assert len(push.received) == len(times)
    assert [d.status for d in deliveries(rid)] == ["failed"]
    assert db.session.scalar(select(db.func.count()).select_from(PushSubscription)) == 1  # kept


def test_a_network_error_keeps_it_due(client, push):
    who = signup(client)
    with PushService() as closed:
        dev = closed.device()
        client.post("/api/push/subscriptions", json=dev.subscription(), headers=who["headers"])
    # `closed` has stopped: nothing listens on its port now.
    rid = remind(client, who, Z("2026-06-01T00:00Z"))
    at = reminder(rid).next_fire_at
    assert tick(at).counts["reminders"] == 0
    assert reminder(rid).next_fire_at == at + timedelta(seconds=30)
    assert [d.status for d in deliveries(rid)] == ["retry"]


# --- not sent ------------------------------------------------------------------------------------


def test_stale_reminders_are_replanned_not_sent(client, push):
    late, in_time = person(client, push), person(client, push)
    a = remind(client, late, Z("2026-06-01T00:00Z"))
    b = remind(client, in_time, Z("2026-06-01T00:00Z"))
    at = reminder(a).next_fire_at
    # The scheduler was down: the first tick after comes 61 minutes later for one user…
    db.session.get(Reminder, b).next_fire_at = at + timedelta(minutes=2)  # (the other not yet due)
    db.session.commit()
    tick(at + timedelta(minutes=61))
    assert count(push, late["devices"][0]) == 0
    assert [d.status for d in deliveries(a)] == ["stale"]
    assert reminder(a).next_fire_at == at + timedelta(days=1)
    # …while 59 minutes late is still sent.
    rb = reminder(b)
    rb.next_fire_at = rb.planned_at = at + timedelta(minutes=2)
    db.session.commit()
    tick(at + timedelta(minutes=61))
    assert count(push, in_time["devices"][0]) == 1


def _practice(user_id: int, started: datetime, ended: datetime | None) -> None:
    db.session.add(
        PracticeSession(uuid=uuid.uuid4(), user_id=user_id, routine="resonance", started_at=started, ended_at=ended)
    )
    db.session.commit()


def test_skipped_when_the_user_practised_in_the_last_two_hours(client, push):
    at = Z("2026-06-01T05:30Z")
    cases = {  # (started, ended) relative to the reminder → sent?
        "started 90 min before": ((-90, -80), False),
        "ended 110 min before": ((-150, -110), False),
        "still going, started an hour ago": ((-60, None), False),
        "ended 121 min before": ((-180, -121), True),
        "none": (None, True),
    }
    people = {}
    for name, (span, _) in cases.items():
        who = people[name] = person(client, push)
        who["rid"] = remind(client, who, Z("2026-06-01T00:00Z"))
        if span:
            start, end = span
            _practice(who["user"]["id"], at + timedelta(minutes=start), at + timedelta(minutes=end) if end else None)
    tick(at)
    for name, (_, sent) in cases.items():
        who = people[name]
        assert count(push, who["devices"][0]) == (1 if sent else 0), name
        assert [d.status for d in deliveries(who["rid"])] == (["sent"] if sent else ["skipped"]), name
        assert reminder(who["rid"]).next_fire_at == at + timedelta(days=1), name


def test_a_session_of_seconds_does_not_hold_back_the_reminder(client, push):
    """A session under a minute counts nowhere (api.md), so it is no reason to skip the
    reminder either; a real one half an hour before still is."""
    at = Z("2026-06-01T05:30Z")
    sent = {}
    for name, seconds in {"five seconds": 5, "five minutes": 300}.items():
        who = person(client, push)
        rid = remind(client, who, Z("2026-06-01T00:00Z"))
        started = at - timedelta(minutes=30)
        r = client.put(f"/api/sessions/{uuid.uuid4()}", headers=who["headers"], json={
            "routine": "box",
            "started_at": started.isoformat(),
            "ended_at": (started + timedelta(seconds=seconds)).isoformat(),
        })
        assert r.status_code == 201, r.get_json()
        assert r.get_json()["short"] is (seconds < 60)
        sent[name] = (who, rid)
    tick(at)
    who, rid = sent["five seconds"]
    assert count(push, who["devices"][0]) == 1 and [d.status for d in deliveries(rid)] == ["sent"]
    who, rid = sent["five minutes"]
    assert count(push, who["devices"][0]) == 0 and [d.status for d in deliveries(rid)] == ["skipped"]


def test_a_user_without_devices_gets_nothing_and_the_plan_goes_on(client, push):
    who = signup(client)
    rid = remind(client, who, Z("2026-06-01T00:00Z"))
    at = reminder(rid).next_fire_at
    assert tick(at).counts["reminders"] == 0
    assert push.received == []
    assert reminder(rid).next_fire_at == at + timedelta(days=1)


def test_the_send_time_guard_refuses_a_host_no_longer_allowed(app, client, push):
    who = person(client, push)
    rid = remind(client, who, Z("2026-06-01T00:00Z"))
    app.config["COACH_PUSH_INSECURE_HOSTS"] = []  # 127.0.0.1 is loopback: not a public address
    tick(reminder(rid).next_fire_at)
    assert push.received == []
    assert [d.status for d in deliveries(rid)] == ["failed"]


# --- snooze, time zones, devices -----------------------------------------------------------------


def test_snooze_after_a_reminder_sends_again_and_the_plan_goes_on(client, push):
    who = person(client, push)
    rid = remind(client, who, Z("2026-06-01T00:00Z"))
    at = reminder(rid).next_fire_at
    tick(at)
    user = db.session.get(User, who["user"]["id"])
    reminders.snooze(user, reminder(rid), 10, at + timedelta(minutes=1))
    assert reminder(rid).next_fire_at == at + timedelta(minutes=11)
    tick(at + timedelta(minutes=10))
    assert count(push, who["devices"][0]) == 1
    tick(at + timedelta(minutes=11))
    assert count(push, who["devices"][0]) == 2
    assert reminder(rid).next_fire_at == at + timedelta(days=1)
    tick(at + timedelta(days=1))  # the next regular one is not blocked by the snooze
    assert count(push, who["devices"][0]) == 3


def test_snooze_before_a_reminder_postpones_it(client, push):
    who = person(client, push)
    rid = remind(client, who, Z("2026-06-01T00:00Z"))
    at = reminder(rid).next_fire_at
    reminders.snooze(db.session.get(User, who["user"]["id"]), reminder(rid), 30, at - timedelta(minutes=5))
    tick(at)
    assert count(push, who["devices"][0]) == 0
    tick(at + timedelta(minutes=25))
    assert count(push, who["devices"][0]) == 1
    tick(at + timedelta(days=1))
    assert count(push, who["devices"][0]) == 2


def test_a_time_zone_change_replans_and_the_tick_follows(client, push):
    who = person(client, push)  # Europe/Berlin
    rid = remind(client, who, Z("2026-06-01T00:00Z"))
    berlin = reminder(rid).next_fire_at
    assert berlin == Z("2026-06-01T05:30Z")
    profile.update_profile(db.session.get(User, who["user"]["id"]), {"timezone": "America/New_York"}, Z("2026-06-01T00:00Z"))
    assert reminder(rid).next_fire_at == Z("2026-06-01T11:30Z")  # 07:30 EDT
    tick(berlin)
    assert count(push, who["devices"][0]) == 0
    tick(Z("2026-06-01T11:30Z"))
    assert count(push, who["devices"][0]) == 1


def test_resubscribing_with_new_keys_is_used_at_once(client, push):
    who = person(client, push)
    old = who["devices"][0]
    new = push.add_device(Device(old.endpoint))  # the browser rotated its keys
    assert client.post("/api/push/subscriptions", json=new.subscription(), headers=who["headers"]).status_code == 200
    rid = remind(client, who, Z("2026-06-01T00:00Z"))
    tick(reminder(rid).next_fire_at)
    assert count(push, new) == 1  # decrypted with the new keys (the fixture checks no errors)


def test_a_device_that_changed_hands_gets_only_the_new_owners_reminders(client, push):
    first = person(client, push)
    second = signup(client)
    dev = first["devices"][0]
    assert client.post("/api/push/subscriptions", json=dev.subscription(), headers=second["headers"]).status_code == 200
    a = remind(client, first, Z("2026-06-01T00:00Z"))
    b = remind(client, second, Z("2026-06-01T00:00Z"))
    tick(Z("2026-06-01T05:30Z"))
    assert [d.topic for d in push.delivered_to(dev)] == [f"r{b}"]
    assert [d.status for d in deliveries(a)] == ["no_device"]


# --- one account cannot slow anyone else ---------------------------------------------------------


@pytest.fixture
def hostile(app):
    """A push service the attacker runs: every endpoint reads the request and never answers."""
    with PushService(app_server_key=vapid.public_key(vapid.load(app))) as service:
        yield service


def hostile_person(client, hostile, reminders_at: datetime, n_reminders=20, n_devices=10):
    who = signup(client)
    who["devices"] = []
    for _ in range(n_devices):
        dev = hostile.device()
        hostile.hang(dev)
        assert client.post("/api/push/subscriptions", json=dev.subscription(), headers=who["headers"]).status_code == 201
        who["devices"].append(dev)
    who["reminders"] = [remind(client, who, reminders_at, local_time=f"07:{30:02d}") for _ in range(n_reminders)]
    return who


def test_a_hostile_accounts_hanging_endpoints_do_not_delay_an_honest_reminder(client, push, hostile):
    """20 reminders × 10 subscriptions at endpoints that never answer, made before an honest
    user's reminder at the same minute: the honest push goes out at once (before, 120 s
    late: 16 hanging pushes at a time ahead of it), each hanging endpoint is tried at most
    once in the tick, and the hostile reminders stay due with a back-off."""
    attacker = hostile_person(client, hostile, Z("2026-06-01T00:00Z"))
    honest = person(client, push)
    rid = remind(client, honest, Z("2026-06-01T00:00Z"))
    at = reminder(rid).next_fire_at
    assert {reminder(r).next_fire_at for r in attacker["reminders"]} == {at}

    started = time.time()
    report = tick(at)
    took = time.time() - started
    [delivery] = push.delivered_to(honest["devices"][0])
    [honest_request] = [r for r in push.received if r.endpoint == honest["devices"][0].endpoint]
    delay = honest_request.at - started
    assert delay < 3, f"the honest reminder went out {delay:.1f} s into the tick"
    assert delivery.urgency == "high"
    assert report.counts["reminders"] == 1
    # An endpoint (and soon the whole host) that gave no answer is set aside: never tried
    # again in this tick, though each of the 20 reminders has a push for it.
    tried = [hostile.requests_to(d) for d in attacker["devices"]]
    assert max(tried) == 1 and sum(tried) >= 1, tried
    assert took < 25, f"the tick took {took:.1f} s"  # the attacker's own pushes: a few timeouts
    for r in attacker["reminders"]:
        row = reminder(r)
        assert row.next_fire_at == at + timedelta(seconds=30) and row.planned_at == at and row.attempts == 1
    assert reminder(rid).next_fire_at == at + timedelta(days=1)


def test_an_endpoint_that_keeps_timing_out_is_set_aside_for_hours(client, push, hostile, monkeypatch):
    """Three ticks in a row without an answer: the endpoint is set aside (1 h, then 2 h …),
    not tried meanwhile, and an answer later brings it back."""
    monkeypatch.setattr(dispatch, "PUSH_TIMEOUT", aiohttp.ClientTimeout(total=1, sock_read=0.3))
    who = hostile_person(client, hostile, Z("2026-06-01T00:00Z"), n_reminders=1, n_devices=1)
    [dev] = who["devices"]
    [rid] = who["reminders"]
    at = reminder(rid).next_fire_at

    def sub() -> PushSubscription:
        db.session.expire_all()
        return db.session.scalar(select(PushSubscription).where(PushSubscription.endpoint == dev.endpoint))

    t = at
    for n in (1, 2):
        tick(t)
        assert (sub().failures, sub().set_aside_until, hostile.requests_to(dev)) == (n, None, n)
        t = reminder(rid).next_fire_at
    tick(t)
    assert (sub().failures, sub().set_aside_until, hostile.requests_to(dev)) == (3, t + timedelta(hours=1), 3)
    t = reminder(rid).next_fire_at  # the occurrence's own back-off goes on
    tick(t)  # within the hour: not tried; with no other device the reminder moves on to tomorrow
    assert hostile.requests_to(dev) == 3
    assert reminder(rid).next_fire_at == at + timedelta(days=1)
    tick(at + timedelta(days=1))  # the hour is over: tried again, and set aside for twice as long
    assert (sub().failures, sub().set_aside_until, hostile.requests_to(dev)) == (4, at + timedelta(days=1, hours=2), 4)
    hostile.stop_hanging(dev)  # the device is back: an answer resets the count
    t = reminder(rid).next_fire_at
    while len(hostile.delivered_to(dev)) == 0 and t < at + timedelta(days=3):
        tick(t)
        t = reminder(rid).next_fire_at
    assert len(hostile.delivered_to(dev)) == 1 and t == at + timedelta(days=3)
    assert (sub().failures, sub().set_aside_until) == (0, None)
