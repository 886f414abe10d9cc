"""The reminder API: CRUD, snooze, validation, ownership, and planning in the user's zone."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from coach.reminders import MAX_REMINDERS

UTC = timezone.utc
EVERY_DAY = [0, 1, 2, 3, 4, 5, 6]


def oracle(after: datetime, hhmm: str, weekdays, tz: str) -> datetime:
    """The next fire instant by brute force, independent of the app's planner: on each
    chosen local date, the earliest UTC minute whose wall-clock time that date is at or
    past HH:MM (so a gap fires at the first minute after it, a fold at its first pass)."""
    zone = ZoneInfo(tz)
    h, m = map(int, hhmm.split(":"))
    minute = after.replace(second=0, microsecond=0) - timedelta(days=1)
    best: dict = {}
    for _ in range(10 * 24 * 60):
        minute += timedelta(minutes=1)
        local = minute.astimezone(zone)
        if local.weekday() in weekdays and (local.hour, local.minute) >= (h, m) and local.date() not in best:
            best[local.date()] = minute
    return min(t for t in best.values() if t > after)


def when(r) -> datetime:
    return datetime.fromisoformat(r.get_json()["next_fire_at"])


def create(client, who, **body):
    payload = {"local_time": "07:30", "weekdays": EVERY_DAY} | body
    return client.post("/api/reminders", json=payload, headers=who["headers"])


def test_create_list_get_delete(client, alice):
    before = datetime.now(UTC)
    r = create(client, alice, weekdays=[4, 0, 2], routine="resonance")
    after = datetime.now(UTC)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["weekdays"] == [0, 2, 4] and body["routine"] == "resonance" and body["enabled"] is True
    assert when(r) in {oracle(before, "07:30", [0, 2, 4], "Europe/Berlin"), oracle(after, "07:30", [0, 2, 4], "Europe/Berlin")}
    assert when(r).utcoffset() == timedelta(0)

    listed = client.get("/api/reminders", headers=alice["headers"])
    assert listed.status_code == 200 and [x["id"] for x in listed.get_json()] == [body["id"]]
    assert client.get(f"/api/reminders/{body['id']}", headers=alice["headers"]).get_json() == body

    assert client.delete(f"/api/reminders/{body['id']}", headers=alice["headers"]).status_code == 204
    assert client.get(f"/api/reminders/{body['id']}", headers=alice["headers"]).status_code == 404
    assert client.get("/api/reminders", headers=alice["headers"]).get_json() == []


def test_planned_in_the_users_own_zone(client, bob):
    before = datetime.now(UTC)
    r = create(client, bob, local_time="21:05")
    assert r.status_code == 201
    assert when(r) == oracle(before, "21:05", EVERY_DAY, "America/New_York")
    local = when(r).astimezone(ZoneInfo("America/New_York"))
    assert (local.hour, local.minute) == (21, 5)


def test_without_routine_and_disabled(client, alice):
    r = create(client, alice, enabled=False)
    assert r.status_code == 201
    assert r.get_json()["routine"] is None and r.get_json()["next_fire_at"] is None


INVALID = [
    ({"local_time": "7:30"}, "local_time"),
    ({"local_time": "24:00"}, "local_time"),
    ({"local_time": "07:60"}, "local_time"),
    ({"local_time": None}, "local_time"),
    ({"weekdays": []}, "weekdays"),
    ({"weekdays": [7]}, "weekdays"),
    ({"weekdays": [-1]}, "weekdays"),
    ({"weekdays": [1, 1]}, "weekdays"),
    ({"weekdays": ["mon"]}, "weekdays"),
    ({"weekdays": [1.5]}, "weekdays"),
    ({"weekdays": 1}, "weekdays"),
    ({"weekdays": list(range(7)) * 2}, "weekdays"),
    ({"routine": "no-such-routine"}, "routine"),
    ({"routine": ""}, "routine"),
    ({"routine": "x" * 65}, "routine"),
    ({"enabled": "maybe"}, "enabled"),
    ({"next_fire_at": "2026-01-01T00:00:00Z"}, "next_fire_at"),
    ({"colour": "red"}, "colour"),
]


def test_invalid_reminders_are_422_and_nothing_is_written(client, alice):
    for change, field in INVALID:
        r = create(client, alice, **change)
        assert r.status_code == 422, (change, r.get_json())
        assert field in r.get_json()["errors"], (change, r.get_json())
    r = client.post("/api/reminders", json={"weekdays": [1]}, headers=alice["headers"])
    assert r.status_code == 422 and "local_time" in r.get_json()["errors"]
    assert client.get("/api/reminders", headers=alice["headers"]).get_json() == []


def test_someone_elses_reminder_is_404(client, alice, bob):
    rid = create(client, alice).get_json()["id"]
    h = bob["headers"]
    assert client.get(f"/api/reminders/{rid}", headers=h).status_code == 404
    assert client.patch(f"/api/reminders/{rid}", json={"enabled": False}, headers=h).status_code == 404
    assert client.post(f"/api/reminders/{rid}/snooze", json={"minutes": 5}, headers=h).status_code == 404
    assert client.delete(f"/api/reminders/{rid}", headers=h).status_code == 404
    assert client.get("/api/reminders", headers=h).get_json() == []
    # …and it is untouched.
    r = client.get(f"/api/reminders/{rid}", headers=alice["headers"])
    assert r.status_code == 200 and r.get_json()["enabled"] is True
    assert client.get("/api/reminders/999999", headers=alice["headers"]).status_code == 404


def test_login_required(client):
    assert client.get("/api/reminders").status_code == 401
    assert client.post("/api/reminders", json={"local_time": "07:30", "weekdays": [1]}).status_code == 401


def test_at_most_twenty_reminders(client, alice):
    for i in range(MAX_REMINDERS):
        assert create(client, alice, local_time=f"{i:02d}:00").status_code == 201
    r = create(client, alice, local_time="23:30")
    assert r.status_code == 409
    assert len(client.get("/api/reminders", headers=alice["headers"]).get_json()) == MAX_REMINDERS


def test_patch_replans_on_time_days_and_switch(client, alice):
    r = create(client, alice, routine="box")
    rid, first = r.get_json()["id"], when(r)
    url = f"/api/reminders/{rid}"

    r = client.patch(url, json={"routine": "resonance"}, headers=alice["headers"])
    assert r.status_code == 200 and r.get_json()["routine"] == "resonance" and when(r) == first

    before = datetime.now(UTC)
    r = client.patch(url, json={"local_time": "22:15", "weekdays": [5, 6]}, headers=alice["headers"])
    assert r.status_code == 200
    assert when(r) in {oracle(before, "22:15", [5, 6], "Europe/Berlin"), oracle(datetime.now(UTC), "22:15", [5, 6], "Europe/Berlin")}

    r = client.patch(url, json={"enabled": False}, headers=alice["headers"])
    assert r.get_json()["next_fire_at"] is None and r.get_json()["enabled"] is False
    r = client.patch(url, json={"enabled": True}, headers=alice["headers"])
    assert r.get_json()["next_fire_at"] is not None

    r = client.patch(url, json={"routine": None}, headers=alice["headers"])
    assert r.status_code == 200 and r.get_json()["routine"] is None
    for bad in ({"weekdays": []}, {"routine": "nope"}, {"local_time": "25:00"}, {"id": 5}):
        assert client.patch(url, json=bad, headers=alice["headers"]).status_code == 422, bad


def test_snooze(client, alice):
    rid = create(client, alice).get_json()["id"]
    url = f"/api/reminders/{rid}/snooze"
    before = datetime.now(UTC)
    r = client.post(url, json={"minutes": 10}, headers=alice["headers"])
    after = datetime.now(UTC)
    assert r.status_code == 200
    assert before + timedelta(minutes=10) <= when(r) <= after + timedelta(minutes=10)
    for bad in ({"minutes": 0}, {"minutes": 241}, {"minutes": "5"}, {"minutes": 5.5}, {}, {"minutes": 5, "x": 1}):
        assert client.post(url, json=bad, headers=alice["headers"]).status_code == 422, bad
    assert client.post(url, json={"minutes": 240}, headers=alice["headers"]).status_code == 200

    client.patch(f"/api/reminders/{rid}", json={"enabled": False}, headers=alice["headers"])
    assert client.post(url, json={"minutes": 5}, headers=alice["headers"]).status_code == 409


def test_a_new_time_zone_replans_every_reminder(client, alice):
    a = create(client, alice, local_time="07:30").get_json()["id"]
    b = create(client, alice, local_time="18:45", weekdays=[6]).get_json()["id"]
    off = create(client, alice, enabled=False).get_json()["id"]
    before = datetime.now(UTC)
    assert client.patch("/api/me", json={"timezone": "Asia/Tokyo"}, headers=alice["headers"]).status_code == 200
    got = {x["id"]: x for x in client.get("/api/reminders", headers=alice["headers"]).get_json()}
    assert datetime.fromisoformat(got[a]["next_fire_at"]) == oracle(before, "07:30", EVERY_DAY, "Asia/Tokyo")
    assert datetime.fromisoformat(got[b]["next_fire_at"]) == oracle(before, "18:45", [6], "Asia/Tokyo")
    assert got[off]["next_fire_at"] is None


CUSTOM = {
    "slug": "evening-calm",
    "name": "Evening calm",
    "kind": "breathing",
    "goal": "Wind down",
    "summary": "Slow breaths with a long exhale.",
    "phases": [{"action": "inhale", "seconds": 4}, {"action": "exhale", "seconds": 6}],
    "cycles": 30,
}


def test_a_custom_routine_is_the_owners_only(client, alice, bob):
    r = client.post("/api/routines", json=CUSTOM, headers=alice["headers"])
    assert r.status_code == 201, r.get_json()
    assert create(client, alice, routine="evening-calm").status_code == 201
    r = create(client, bob, routine="evening-calm")
    assert r.status_code == 422 and "routine" in r.get_json()["errors"]


def test_openapi_documents_the_reminder_and_push_routes(client):
    spec = client.get("/api/openapi.json").get_json()
    paths = spec["paths"]
    assert {"401", "404", "409", "422"} <= set(paths["/api/reminders/{reminder_id}/snooze"]["post"]["responses"])
    assert {"201", "409", "422", "401"} <= set(paths["/api/reminders"]["post"]["responses"])
    assert {"200", "201", "422", "401"} <= set(paths["/api/push/subscriptions"]["post"]["responses"])
    assert paths["/api/push/vapid-public-key"]["get"].get("security") == []
    assert paths["/api/push/subscriptions"]["delete"]["responses"].keys() >= {"204", "401"}
