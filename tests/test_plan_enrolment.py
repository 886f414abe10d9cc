"""PUT / DELETE /api/plans/<slug>/enrolment: the day a plan began lives on the server, so
every device shows the same day, and a plan can be stopped (issue 14)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select

from coach.extensions import db
from coach.models import PlanEnrolment

PLAN = "resonance-4-weeks"


def today_berlin() -> date:
    return (datetime.now(timezone.utc) + timedelta(hours=1)).date()


def enrol(client, who, start, plan=PLAN):
    return client.put(f"/api/plans/{plan}/enrolment", json={"start": start}, headers=who["headers"])


def rows() -> int:
    return db.session.scalar(select(func.count()).select_from(PlanEnrolment))


def test_a_plan_begun_on_one_device_shows_its_day_on_every_device(client, alice):
    start = (today_berlin() - timedelta(days=3)).isoformat()
    r = enrol(client, alice, start)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["progress"]["start"] == start and r.get_json()["start"] == start

    # Another device asks without ?start=: the server knows the day.
    detail = client.get(f"/api/plans/{PLAN}", headers=alice["headers"]).get_json()
    assert detail["start"] == start and detail["progress"]["start"] == start
    listed = {p["slug"]: p for p in client.get("/api/plans", headers=alice["headers"]).get_json()}
    assert listed[PLAN]["start"] == start and listed["cold-shower-4-weeks"]["start"] is None

    # Starting again moves the day; still one enrolment.
    again = today_berlin().isoformat()
    assert enrol(client, alice, again).status_code == 200
    assert client.get(f"/api/plans/{PLAN}", headers=alice["headers"]).get_json()["start"] == again
    assert rows() == 1


def test_a_plan_can_be_stopped(client, alice):
    assert enrol(client, alice, today_berlin().isoformat()).status_code == 200
    r = client.delete(f"/api/plans/{PLAN}/enrolment", headers=alice["headers"])
    assert r.status_code == 204
    detail = client.get(f"/api/plans/{PLAN}", headers=alice["headers"]).get_json()
    assert detail["start"] is None and detail["progress"] is None
    assert client.delete(f"/api/plans/{PLAN}/enrolment", headers=alice["headers"]).status_code == 204
    assert rows() == 0


def test_bad_enrolments_are_refused_in_the_error_shape_and_write_nothing(client, alice):
    late = enrol(client, alice, (today_berlin() + timedelta(days=3)).isoformat())
    assert late.status_code == 422 and "start" in late.get_json()["errors"]
    assert enrol(client, alice, "not a day").status_code == 422
    missing = client.put(f"/api/plans/{PLAN}/enrolment", json={}, headers=alice["headers"])
    assert missing.status_code == 422 and "start" in missing.get_json()["errors"]
    unknown = enrol(client, alice, today_berlin().isoformat(), plan="no-such-plan")
    assert unknown.status_code == 404 and unknown.get_json()["message"]
    assert client.delete("/api/plans/no-such-plan/enrolment", headers=alice["headers"]).status_code == 404
    assert client.put(f"/api/plans/{PLAN}/enrolment", json={"start": today_berlin().isoformat()}).status_code == 401
    assert rows() == 0


def test_one_persons_enrolment_is_theirs_alone(client, alice, bob):
    assert enrol(client, alice, today_berlin().isoformat()).status_code == 200
    detail = client.get(f"/api/plans/{PLAN}", headers=bob["headers"]).get_json()
    assert detail["start"] is None and detail["progress"] is None
    assert client.delete(f"/api/plans/{PLAN}/enrolment", headers=bob["headers"]).status_code == 204
    assert client.get(f"/api/plans/{PLAN}", headers=alice["headers"]).get_json()["start"] is not None


def test_the_enrolment_goes_with_the_account(client, alice):
    assert enrol(client, alice, today_berlin().isoformat()).status_code == 200
    exported = client.get("/api/me/export?format=json", headers=alice["headers"]).get_json()
    assert [e["plan"] for e in exported["plan_enrolments"]] == [PLAN]
