"""Caps per account hold (api.md, Conventions): 100 custom routines and 20 reminders (409
beyond), 100 new sessions per local day (429) — also when the requests come all at once.
Counting and then inserting let simultaneous requests each see room for one more."""
from __future__ import annotations

import threading
import uuid

import pytest

from coach.practice.sessions import MAX_SESSIONS_PER_DAY
from coach.reminders import MAX_REMINDERS
from coach.routines.service import MAX_CUSTOM_ROUTINES
from tests.helpers.sessions import body

AT_ONCE = 8


@pytest.fixture
def app_config():
    """Limits on (RATELIMIT_ENABLED=false lifts the day's cap too), writes allowed freely."""
    return {"RATELIMIT_ENABLED": True, "COACH_LIMIT_WRITES": "10000 per minute"}


def routine(slug: str) -> dict:
    return {"slug": slug, "name": slug.title(), "kind": "breathing", "goal": "calm", "summary": "s",
            "phases": [{"action": "inhale", "seconds": 1.0, "cue": ""}], "cycles": 1}


def all_at_once(app, send) -> list[int]:
    """Status codes of AT_ONCE requests `send(client, i)` released together, one thread each."""
    barrier = threading.Barrier(AT_ONCE)
    codes: list[int] = []

    def run(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        codes.append(send(client, i).status_code)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(AT_ONCE)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(codes)


def test_custom_routines_stop_at_100_even_all_at_once(app, client, alice):
    for i in range(MAX_CUSTOM_ROUTINES - 3):
        assert client.post("/api/routines", json=routine(f"r{i}"), headers=alice["headers"]).status_code == 201
    codes = all_at_once(app, lambda c, i: c.post("/api/routines", json=routine(f"x{i}"), headers=alice["headers"]))
    assert codes == [201] * 3 + [409] * (AT_ONCE - 3)
    mine = [r for r in client.get("/api/routines", headers=alice["headers"]).get_json() if not r["builtin"]]
    assert len(mine) == MAX_CUSTOM_ROUTINES


def test_reminders_stop_at_20_even_all_at_once(app, client, alice):
    new = {"local_time": "07:30", "weekdays": [0]}
    for _ in range(MAX_REMINDERS - 3):
        assert client.post("/api/reminders", json=new, headers=alice["headers"]).status_code == 201
    codes = all_at_once(app, lambda c, i: c.post("/api/reminders", json=new, headers=alice["headers"]))
    assert codes == [201] * 3 + [409] * (AT_ONCE - 3)
    assert len(client.get("/api/reminders", headers=alice["headers"]).get_json()) == MAX_REMINDERS


def test_sessions_stop_at_100_a_day_even_all_at_once(app, client, alice):
    for _ in range(MAX_SESSIONS_PER_DAY - 3):
        assert client.put(f"/api/sessions/{uuid.uuid4()}", json=body(), headers=alice["headers"]).status_code == 201
    codes = all_at_once(app, lambda c, i: c.put(f"/api/sessions/{uuid.uuid4()}", json=body(), headers=alice["headers"]))
    assert codes == [201] * 3 + [429] * (AT_ONCE - 3)
    page = client.get("/api/sessions?limit=100", headers=alice["headers"]).get_json()
    assert len(page["items"]) == MAX_SESSIONS_PER_DAY and page["next_cursor"] is None
