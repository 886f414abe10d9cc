"""The insights recommendation never names a routine the user's screening now blocks."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

ANSWERS = dict.fromkeys(
    ["heart_condition", "arrhythmia", "high_blood_pressure", "pregnancy", "epilepsy", "raynauds", "respiratory", "panic_disorder"],
    False,
)


def practise(client, who, routine, pre, post, when):
    body = {
        "routine": routine,
        "started_at": when.isoformat(),
        "ended_at": (when + timedelta(minutes=5)).isoformat(),
        "pre": {"mood": pre},
        "post": {"mood": post},
    }
    r = client.put(f"/api/sessions/{uuid.uuid4()}", headers=who["headers"], json=body)
    assert r.status_code == 201, r.get_json()


def test_recommendation_skips_a_routine_the_screening_blocks(client, alice):
    client.put("/api/me/screening", headers=alice["headers"], json={"answers": ANSWERS})
    start = datetime.now(timezone.utc) - timedelta(days=20)
    for i in range(8):  # cold showers lift mood a lot, box breathing a little
        practise(client, alice, "cold-shower", 4, 8 + (i % 2), start + timedelta(days=i, hours=1))
        practise(client, alice, "box", 4, 5 + (i % 2), start + timedelta(days=i, hours=9))
    pick = client.get("/api/insights", headers=alice["headers"]).get_json()["recommendation"]
    assert pick["routine"] == "cold-shower"
    # Raynaud's now rules out cold beyond the face: the recommendation moves on.
    client.put("/api/me/screening", headers=alice["headers"], json={"answers": {**ANSWERS, "raynauds": True}})
    pick = client.get("/api/insights", headers=alice["headers"]).get_json()["recommendation"]
    assert pick["routine"] == "box"
    assert "cold" not in pick["text"].lower()
