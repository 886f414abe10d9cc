"""Five seconds is not a session (issue 14, api.md): a session practised for less than 60 s
(ended_at − started_at, or its completed cycles when that is less) is kept and listed with
`short: true` but counts in no total, streak, insight, recommendation or what-helps; a PUT
of an existing uuid edits it, and DELETE removes it."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from tests.helpers.sessions import body, put, rfc3339

UTC = timezone.utc


def session(client, who, started: datetime, seconds: float, routine="box", sid=None, **extra) -> dict:
    data = body(routine, rfc3339(started), rfc3339(started + timedelta(seconds=seconds)), **extra)
    r = put(client, who, data, sid)
    assert r.status_code in (200, 201), r.get_json()
    return r.get_json()


def insights(client, who, **params) -> dict:
    r = client.get("/api/insights", query_string=params, headers=who["headers"])
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def listed(client, who) -> dict[str, dict]:
    r = client.get("/api/sessions", headers=who["headers"])
    assert r.status_code == 200, r.get_json()
    return {item["uuid"]: item for item in r.get_json()["items"]}


def test_a_session_under_a_minute_is_kept_and_listed_as_short(client, alice):
    now = datetime.now(UTC)
    brief = session(client, alice, now - timedelta(hours=2), 5)
    edge = session(client, alice, now - timedelta(hours=3), 60)
    full = session(client, alice, now - timedelta(hours=4), 600)
    assert (brief["short"], edge["short"], full["short"]) == (True, False, False)
    items = listed(client, alice)
    assert len(items) == 3
    assert items[brief["uuid"]]["short"] is True and items[full["uuid"]]["short"] is False
    got = client.get(f"/api/sessions/{brief['uuid']}", headers=alice["headers"]).get_json()
    assert got["short"] is True and got["duration_seconds"] == 5


def test_completed_cycles_count_when_they_are_less(client, alice):
    now = datetime.now(UTC)
    # Box is 16 s a cycle: left open for ten minutes after two cycles is 32 s of practice.
    left_open = session(client, alice, now - timedelta(hours=2), 600, completed_cycles=2)
    four = session(client, alice, now - timedelta(hours=3), 600, completed_cycles=4)
    assert left_open["short"] is True and four["short"] is False


def test_short_sessions_count_in_no_total_streak_insight_or_what_helps(client, alice):
    now = datetime.now(UTC)
    for hours in (30, 31, 32):  # three real box sessions yesterday, a little lift
        session(client, alice, now - timedelta(hours=hours), 300, pre={"mood": 5}, post={"mood": 6})
    # Humming left after a few seconds, rated as if it were a miracle, and low moods after.
    for minutes in (10, 20, 30, 40):
        session(client, alice, now - timedelta(minutes=minutes), 8, "humming", pre={"mood": 1}, post={"mood": 0 if minutes > 10 else 10})
    got = insights(client, alice)
    assert got["totals"]["sessions"] == 3
    assert got["totals"]["minutes"] == 15.0
    assert [r["routine"] for r in got["by_routine"]] == ["box"]
    assert sum(w["sessions"] for w in got["weekly"]) == 3
    assert got["care"]["show"] is False  # the low moods were in short sessions
    assert got["recommendation"]["routine"] == "box"
    helps = client.get("/api/insights/what-helps", headers=alice["headers"]).get_json()
    assert [r["routine"] for r in helps["routines"]] == ["box"] and helps["sessions"] == 3


def test_a_short_session_does_not_carry_a_streak(client, alice):
    now = datetime.now(UTC)
    session(client, alice, now - timedelta(days=1), 300)
    assert insights(client, alice)["totals"]["streak_days"] >= 1
    session(client, alice, now - timedelta(days=3), 300)
    session(client, alice, now - timedelta(days=2), 20)  # the day in between: only 20 s
    assert insights(client, alice)["totals"]["streak_days"] == 1  # yesterday only; today maybe not yet


def test_put_of_an_existing_uuid_edits_times_ratings_and_note(client, alice):
    now = datetime.now(UTC)
    sid = str(uuid.uuid4())
    first = session(client, alice, now - timedelta(hours=1), 6, sid=sid, pre={"mood": 4})
    assert first["short"] is True and insights(client, alice)["totals"]["sessions"] == 0
    # The person fixes it from history: it was a real ten minutes, and says how it went.
    edited = session(client, alice, now - timedelta(hours=1), 600, sid=sid, pre={"mood": 4},
                     post={"mood": 7, "anxiety": 2, "note": "calmer"})
    assert edited["short"] is False and edited["post"] == {"mood": 7, "anxiety": 2, "energy": None, "note": "calmer"}
    again = client.get(f"/api/sessions/{sid}", headers=alice["headers"]).get_json()
    assert again["post"]["note"] == "calmer" and again["duration_seconds"] == 600
    assert len(listed(client, alice)) == 1
    got = insights(client, alice)
    assert got["totals"]["sessions"] == 1 and got["by_routine"][0]["mood_delta"]["mean"] == 3.0


def test_delete_removes_a_session_from_history_and_every_figure(client, alice, bob):
    now = datetime.now(UTC)
    keep = session(client, alice, now - timedelta(hours=2), 300)
    gone = session(client, alice, now - timedelta(hours=1), 300)
    assert client.delete(f"/api/sessions/{gone['uuid']}", headers=bob["headers"]).status_code == 404
    assert client.delete(f"/api/sessions/{gone['uuid']}", headers=alice["headers"]).status_code == 204
    assert client.get(f"/api/sessions/{gone['uuid']}", headers=alice["headers"]).status_code == 404
    assert list(listed(client, alice)) == [keep["uuid"]]
    assert insights(client, alice)["totals"]["sessions"] == 1


def test_the_openapi_document_shows_short(client):
    spec = client.get("/api/openapi.json").get_json()
    prop = spec["components"]["schemas"]["Session"]["properties"]["short"]
    assert prop["type"] == "boolean" and "60" in prop["description"]
