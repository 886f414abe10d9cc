"""Sessions written through the API, and the user row read back, for the session, insights,
export and weekly-summary tests."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from coach.extensions import db
from coach.models import User

UTC = timezone.utc


def rfc3339(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def body(routine="box", started_at="2026-11-20T07:00:00Z", ended_at="2026-11-20T07:10:00Z", **extra) -> dict:
    out = {"routine": routine, "started_at": started_at}
    if ended_at is not None:
        out["ended_at"] = ended_at
    out.update(extra)
    return out


def put(client, who, data: dict, session_id=None):
    session_id = session_id or str(uuid.uuid4())
    return client.put(f"/api/sessions/{session_id}", json=data, headers=who["headers"])


def add(client, who, started: datetime, minutes: float = 10, routine: str = "box", pre=None, post=None, **extra) -> dict:
    """Record a session through the API; returns its JSON (asserting it was created)."""
    data = body(routine, rfc3339(started), rfc3339(started + timedelta(minutes=minutes)), **extra)
    if pre is not None:
        data["pre"] = pre
    if post is not None:
        data["post"] = post
    r = put(client, who, data)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def user_row(who) -> User:
    return db.session.get(User, who["user"]["id"])
