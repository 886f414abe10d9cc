"""A custom routine that asks what a screened built-in asks of the body (breath holds over
15 s, fast breathing, cold) is screened like it: refused before the questions are answered,
blocked by the same answers, and it carries the water rules (issue 14)."""
from __future__ import annotations

import uuid

import pytest

from coach.routines import catalogue
from coach.routines.schema import SCREENING_ANSWERS

LONG_HOLD = [{"action": "inhale", "seconds": 4}, {"action": "hold", "seconds": 20}, {"action": "exhale", "seconds": 6}]
FAST = [{"action": "inhale", "seconds": 1}, {"action": "exhale", "seconds": 1}]
COLD = [{"action": "prepare", "seconds": 30}, {"action": "cold", "seconds": 60}, {"action": "rest", "seconds": 30}]
GENTLE = [{"action": "inhale", "seconds": 4}, {"action": "hold", "seconds": 4}, {"action": "exhale", "seconds": 6}]


def answers(*yes):
    return {"answers": {k: k in yes for k in SCREENING_ANSWERS}}


def make(client, who, slug, phases, kind="breathing", cycles=5):
    r = client.post("/api/routines", json={"slug": slug, "name": slug.title(), "goal": "Mine", "summary": "My own routine.", "kind": kind, "phases": phases, "cycles": cycles},
                    headers=who["headers"])
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def session(client, who, slug):
    return client.put(f"/api/sessions/{uuid.uuid4()}", headers=who["headers"], json={
        "routine": slug, "started_at": "2026-03-02T07:00:00+00:00", "ended_at": "2026-03-02T07:05:00+00:00",
        "completed_cycles": 5, "pre": {"mood": 5}})


@pytest.mark.parametrize("phases,kind,like", [
    (LONG_HOLD, "breathing", "power-breathing"),
    (FAST, "breathing", "power-breathing"),
    (COLD, "cold", "cold-plunge"),
])
def test_a_risky_custom_routine_is_screened_like_the_builtin_it_resembles(client, alice, phases, kind, like):
    made = make(client, alice, "mine", phases, kind)
    assert made["requires_screening"] is True
    standard = catalogue.standard_cautions()
    want = standard["cold"] if kind == "cold" else standard["breath_hold"]
    assert want in made["cautions"]

    refused = session(client, alice, "mine")
    assert refused.status_code == 403, refused.get_json()
    status = client.get("/api/me/screening", headers=alice["headers"]).get_json()
    assert "mine" in status["needs_screening"]

    blockers = {b["answer"] for b in catalogue.builtin(like)["blocked_by"]}
    answer = sorted(blockers)[0]
    status = client.put("/api/me/screening", json=answers(answer), headers=alice["headers"]).get_json()
    blocked = {b["slug"]: b for b in status["blocked"]}
    assert "mine" in blocked and blocked["mine"]["reason"] and blocked["mine"]["alternative"]
    assert session(client, alice, "mine").status_code == 403

    status = client.put("/api/me/screening", json=answers(), headers=alice["headers"]).get_json()
    assert "mine" in status["cleared"]
    assert session(client, alice, "mine").status_code == 201


def test_a_gentle_custom_routine_needs_no_screening(client, alice):
    made = make(client, alice, "gentle", GENTLE)
    assert made["requires_screening"] is False
    assert session(client, alice, "gentle").status_code == 201
    status = client.get("/api/me/screening", headers=alice["headers"]).get_json()
    assert "gentle" not in status["needs_screening"] + status["cleared"]


def test_screening_one_persons_custom_routine_never_shows_it_to_another(client, alice, bob):
    make(client, alice, "mine", LONG_HOLD)
    status = client.get("/api/me/screening", headers=bob["headers"]).get_json()
    assert "mine" not in status["needs_screening"] + status["cleared"]
