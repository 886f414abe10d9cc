"""PUT / GET / DELETE /api/sessions/<uuid>: recording, idempotency, ownership, bad input."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select

from coach.practice import sessions as sessions_service
from coach.extensions import db
from coach.models import PracticeSession
from coach.routines import catalogue
from tests.helpers.sessions import body, put, rfc3339

UTC = timezone.utc
FULL = body(
    "box",
    "2026-11-20T08:00:00+01:00",
    "2026-11-20T07:12:30Z",
    completed_cycles=7,
    pre={"mood": 3, "anxiety": 7, "energy": 4},
    post={"mood": 6, "anxiety": 3, "energy": 5, "note": "Calmer, shoulders down."},
    details={"cold_seconds": 0, "water_temp_c": 12.5, "retention_seconds": [61, 75.5]},
)


def rows(user_id=None) -> int:
    stmt = select(func.count()).select_from(PracticeSession)
    if user_id is not None:
        stmt = stmt.where(PracticeSession.user_id == user_id)
    return db.session.scalar(stmt)


def error_fields(r) -> dict:
    payload = r.get_json()
    assert payload["code"] == r.status_code
    return payload.get("errors") or {}


# --- recording ----------------------------------------------------------------------------

def test_put_creates_then_the_same_body_again_updates_one_row(client, alice):
    sid = str(uuid.uuid4())
    first = put(client, alice, FULL, sid)
    assert first.status_code == 201, first.get_json()
    again = put(client, alice, FULL, sid)
    assert again.status_code == 200, again.get_json()
    assert rows() == 1
    a, b = first.get_json(), again.get_json()
    assert a["created_at"] == b["created_at"]
    assert {k: v for k, v in a.items() if k != "updated_at"} == {k: v for k, v in b.items() if k != "updated_at"}


def test_the_answer_is_the_session_as_stored(client, alice):
    sid = str(uuid.uuid4())
    got = put(client, alice, FULL, sid).get_json()
    box_cycles = catalogue.builtin("box")["cycles"]
    assert got["uuid"] == sid
    assert got["routine"] == "box"
    # 08:00 at +01:00 is 07:00 UTC; stored and answered as UTC.
    assert datetime.fromisoformat(got["started_at"]) == datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
    assert datetime.fromisoformat(got["ended_at"]) == datetime(2026, 11, 20, 7, 12, 30, tzinfo=UTC)
    assert got["duration_seconds"] == 750
    assert got["completed_cycles"] == 7
    assert got["planned_cycles"] == box_cycles
    assert got["partial"] is (7 < box_cycles)
    assert got["pre"] == {"mood": 3, "anxiety": 7, "energy": 4}
    assert got["post"] == {"mood": 6, "anxiety": 3, "energy": 5, "note": "Calmer, shoulders down."}
    assert got["details"] == {"cold_seconds": 0, "water_temp_c": 12.5, "retention_seconds": [61, 75.5]}
    assert got["created_at"] and got["updated_at"]
    assert client.get(f"/api/sessions/{sid}", headers=alice["headers"]).get_json() == got


def test_partial_follows_the_routine_cycles(client, alice):
    cycles = catalogue.builtin("box")["cycles"]
    done = put(client, alice, body("box", completed_cycles=cycles)).get_json()
    short = put(client, alice, body("box", completed_cycles=cycles - 1)).get_json()
    unknown = put(client, alice, body("box")).get_json()
    assert (done["partial"], short["partial"], unknown["partial"]) == (False, True, False)


def test_minimal_body_and_put_replaces_every_field(client, alice):
    sid = str(uuid.uuid4())
    assert put(client, alice, FULL, sid).status_code == 201
    r = put(client, alice, {"routine": "cyclic-sighing", "started_at": "2026-11-21T07:00:00Z"}, sid)
    assert r.status_code == 200, r.get_json()
    got = r.get_json()
    assert got["routine"] == "cyclic-sighing"
    assert got["ended_at"] is None and got["duration_seconds"] is None
    assert got["pre"] is None and got["post"] is None and got["details"] is None
    assert got["completed_cycles"] is None
    assert rows() == 1


def test_ratings_may_leave_anxiety_and_energy_out(client, alice):
    got = put(client, alice, body(pre={"mood": 0}, post={"mood": 10, "energy": 0})).get_json()
    assert got["pre"] == {"mood": 0, "anxiety": None, "energy": None}
    assert got["post"] == {"mood": 10, "anxiety": None, "energy": 0, "note": None}


def test_a_custom_routine_can_be_recorded(client, alice):
    r = client.post(
        "/api/routines",
        json={"slug": "my-slow", "name": "My slow breath", "kind": "breathing", "cycles": 3,
              "goal": "Wind down", "summary": "In for four, out for six.",
              "phases": [{"action": "inhale", "seconds": 4}, {"action": "exhale", "seconds": 6}]},
        headers=alice["headers"],
    )
    assert r.status_code == 201, r.get_json()
    got = put(client, alice, body("my-slow", completed_cycles=2)).get_json()
    assert got["routine"] == "my-slow" and got["planned_cycles"] == 3 and got["partial"] is True


def test_needs_a_login(client, alice):
    r = client.put(f"/api/sessions/{uuid.uuid4()}", json=FULL)
    assert r.status_code == 401
    assert client.get("/api/sessions").status_code == 401
    assert client.get(f"/api/sessions/{uuid.uuid4()}").status_code == 401
    assert client.delete(f"/api/sessions/{uuid.uuid4()}").status_code == 401


# --- reading and deleting -----------------------------------------------------------------

def test_get_and_delete_own_session(client, alice):
    sid = str(uuid.uuid4())
    put(client, alice, FULL, sid)
    assert client.get(f"/api/sessions/{sid}", headers=alice["headers"]).status_code == 200
    r = client.delete(f"/api/sessions/{sid}", headers=alice["headers"])
    assert r.status_code == 204
    assert client.get(f"/api/sessions/{sid}", headers=alice["headers"]).status_code == 404
    assert client.delete(f"/api/sessions/{sid}", headers=alice["headers"]).status_code == 404
    assert rows() == 0


def test_unknown_session_is_404(client, alice):
    r = client.get(f"/api/sessions/{uuid.uuid4()}", headers=alice["headers"])
    assert r.status_code == 404
    assert r.get_json()["code"] == 404


@pytest.mark.shared_app
@pytest.mark.parametrize("bad", ["not-a-uuid", "1234", "0f0f0f0f-0f0f-0f0f-0f0f-0f0f0f0f0f0", "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f----", "%00"])
def test_a_path_that_is_not_a_uuid_is_404(client, alice, bad):
    for method in ("get", "delete"):
        r = getattr(client, method)(f"/api/sessions/{bad}", headers=alice["headers"])
        assert r.status_code == 404, (method, bad)
    r = client.put(f"/api/sessions/{bad}", json=FULL, headers=alice["headers"])
    assert r.status_code == 404
    assert rows() == 0


def test_uuid_case_does_not_make_a_second_session(client, alice):
    sid = uuid.uuid4()
    assert put(client, alice, FULL, str(sid)).status_code == 201
    assert put(client, alice, FULL, str(sid).upper()).status_code == 200
    assert rows() == 1


# --- another user's uuid ------------------------------------------------------------------

def test_bob_cannot_see_or_delete_alices_session(client, alice, bob):
    sid = str(uuid.uuid4())
    put(client, alice, FULL, sid)
    assert client.get(f"/api/sessions/{sid}", headers=bob["headers"]).status_code == 404
    assert client.delete(f"/api/sessions/{sid}", headers=bob["headers"]).status_code == 404
    assert client.get(f"/api/sessions/{sid}", headers=alice["headers"]).status_code == 200
    assert client.get("/api/sessions", headers=bob["headers"]).get_json()["items"] == []


def test_bob_putting_alices_uuid_makes_his_own_and_leaves_hers_alone(client, alice, bob):
    sid = str(uuid.uuid4())
    hers = put(client, alice, FULL, sid).get_json()
    r = put(client, bob, body("cyclic-sighing", pre={"mood": 1}), sid)
    assert r.status_code == 201, r.get_json()  # created: his, not an update of hers
    his = r.get_json()
    assert his["routine"] == "cyclic-sighing" and his["pre"]["mood"] == 1
    assert his["post"] is None  # nothing of hers shows through
    assert client.get(f"/api/sessions/{sid}", headers=alice["headers"]).get_json() == hers
    assert client.get(f"/api/sessions/{sid}", headers=bob["headers"]).get_json() == his
    assert rows(alice["user"]["id"]) == 1 and rows(bob["user"]["id"]) == 1
    # And bob deleting "it" deletes only his.
    assert client.delete(f"/api/sessions/{sid}", headers=bob["headers"]).status_code == 204
    assert client.get(f"/api/sessions/{sid}", headers=alice["headers"]).get_json() == hers


# --- bad input ----------------------------------------------------------------------------

def test_malformed_json_is_400(client, alice):
    r = client.put(
        f"/api/sessions/{uuid.uuid4()}", data=b'{"routine": "box", ', headers={**alice["headers"], "Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert r.get_json()["code"] == 400


def test_not_json_is_415(client, alice):
    r = client.put(f"/api/sessions/{uuid.uuid4()}", data="routine=box", headers=alice["headers"],
                   content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415


def test_over_one_mib_is_413(client, alice):
    big = b'{"routine": "box", "started_at": "2026-11-20T07:00:00Z", "post": {"mood": 5, "note": "' + b"x" * (1 << 20) + b'"}}'
    r = client.put(f"/api/sessions/{uuid.uuid4()}", data=big, headers={**alice["headers"], "Content-Type": "application/json"})
    assert r.status_code == 413
    assert rows() == 0


@pytest.mark.shared_app
@pytest.mark.parametrize("payload", ["[]", "null", '"box"', "7"])
def test_a_body_that_is_not_an_object_is_refused(client, alice, payload):
    r = client.put(f"/api/sessions/{uuid.uuid4()}", data=payload, headers={**alice["headers"], "Content-Type": "application/json"})
    assert r.status_code in (400, 422)
    assert rows() == 0


BAD = [
    # (what, body changes, field path that must be named)
    ("unknown top-level field", {"colour": "blue"}, ("colour",)),
    ("unknown field in a rating", {"pre": {"mood": 5, "stress": 3}}, ("pre", "stress")),
    ("unknown detail", {"details": {"heart_rate": 60}}, ("details", "heart_rate")),
    ("missing routine", {"routine": None}, ("routine",)),
    ("missing started_at", {"started_at": None}, ("started_at",)),
    ("mood above 10", {"pre": {"mood": 11}}, ("pre", "mood")),
    ("mood below 0", {"post": {"mood": -1}}, ("post", "mood")),
    ("anxiety above 10", {"pre": {"mood": 5, "anxiety": 11}}, ("pre", "anxiety")),
    ("energy below 0", {"post": {"mood": 5, "energy": -3}}, ("post", "energy")),
    ("mood as a string", {"pre": {"mood": "5"}}, ("pre", "mood")),
    ("mood as a fraction", {"pre": {"mood": 5.5}}, ("pre", "mood")),
    ("mood as a boolean", {"pre": {"mood": True}}, ("pre", "mood")),
    ("mood missing", {"post": {"anxiety": 2}}, ("post", "mood")),
    ("note on pre", {"pre": {"mood": 5, "note": "hello"}}, ("pre", "note")),
    ("note too long", {"post": {"mood": 5, "note": "x" * 501}}, ("post", "note")),
    ("naive started_at", {"started_at": "2026-11-20T07:00:00"}, ("started_at",)),
    ("naive ended_at", {"ended_at": "2026-11-20T07:10:00"}, ("ended_at",)),
    ("date only", {"started_at": "2026-11-20"}, ("started_at",)),
    ("not a time", {"started_at": "yesterday"}, ("started_at",)),
    ("a number for a time", {"started_at": 1763622000}, ("started_at",)),
    ("year 1 with an offset", {"started_at": "0001-01-01T00:00:00+05:00"}, ("started_at",)),
    ("before 2000", {"started_at": "1999-12-31T23:00:00Z", "ended_at": None}, ("started_at",)),
    ("end before start", {"ended_at": "2026-11-20T06:59:59Z"}, ("ended_at",)),
    ("longer than 24 h", {"ended_at": "2026-11-21T07:00:01Z"}, ("ended_at",)),
    ("unknown routine", {"routine": "no-such-routine"}, ("routine",)),
    ("routine too long", {"routine": "x" * 65}, ("routine",)),
    ("negative cycles", {"completed_cycles": -1}, ("completed_cycles",)),
    ("too many retentions", {"details": {"retention_seconds": [30] * 21}}, ("details", "retention_seconds")),
    ("retention too long", {"details": {"retention_seconds": [30, 901]}}, ("details", "retention_seconds")),
    ("retention as text", {"details": {"retention_seconds": ["30"]}}, ("details", "retention_seconds")),
    ("water too warm", {"details": {"water_temp_c": 40.5}}, ("details", "water_temp_c")),
    ("water too cold", {"details": {"water_temp_c": -2.5}}, ("details", "water_temp_c")),
    ("cold too long", {"details": {"cold_seconds": 3601}}, ("details", "cold_seconds")),
    ("cold negative", {"details": {"cold_seconds": -1}}, ("details", "cold_seconds")),
]


@pytest.mark.shared_app
@pytest.mark.parametrize("what,changes,path", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_422_naming_the_field_and_writes_nothing(client, alice, what, changes, path):
    data = dict(FULL)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    r = put(client, alice, data)
    assert r.status_code == 422, (what, r.get_json())
    node = error_fields(r)
    for key in path:
        assert key in node, (what, r.get_json())
        node = node[key]
    assert rows() == 0


def test_bad_input_does_not_touch_an_existing_session(client, alice):
    sid = str(uuid.uuid4())
    before = put(client, alice, FULL, sid).get_json()
    assert put(client, alice, {**FULL, "post": {"mood": 99}}, sid).status_code == 422
    assert put(client, alice, {**FULL, "routine": "nope"}, sid).status_code == 422
    assert client.get(f"/api/sessions/{sid}", headers=alice["headers"]).get_json() == before


def test_the_edges_of_the_ranges_are_accepted(client, alice):
    data = {
        **FULL,
        "pre": {"mood": 0, "anxiety": 10, "energy": 0},
        "post": {"mood": 10, "anxiety": 0, "energy": 10, "note": "é" * 500},
        "details": {"retention_seconds": [0] * 19 + [900], "water_temp_c": -2, "cold_seconds": 3600},
        "ended_at": "2026-11-21T07:00:00Z",  # exactly 24 h
        "started_at": "2026-11-20T07:00:00Z",
    }
    r = put(client, alice, data)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["duration_seconds"] == 24 * 3600
    assert len(r.get_json()["post"]["note"]) == 500


def test_the_future_is_limited_to_a_day_of_clock_drift(client, alice):
    now = datetime.now(UTC)
    soon = body(started_at=rfc3339(now + timedelta(hours=20)), ended_at=rfc3339(now + timedelta(hours=20, minutes=5)))
    assert put(client, alice, soon).status_code == 201
    late = body(started_at=rfc3339(now + timedelta(days=2)), ended_at=None)
    r = put(client, alice, late)
    assert r.status_code == 422 and "started_at" in error_fields(r)
    late_end = body(started_at=rfc3339(now + timedelta(hours=20)), ended_at=rfc3339(now + timedelta(hours=26)))
    r = put(client, alice, late_end)
    assert r.status_code == 422 and "ended_at" in error_fields(r)


def test_unknown_routine_names_it_in_plain_words(client, alice):
    r = put(client, alice, {**FULL, "routine": "moon-breath"})
    assert r.status_code == 422
    assert "moon-breath" in error_fields(r)["routine"][0]


# --- racing PUTs of one new uuid ----------------------------------------------------------

def test_a_put_that_loses_the_insert_race_becomes_an_update(client, alice, monkeypatch):
    """Deterministic: another request's row appears after this one validated its body and
    before it writes (the screening check is the last step before the write)."""
    sid = uuid.uuid4()
    real_check = sessions_service.screening.check

    def check_then_race(user, routine):
        with db.engine.begin() as conn:  # another request's committed insert
            conn.execute(insert(PracticeSession).values(
                user_id=user.id, uuid=sid, routine="humming",
                started_at=datetime(2026, 11, 19, 7, tzinfo=UTC),
                created_at=datetime(2026, 11, 19, 7, tzinfo=UTC), updated_at=datetime(2026, 11, 19, 7, tzinfo=UTC),
            ))
        return real_check(user, routine)

    monkeypatch.setattr(sessions_service.screening, "check", check_then_race)
    r = put(client, alice, FULL, str(sid))
    monkeypatch.undo()
    assert r.status_code == 200, r.get_json()
    stored = r.get_json()
    assert stored["routine"] == "box"  # this request's body won, as the later write
    assert stored["created_at"].startswith("2026-11-19T07:00:00")  # the row's first creation is kept
    assert rows() == 1
    assert client.get(f"/api/sessions/{sid}", headers=alice["headers"]).get_json()["post"]["mood"] == 6


def test_concurrent_puts_of_one_new_uuid_make_one_session_and_no_500(app, client, alice):
    sid = str(uuid.uuid4())
    n = 6
    barrier = threading.Barrier(n)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker():
        c = app.test_client()
        barrier.wait()
        r = c.put(f"/api/sessions/{sid}", json=FULL, headers=alice["headers"])
        with lock:
            statuses.append(r.status_code)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * (n - 1) + [201], statuses
    assert rows() == 1
