"""The screening gate on practice sessions: 403 with the reason until screening clears it."""
from __future__ import annotations

import uuid

ANSWERS = dict.fromkeys(
    ["heart_condition", "arrhythmia", "high_blood_pressure", "pregnancy", "epilepsy", "raynauds", "respiratory", "panic_disorder"],
    False,
)


def put_session(client, who, routine, sid=None):
    sid = sid or str(uuid.uuid4())
    body = {"routine": routine, "started_at": "2026-11-20T07:00:00Z", "ended_at": "2026-11-20T07:12:00Z", "pre": {"mood": 5}}
    return sid, client.put(f"/api/sessions/{sid}", headers=who["headers"], json=body)


def test_screened_routine_is_refused_until_screening_clears_it(client, alice):
    sid, r = put_session(client, alice, "power-breathing")
    assert r.status_code == 403
    assert r.get_json()["message"]  # the reason, in words
    assert client.get(f"/api/sessions/{sid}", headers=alice["headers"]).status_code == 404  # nothing written
    assert client.put("/api/me/screening", headers=alice["headers"], json={"answers": ANSWERS}).status_code == 200
    assert put_session(client, alice, "power-breathing")[1].status_code == 201


def test_an_answer_that_blocks_gives_its_reason(client, alice):
    client.put("/api/me/screening", headers=alice["headers"], json={"answers": {**ANSWERS, "heart_condition": True}})
    _, r = put_session(client, alice, "cold-plunge")
    assert r.status_code == 403
    assert "doctor" in r.get_json()["message"].lower()
    # A gentle routine is unaffected.
    assert put_session(client, alice, "resonance")[1].status_code == 201


def test_a_stored_session_can_still_be_resent_after_screening_changes(client, alice):
    client.put("/api/me/screening", headers=alice["headers"], json={"answers": ANSWERS})
    sid, r = put_session(client, alice, "power-breathing")
    assert r.status_code == 201
    client.put("/api/me/screening", headers=alice["headers"], json={"answers": {**ANSWERS, "epilepsy": True}})
    # The phone's outbox re-sends what it already stored: not lost, not refused.
    assert put_session(client, alice, "power-breathing", sid)[1].status_code == 200
    # New practice of it is refused.
    assert put_session(client, alice, "power-breathing")[1].status_code == 403


def test_screening_is_per_user(client, alice, bob):
    client.put("/api/me/screening", headers=alice["headers"], json={"answers": ANSWERS})
    assert put_session(client, alice, "cold-plunge")[1].status_code == 201
    assert put_session(client, bob, "cold-plunge")[1].status_code == 403
