"""Kept insights answers (coach.practice.insights_cache): a repeat read is served without aggregating,
and the answer served is always the one a fresh computation would give, whichever worker
wrote last and however much time has passed."""
from __future__ import annotations

import json
import random
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import event

from coach.practice import insights_cache

from coach.practice import insights
from coach.api.insights import _render
from coach.extensions import db
from coach.practice.insights_cache import AnswerCache
from coach.timeutil import local_to_utc, zone
from tests.helpers.accounts import signup
from tests.helpers.apps import app_with_db, make_app
from tests.helpers.sessions import add, body, put, rfc3339, user_row

UTC = timezone.utc


def read(client, who, days=90):
    r = client.get("/api/insights", query_string={"days": days}, headers=who["headers"])
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def fresh(who, days=90):
    """What the API would answer without any kept answer (the clock moves a few ms: the
    sessions here are hours away from every edge)."""
    return json.loads(_render(insights.summary(user_row(who), datetime.now(UTC), days)))


def statements_during(func):
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        func()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return seen


def test_a_repeat_read_is_served_without_aggregating(client, alice):
    now = datetime.now(UTC)
    for day in range(20):
        add(client, alice, now - timedelta(days=day, hours=3), routine="box", pre={"mood": 4}, post={"mood": 6})
    first = statements_during(lambda: read(client, alice))
    again = statements_during(lambda: read(client, alice))
    assert len(first) >= 5  # sums, weeks, streak, care…
    assert len(again) == 1 and "auth_tokens" in again[0]  # only the bearer-token lookup
    assert read(client, alice)["totals"]["sessions"] == 20


def test_every_write_is_seen_by_every_worker(app, client, alice, database_url, tmp_path):
    """Two apps on one database stand for two gunicorn workers, each with its own answers."""
    other_app = make_app(database_url, tmp_path)
    other = other_app.test_client()
    now = datetime.now(UTC)
    add(client, alice, now - timedelta(hours=5), routine="box", pre={"mood": 3}, post={"mood": 6})
    assert read(other, alice)["totals"]["sessions"] == 1  # kept by the other worker

    # A new session, through this worker.
    sid = "6f1c7a52-3d0e-4c1e-9a57-0c2f9c1d8e11"
    r = put(client, alice, body("humming", rfc3339(now - timedelta(hours=2)), rfc3339(now - timedelta(hours=1, minutes=50)),
                                pre={"mood": 4}, post={"mood": 5}), sid)
    assert r.status_code == 201
    seen = read(other, alice)
    assert seen["totals"]["sessions"] == 2
    assert {row["routine"] for row in seen["by_routine"]} == {"box", "humming"}

    # The same session replaced: another routine now.
    r = put(client, alice, body("box", rfc3339(now - timedelta(hours=2)), rfc3339(now - timedelta(hours=1, minutes=50)),
                                pre={"mood": 4}, post={"mood": 9}), sid)
    assert r.status_code == 200
    seen = read(other, alice)
    assert [(row["routine"], row["n"]) for row in seen["by_routine"]] == [("box", 2)]
    assert seen["by_routine"][0]["mood_delta"]["mean"] == pytest.approx(4.0)

    # Deleted.
    assert client.delete(f"/api/sessions/{sid}", headers=alice["headers"]).status_code == 204
    assert read(other, alice)["totals"]["sessions"] == 1

    # A custom routine renamed: its new name shows.
    routine = {
        "slug": "my-calm", "name": "My calm", "kind": "breathing", "goal": "Calm", "summary": "Slow breaths.",
        "cycles": 3, "phases": [{"action": "inhale", "seconds": 4, "cue": "In"}, {"action": "exhale", "seconds": 6, "cue": "Out"}],
    }
    assert client.post("/api/routines", json=routine, headers=alice["headers"]).status_code == 201
    add(client, alice, now - timedelta(hours=4), routine="my-calm", pre={"mood": 4}, post={"mood": 6})
    assert "My calm" in {row["name"] for row in read(other, alice)["by_routine"]}
    renamed = {**routine, "name": "Evening calm"}
    assert client.put("/api/routines/my-calm", json=renamed, headers=alice["headers"]).status_code == 200
    assert "Evening calm" in {row["name"] for row in read(other, alice)["by_routine"]}

    # A new time zone moves the local days and weeks.
    assert client.patch("/api/me", json={"timezone": "Pacific/Kiritimati"}, headers=alice["headers"]).status_code == 200
    seen = read(other, alice)
    assert seen == fresh(alice)
    today = datetime.now(UTC).astimezone(zone("Pacific/Kiritimati")).date()
    assert seen["weekly"][-1]["starts_on"] == (today - timedelta(days=today.weekday())).isoformat()
    with other_app.app_context():
        db.engine.dispose()


def test_one_users_answer_is_never_anothers(client, alice, bob):
    now = datetime.now(UTC)
    add(client, alice, now - timedelta(hours=3), routine="box", pre={"mood": 3}, post={"mood": 6})
    assert read(client, alice)["totals"]["sessions"] == 1
    assert read(client, bob)["totals"]["sessions"] == 0
    assert read(client, alice, days=30)["days"] == 30 and read(client, alice)["days"] == 90


def test_an_erased_accounts_answer_never_reaches_a_new_account_with_its_id(client):
    gone = signup(client, "gone@example.com")
    add(client, gone, datetime.now(UTC) - timedelta(hours=3), routine="box", pre={"mood": 3}, post={"mood": 6})
    assert read(client, gone)["totals"]["sessions"] == 1
    r = client.delete("/api/me", json={"password": gone["password"]}, headers=gone["headers"])
    assert r.status_code == 204, r.get_json()
    new = signup(client, "new@example.com")
    if database_is_sqlite():
        assert new["user"]["id"] == gone["user"]["id"]  # the id came back
    add(client, new, datetime.now(UTC) - timedelta(hours=2), routine="humming", pre={"mood": 5}, post={"mood": 5})
    # Same id, same number of writes, same zone and screening: only the account differs.
    assert [row["routine"] for row in read(client, new)["by_routine"]] == ["humming"]


def database_is_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def test_a_kept_answer_is_what_a_fresh_one_would_be_as_time_passes(client, alice):
    """Step the clock through two weeks that hold a daylight-saving change, with sessions
    leaving a 30-day window all along, and hit every edge (each session's way out of the
    window, each local midnight) to the microsecond: the kept answer always equals a fresh one."""
    assert client.patch("/api/me", json={"timezone": "Europe/Berlin"}, headers=alice["headers"]).status_code == 200
    tz = zone("Europe/Berlin")
    days = 30
    rng = random.Random(11)
    begin = datetime(2026, 10, 18, 12, tzinfo=UTC)  # Berlin leaves summer time on 25 October
    starts = []
    for i in range(70):
        # All before the first step, as the clock allows (a phone may be up to a day ahead).
        started = begin - timedelta(days=44) + timedelta(hours=rng.uniform(0, 24 * 44 + 23))
        started = started.replace(microsecond=0)
        starts.append(started)
        pre = rng.randint(2, 7)
        add(client, alice, started, minutes=5, routine=rng.choice(["box", "humming", "resonance"]),
            pre={"mood": pre}, post={"mood": min(10, pre + rng.randint(-1, 3))})
    user = user_row(alice)
    end = begin + timedelta(days=14)
    instants = {begin + timedelta(minutes=97 * k) for k in range(int((end - begin) / timedelta(minutes=97)))}
    for started in starts:
        leaves = started + timedelta(days=days)
        instants |= {leaves, leaves + timedelta(microseconds=1)}
    day = begin.astimezone(tz).date()
    while local_to_utc(day, time(0), tz) < end:
        midnight = local_to_utc(day, time(0), tz)
        instants |= {midnight - timedelta(microseconds=1), midnight}
        day += timedelta(days=1)

    cache = AnswerCache(capacity=16)
    hits = 0
    for now in sorted(t for t in instants if begin <= t < end):
        served: list[bytes] = []
        statements = statements_during(lambda: served.append(insights_cache.summary(cache, user, now, days, _render)))
        hits += not statements
        assert served[0] == _render(insights.summary(user, now, days)), now
    assert hits > 100  # most steps were served from the cache, so the comparison meant something


def test_the_least_recently_used_answer_goes_first():
    cache = AnswerCache(capacity=2)
    now = datetime(2026, 11, 23, tzinfo=UTC)
    later = now + timedelta(hours=1)
    cache.put(("a",), b"A", later)
    cache.put(("b",), b"B", later)
    assert cache.get(("a",), now) == b"A"  # a is now the most recent
    cache.put(("c",), b"C", later)
    assert cache.get(("b",), now) is None
    assert cache.get(("a",), now) == b"A" and cache.get(("c",), now) == b"C"
    assert cache.get(("a",), later) is None and len(cache) == 1  # past its deadline: gone
    keeps_none = AnswerCache(capacity=0)
    keeps_none.put(("a",), b"A", later)
    assert keeps_none.get(("a",), now) is None


def test_a_worker_may_keep_no_answers(database_url, tmp_path):
    with app_with_db(database_url, tmp_path, COACH_INSIGHTS_CACHE_SIZE=0) as app:
        client = app.test_client()
        alice = signup(client)
        add(client, alice, datetime.now(UTC) - timedelta(hours=3), routine="box", pre={"mood": 3}, post={"mood": 6})
        read(client, alice)
        assert len(statements_during(lambda: read(client, alice))) > 1  # computed again



def test_many_windows_of_one_user_do_not_push_out_anothers_answer(database_url, tmp_path):
    # Each distinct `days` was an answer of its own in the shared cache: one account asking
    # for window after window pushed every other account's answer out (issue 13).
    with app_with_db(database_url, tmp_path, COACH_INSIGHTS_CACHE_SIZE=4) as app:
        client = app.test_client()
        alice, bob = signup(client, "alice@example.com"), signup(client, "bob@example.com")
        for who in (alice, bob):
            add(client, who, datetime.now(UTC) - timedelta(hours=3), routine="box", pre={"mood": 3}, post={"mood": 6})
        read(client, alice)
        for days in range(30, 60):
            assert read(client, bob, days)["days"] == days
        again = statements_during(lambda: read(client, alice))
        assert len(again) == 1 and "auth_tokens" in again[0]  # alice's answer is still kept
        assert len(statements_during(lambda: read(client, bob, 59))) == 1  # bob's latest windows too
