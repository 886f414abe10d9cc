"""GET /api/sessions: newest first, filters, a keyset cursor that walks every row once."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest

from coach.practice import sessions as sessions_service
from tests.helpers.sessions import add, rfc3339

UTC = timezone.utc
T0 = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)


def listing(client, who, **params):
    r = client.get("/api/sessions", query_string=params, headers=who["headers"])
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def walk(client, who, limit, **params):
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": limit, **params}
        if cursor:
            query["cursor"] = cursor
        page = listing(client, who, **query)
        assert len(page["items"]) <= limit
        seen += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return seen, pages
        assert pages < 100


@pytest.fixture
def history(client, alice):
    """23 sessions over 20 days; three pairs share a start instant (ties broken by id)."""
    made = []
    for day in range(20):
        made.append(add(client, alice, T0 + timedelta(days=day), routine="box" if day % 2 else "cyclic-sighing"))
    for day in (3, 7, 11):
        made.append(add(client, alice, T0 + timedelta(days=day), routine="humming"))
    return made


def test_pagination_walks_every_session_exactly_once_newest_first(client, alice, history):
    seen, pages = walk(client, alice, limit=4)
    ids = [s["uuid"] for s in seen]
    assert len(ids) == len(set(ids)) == len(history)
    assert set(ids) == {s["uuid"] for s in history}
    assert pages == -(-len(history) // 4)
    starts = [datetime.fromisoformat(s["started_at"]) for s in seen]
    assert starts == sorted(starts, reverse=True)
    # Ties on started_at come out in a fixed order (later-made first), also across page edges.
    tied = [s["uuid"] for s in seen if datetime.fromisoformat(s["started_at"]) == T0 + timedelta(days=7)]
    made = [s["uuid"] for s in history if datetime.fromisoformat(s["started_at"]) == T0 + timedelta(days=7)]
    assert tied == list(reversed(made))


@pytest.mark.shared_app
@pytest.mark.parametrize("limit", [1, 2, 3, 22, 23, 100])
def test_every_page_size_gives_the_same_sequence(client, alice, history, limit):
    whole = listing(client, alice, limit=100)
    assert whole["next_cursor"] is None
    seen, _ = walk(client, alice, limit=limit)
    assert [s["uuid"] for s in seen] == [s["uuid"] for s in whole["items"]]


def test_a_session_added_mid_walk_does_not_shift_the_pages(client, alice, history):
    first = listing(client, alice, limit=5)
    add(client, alice, T0 + timedelta(days=30))  # newer than everything: belongs before page one
    seen, _ = walk(client, alice, limit=5, cursor=first["next_cursor"])
    ids = [s["uuid"] for s in first["items"] + seen]
    assert len(ids) == len(set(ids)) == len(history)


def test_default_limit_is_20(client, alice, history):
    page = listing(client, alice)
    assert len(page["items"]) == 20 and page["next_cursor"]


def test_filters_by_time_and_routine(client, alice, history):
    start, end = T0 + timedelta(days=3), T0 + timedelta(days=7)
    got = listing(client, alice, **{"from": rfc3339(start), "to": rfc3339(end), "limit": 100})["items"]
    # from is inclusive, to exclusive: days 3, 4, 5, 6 and the extra humming session on day 3.
    expected = [s for s in history if start <= datetime.fromisoformat(s["started_at"]) < end]
    assert sorted(s["uuid"] for s in got) == sorted(s["uuid"] for s in expected)
    assert len(got) == 5
    humming = listing(client, alice, routine="humming", limit=100)["items"]
    assert {s["routine"] for s in humming} == {"humming"} and len(humming) == 3
    # Filters and the cursor together.
    seen, _ = walk(client, alice, limit=2, routine="box")
    assert len(seen) == 10 and {s["routine"] for s in seen} == {"box"}
    # A zone offset in the filter means the same instant.
    same = listing(client, alice, **{"from": (start.astimezone(timezone(timedelta(hours=9)))).isoformat(), "limit": 100})
    assert len(same["items"]) == len(listing(client, alice, **{"from": rfc3339(start), "limit": 100})["items"])


def test_others_sessions_never_appear(client, alice, bob, history):
    assert listing(client, bob)["items"] == []
    add(client, bob, T0)
    assert len(listing(client, bob)["items"]) == 1
    seen, _ = walk(client, alice, limit=10)
    assert len(seen) == len(history)


@pytest.mark.shared_app
@pytest.mark.parametrize(
    "params,field",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"from": "2026-10-01T06:00:00"}, "from"),  # naive
        ({"to": "last week"}, "to"),
        ({"from": "2026-10-05T00:00:00Z", "to": "2026-10-01T00:00:00Z"}, "to"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": ""}, "cursor"),
        ({"cursor": "x" * 600}, "cursor"),
    ],
)
def test_bad_query_is_422_naming_the_parameter(client, alice, params, field):
    r = client.get("/api/sessions", query_string=params, headers=alice["headers"])
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["errors"], r.get_json()


def test_a_tampered_cursor_is_refused(app, client, alice, history):
    cursor = listing(client, alice, limit=3)["next_cursor"]
    payload, _, signature = cursor.rpartition(".")
    # Change the encoded position (same signature): refused.
    forged_payload = base64.urlsafe_b64encode(json.dumps(["2030-01-01T00:00:00+00:00", 10**6]).encode()).decode().rstrip("=")
    # Flip one character of the signature: refused.
    flipped = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    # A well-formed cursor signed with another key: refused.
    foreign = sessions_service.encode_cursor(sessions_service.PageKey(T0, 1), "another-secret")
    for bad in (forged_payload + "." + signature, flipped, foreign, cursor[:-2], cursor + "x"):
        r = client.get("/api/sessions", query_string={"cursor": bad}, headers=alice["headers"])
        assert r.status_code == 422, bad
        assert "cursor" in r.get_json()["errors"]
    assert client.get("/api/sessions", query_string={"cursor": cursor}, headers=alice["headers"]).status_code == 200


def test_cursor_round_trip_keeps_the_instant_exactly():
    key = sessions_service.PageKey(datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=UTC), 42)
    assert sessions_service.decode_cursor(sessions_service.encode_cursor(key, "k"), "k") == key
    with pytest.raises(ValueError):
        sessions_service.decode_cursor(sessions_service.encode_cursor(key, "k"), "other")
