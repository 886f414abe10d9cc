"""Progressive plans: the data is checked at start-up, the API needs a login, and where a
person is in a plan follows from their own sessions (checked against figures worked out here)."""
from __future__ import annotations

import copy
import json
import re
from datetime import datetime, time, timedelta, timezone

import pytest

from coach.routines import plans
from coach.routines.plans import PlanError, load_plans
from coach.timeutil import local_date, local_to_utc, zone
from tests.helpers.accounts import signup
from tests.helpers.apps import make_app
from tests.helpers.sessions import add

RAW = json.loads(plans.DATA.read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _restore_plans():
    yield
    load_plans()  # a test that loaded a broken file must not leave it behind


def test_the_builtin_plans_grow_from_small_steps():
    loaded = load_plans()
    cold, breathing = loaded["cold-shower-4-weeks"], loaded["resonance-4-weeks"]
    assert (cold["routine"], cold["measure"]) == ("cold-shower", "cold_seconds")
    assert [(w["low"], w["high"]) for w in cold["weeks"]][0] == (15, 30)
    assert (cold["weeks"][-1]["low"], cold["weeks"][-1]["high"]) == (120, 180)  # 2–3 minutes in week 4
    assert (breathing["routine"], breathing["measure"]) == ("resonance", "minutes")
    assert breathing["weeks"][0]["low"] == 5 and breathing["weeks"][-1]["high"] == 20
    assert len(cold["weeks"]) == len(breathing["weeks"]) == 4
    for plan in loaded.values():
        for words in [plan["summary"], plan["evidence"], *plan["cautions"], *(w["text"] for w in plan["weeks"])]:
            assert not re.search(r"\bcures?\b|\btreats?\b|\bheals?\b", words.lower()), words


def broken(mutate):
    raw = copy.deepcopy(RAW)
    mutate(raw)
    return raw


def _plan(raw, slug="resonance-4-weeks"):
    return next(p for p in raw["plans"] if p["slug"] == slug)


BROKEN = {
    "weeks out of order": (lambda r: _plan(r)["weeks"].reverse(), "numbered"),
    "a week that asks less": (lambda r: _plan(r)["weeks"][2].update(low=2, high=3), "only grows"),
    "low above high": (lambda r: _plan(r)["weeks"][0].update(low=6), "must not be above"),
    "unknown routine": (lambda r: _plan(r).update(routine="breath-of-fire"), "not a built-in"),
    "minutes of a cold routine": (lambda r: _plan(r).update(routine="cold-face"), "timed breathing routine"),
    "minutes beyond an hour": (lambda r: _plan(r)["weeks"][3].update(high=90), "at most 60 minutes"),
    "cold on a breathing routine": (lambda r: _plan(r, "cold-shower-4-weeks").update(routine="box"), "cold water"),
    "evidence without a year": (lambda r: _plan(r).update(evidence="Some studies say so."), "year"),
    "an unknown field": (lambda r: _plan(r).update(colour="blue"), "colour"),
    "a slug twice": (lambda r: r["plans"].append(copy.deepcopy(_plan(r))), "appears twice"),
    "a target as text": (lambda r: _plan(r)["weeks"][0].update(low="5"), "low"),
}


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_a_broken_plan_is_refused_by_name(case, tmp_path):
    mutate, expected = BROKEN[case]
    path = tmp_path / "plans.json"
    path.write_text(json.dumps(broken(mutate)))
    with pytest.raises(PlanError) as exc:
        load_plans(path)
    assert expected in str(exc.value)
    assert "'" in str(exc.value)  # names the plan


def test_the_app_does_not_start_with_a_broken_plan(tmp_path, monkeypatch):
    path = tmp_path / "plans.json"
    path.write_text(json.dumps(broken(lambda r: _plan(r)["weeks"][1].update(week=7))))
    monkeypatch.setattr(plans, "DATA", path)
    with pytest.raises(PlanError, match="numbered"):
        make_app(f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path)
    monkeypatch.undo()
    make_app(f"sqlite:///{tmp_path / 'y.sqlite3'}", tmp_path)  # the real file is fine


def test_plans_need_a_login(client):
    assert client.get("/api/plans").status_code == 401
    assert client.get("/api/plans/resonance-4-weeks").status_code == 401
    assert client.get("/api/plans/resonance-4-weeks?start=2026-01-05").status_code == 401


def test_list_and_one_plan(client, alice):
    r = client.get("/api/plans", headers=alice["headers"])
    assert r.status_code == 200
    listed = {p["slug"]: p for p in r.get_json()}
    assert set(listed) == {"cold-shower-4-weeks", "resonance-4-weeks"}
    cold = listed["cold-shower-4-weeks"]
    assert cold["routine_name"] and cold["unit"] == "seconds of cold" and cold["kind"] == "cold"
    assert cold["blocked"] is None and cold["alternative"] is None
    assert [w["week"] for w in cold["weeks"]] == [1, 2, 3, 4]

    one = client.get("/api/plans/cold-shower-4-weeks", headers=alice["headers"]).get_json()
    assert one["progress"] is None and one["weeks"] == cold["weeks"]
    missing = client.get("/api/plans/ice-swim", headers=alice["headers"])
    assert missing.status_code == 404 and missing.get_json()["message"]


def test_the_openapi_document_describes_plans(client):
    spec = client.get("/api/openapi.json").get_json()
    one = spec["paths"]["/api/plans/{slug}"]["get"]
    assert {"200", "401", "404", "422"} <= set(one["responses"])
    assert one["security"] == [{"bearerAuth": []}]
    assert any(p["name"] == "start" and p["in"] == "query" for p in one["parameters"])


def test_a_blocked_routine_makes_its_plan_say_why_and_offer_a_gentler_one(client, alice):
    answers = {k: False for k in ("heart_condition", "arrhythmia", "high_blood_pressure", "pregnancy",
                                  "epilepsy", "raynauds", "respiratory", "panic_disorder")}
    answers["raynauds"] = True
    assert client.put("/api/me/screening", json={"answers": answers}, headers=alice["headers"]).status_code == 200
    listed = {p["slug"]: p for p in client.get("/api/plans", headers=alice["headers"]).get_json()}
    cold = listed["cold-shower-4-weeks"]
    assert "Raynaud" in cold["blocked"] and cold["alternative"] == "cold-face"
    assert listed["resonance-4-weeks"]["blocked"] is None


def _at(day, hour, tz):
    return local_to_utc(day, time(hour), tz)


def test_progress_follows_the_sessions_of_the_plans_routine(client, alice, bob):
    tz = zone("Europe/Berlin")  # alice's time zone
    now = datetime.now(timezone.utc)
    today = local_date(now, tz)
    start = today - timedelta(days=8)  # today is the second day of week 2
    # Week 1 (days 0–6): 5 min, 4 min 50 s (≥ 95 % of 5 min), 4 min; plus sessions that do not count.
    add(client, alice, _at(start, 12, tz), minutes=5, routine="resonance")
    add(client, alice, _at(start + timedelta(days=2), 12, tz), minutes=4 + 50 / 60, routine="resonance")
    add(client, alice, _at(start + timedelta(days=3), 12, tz), minutes=4, routine="resonance")
    add(client, alice, _at(start + timedelta(days=3), 13, tz), minutes=30, routine="box")  # another routine
    add(client, alice, _at(start - timedelta(days=1), 12, tz), minutes=30, routine="resonance")  # before the start
    add(client, bob, _at(start + timedelta(days=1), 12, tz), minutes=30, routine="resonance")  # someone else
    # Week 2 (from day 7): 8 min reaches its low of 8; a 3-minute one a minute ago does not.
    add(client, alice, _at(start + timedelta(days=7), 12, tz), minutes=8, routine="resonance")
    add(client, alice, now - timedelta(minutes=4), minutes=3, routine="resonance")

    r = client.get(f"/api/plans/resonance-4-weeks?start={start.isoformat()}", headers=alice["headers"])
    assert r.status_code == 200, r.get_json()
    progress = r.get_json()["progress"]
    assert progress["state"] == "in_progress" and progress["week"] == 2
    assert progress["start"] == start.isoformat()
    assert progress["last_day"] == (start + timedelta(days=27)).isoformat()
    week1, week2 = progress["weeks"][:2]
    assert (week1["sessions"], week1["reached"], week1["best"]) == (3, 2, 5.0)
    assert (week1["first_day"], week1["last_day"]) == (start.isoformat(), (start + timedelta(days=6)).isoformat())
    assert (week2["sessions"], week2["reached"], week2["best"]) == (2, 1, 8.0)
    assert all(w["sessions"] == 0 for w in progress["weeks"][2:])
    # Week 2 grows from 8 to 10 minutes over 5 sessions; one reached: 8 + 2 × 1/4 = 8.5 → 9.
    assert progress["today"]["value"] == 9
    assert progress["today"]["done_today"] is (local_date(now - timedelta(minutes=4), tz) == today)


def test_cold_progress_counts_seconds_of_cold(client, alice):
    tz = zone("Europe/Berlin")
    today = local_date(datetime.now(timezone.utc), tz)
    start = today - timedelta(days=3)
    add(client, alice, _at(start, 7, tz), minutes=3, routine="cold-shower", details={"cold_seconds": 20})
    add(client, alice, _at(start + timedelta(days=1), 7, tz), minutes=3, routine="cold-shower", details={"cold_seconds": 14.5})
    add(client, alice, _at(start + timedelta(days=2), 7, tz), minutes=3, routine="cold-shower", details={"cold_seconds": 10})
    add(client, alice, _at(start + timedelta(days=2), 8, tz), minutes=3, routine="cold-shower")  # no cold measured
    progress = client.get(f"/api/plans/cold-shower-4-weeks?start={start.isoformat()}", headers=alice["headers"]).get_json()["progress"]
    week1 = progress["weeks"][0]
    # 20 and 14.5 reach 15 s (from 14.25); 10 does not; the session without a measure only counts as a session.
    assert (week1["sessions"], week1["reached"], week1["best"]) == (4, 2, 20.0)
    # 15 → 30 s over 3 sessions, 2 reached: the top of the week.
    assert progress["week"] == 1 and progress["today"]["value"] == 30


def test_before_and_after_the_plan(client, alice):
    tz = zone("Europe/Berlin")
    today = local_date(datetime.now(timezone.utc), tz)
    early = client.get(f"/api/plans/resonance-4-weeks?start={(today + timedelta(days=1)).isoformat()}", headers=alice["headers"])
    assert early.status_code == 200
    p = early.get_json()["progress"]
    assert (p["state"], p["week"], p["today"]["value"]) == ("not_started", None, 5)
    done = client.get(f"/api/plans/resonance-4-weeks?start={(today - timedelta(days=28)).isoformat()}", headers=alice["headers"])
    p = done.get_json()["progress"]
    assert (p["state"], p["week"], p["today"]["value"]) == ("finished", None, 20)


@pytest.mark.shared_app
@pytest.mark.parametrize("start", ["later", "2019-01-01", "yesterday-ish", "2026-02-30", ""])
def test_a_start_day_out_of_range_or_malformed_is_422(client, alice, start):
    tz = zone("Europe/Berlin")
    if start == "later":
        start = (local_date(datetime.now(timezone.utc), tz) + timedelta(days=2)).isoformat()
    r = client.get(f"/api/plans/resonance-4-weeks?start={start}", headers=alice["headers"])
    assert r.status_code == 422
    assert "start" in r.get_json()["errors"] or "start" in json.dumps(r.get_json()["errors"])


def test_progress_is_only_ones_own(client, alice):
    other = signup(client, timezone="Asia/Tokyo")
    tz = zone("Asia/Tokyo")
    today = local_date(datetime.now(timezone.utc), tz)
    add(client, alice, _at(today - timedelta(days=1), 12, tz), minutes=6, routine="resonance")
    p = client.get(f"/api/plans/resonance-4-weeks?start={(today - timedelta(days=2)).isoformat()}",
                   headers=other["headers"]).get_json()["progress"]
    assert p["weeks"][0]["sessions"] == 0
