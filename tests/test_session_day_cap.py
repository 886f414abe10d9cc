"""At most 100 new sessions per local day (issue 13, finding 4): the 101st PUT of a new uuid in
the user's day answers 429 with a plain message and Retry-After (until the user's midnight);
editing a session already stored is never refused; the next local day starts afresh."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from coach.practice import sessions
from tests.helpers.accounts import signup
from tests.helpers.sessions import body, put, user_row

UTC = timezone.utc
CAP = sessions.MAX_SESSIONS_PER_DAY


@pytest.fixture
def app_config():
    """Limits on (RATELIMIT_ENABLED=false lifts the day's cap too), writes allowed freely."""
    return {"RATELIMIT_ENABLED": True, "COACH_LIMIT_WRITES": "10000 per minute"}


def test_the_cap_is_100():
    assert CAP == 100


def test_the_101st_new_session_of_a_day_is_refused_and_edits_still_work(client, alice, bob):
    ids = [str(uuid.uuid4()) for _ in range(CAP)]
    for i, session_id in enumerate(ids):
        r = put(client, alice, body(started_at=f"2026-11-20T07:{i % 60:02d}:00Z", ended_at=None), session_id)
        assert r.status_code == 201, (i, r.get_json())
    refused = put(client, alice, body())
    assert refused.status_code == 429
    answer = refused.get_json()
    assert answer["code"] == 429 and answer["status"] == "Too Many Requests"
    assert "100" in answer["message"] and "tomorrow" in answer["message"]
    # Retry-After: until the user's next local midnight (Europe/Berlin), never more than a day.
    assert 0 < int(refused.headers["Retry-After"]) <= 25 * 3600
    # Nothing was written.
    listed = client.get("/api/sessions?limit=100", headers=alice["headers"]).get_json()
    assert len(listed["items"]) == CAP and listed["next_cursor"] is None
    # Editing (and re-sending) a stored session is not refused.
    r = put(client, alice, body(post={"mood": 7}), ids[0])
    assert r.status_code == 200 and r.get_json()["post"]["mood"] == 7
    # Someone else's day is their own.
    assert put(client, bob, body()).status_code == 201


def test_a_deleted_session_makes_room(client, alice):
    ids = [str(uuid.uuid4()) for _ in range(CAP)]
    for session_id in ids:
        assert put(client, alice, body(), session_id).status_code == 201
    assert client.delete(f"/api/sessions/{ids[5]}", headers=alice["headers"]).status_code == 204
    assert put(client, alice, body()).status_code == 201
    assert put(client, alice, body()).status_code == 429


@pytest.mark.parametrize("tz_name", ["Pacific/Auckland", "America/Los_Angeles"])
def test_the_day_is_the_users_local_day(app, client, tz_name):

    who = signup(client, timezone=tz_name)
    with app.app_context():
        user = user_row(who)
        tz = user.timezone
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(tz)
        midnight = datetime(2026, 11, 21, tzinfo=zone).astimezone(UTC)  # local midnight, in UTC
        data = {"routine": "box", "started_at": midnight - timedelta(hours=2)}
        late = midnight - timedelta(minutes=30)
        for _ in range(CAP):
            sessions.save(user, uuid.uuid4(), data, late)
        with pytest.raises(sessions.TooManyToday) as refused:
            sessions.save(user, uuid.uuid4(), data, midnight - timedelta(seconds=1))
        assert refused.value.retry_after == 1
        assert refused.value.cap == CAP
        # A minute after the user's midnight (whatever the hour is in UTC) is a new day.
        sessions.save(user, uuid.uuid4(), data, midnight + timedelta(minutes=1))


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": False}])
def test_turning_rate_limits_off_lifts_the_days_cap_too(client, alice):
    for _ in range(CAP + 1):
        assert put(client, alice, body()).status_code == 201
