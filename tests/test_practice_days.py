"""The per-day sums insights read (practice/days.py) always equal the sums over the sessions
themselves, whatever the writes: new, edited (other day, routine, ratings, now short), deleted,
after a time-zone change, and after writes that bypass the service (ORM, bulk statements)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from coach.extensions import db
from coach.models import PracticeDay, PracticeSession, User
from coach.practice import days
from coach.practice.sums import COUNTED, columns, from_row
from tests.helpers.sessions import body, put, rfc3339

UTC = timezone.utc
START = datetime(2000, 1, 1, tzinfo=UTC)


def from_sessions(user_id: int, start=START, end=None) -> dict:
    """The same figures straight from the sessions."""
    stmt = select(PracticeSession.routine, *columns()).where(
        PracticeSession.user_id == user_id, PracticeSession.started_at >= start, COUNTED
    )
    if end is not None:
        stmt = stmt.where(PracticeSession.started_at < end)
    rows = db.session.execute(stmt.group_by(PracticeSession.routine)).all()
    return {r[0]: from_row(user_id, r[0], r[1:]) for r in rows}


def from_days(user_id: int, start=START, end=None) -> dict:
    return {s.routine: s for s in days.routine_sums([user_id], start, end)[user_id]}


def write(client, who, sid, started, seconds, routine="box", **extra):
    data = body(routine, rfc3339(started), rfc3339(started + timedelta(seconds=seconds)), **extra)
    r = put(client, who, data, sid)
    assert r.status_code in (200, 201), r.get_json()


def test_the_sums_follow_every_kind_of_write(client, alice):
    uid = alice["user"]["id"]
    now = datetime.now(UTC)
    ids = [str(uuid.uuid4()) for _ in range(6)]
    for i, sid in enumerate(ids):
        write(client, alice, sid, now - timedelta(days=i, hours=3), 300 + 60 * i, ("box", "humming")[i % 2],
              pre={"mood": 3 + i % 4, "anxiety": 6}, post={"mood": 5 + i % 3, "anxiety": 4 - i % 2})
    assert from_days(uid) == from_sessions(uid)
    # Edited: another day and routine, other ratings; then cut short; then deleted.
    write(client, alice, ids[0], now - timedelta(days=9), 400, "4-7-8", pre={"mood": 2}, post={"mood": 8})
    assert from_days(uid) == from_sessions(uid)
    write(client, alice, ids[1], now - timedelta(days=1, hours=3), 20, "humming", pre={"mood": 1}, post={"mood": 9})
    assert from_days(uid) == from_sessions(uid)
    assert client.delete(f"/api/sessions/{ids[2]}", headers=alice["headers"]).status_code == 204
    assert from_days(uid) == from_sessions(uid)
    # Windows that cut days anywhere agree too.
    for hours in (5, 27, 50, 100, 230):
        start = now - timedelta(hours=hours)
        assert from_days(uid, start, now + timedelta(days=1)) == from_sessions(uid, start, now + timedelta(days=1))
        assert from_days(uid, start - timedelta(days=3), start) == from_sessions(uid, start - timedelta(days=3), start)


def test_a_new_zone_recounts_the_days(client, alice):
    uid = alice["user"]["id"]
    now = datetime.now(UTC)
    for hour in range(0, 48, 5):  # sessions all round the clock
        write(client, alice, str(uuid.uuid4()), now - timedelta(hours=hour + 1), 300)
    before = sorted(db.session.scalars(select(PracticeDay.day).where(PracticeDay.user_id == uid)))
    r = client.patch("/api/me", json={"timezone": "Pacific/Kiritimati"}, headers=alice["headers"])  # UTC+14
    assert r.status_code == 200, r.get_json()
    write(client, alice, str(uuid.uuid4()), now - timedelta(hours=60), 300)
    after = sorted(db.session.scalars(select(PracticeDay.day).where(PracticeDay.user_id == uid)))
    assert after != before
    assert from_days(uid) == from_sessions(uid)
    expected = {days.local_day_of(s.started_at, "Pacific/Kiritimati")
                for s in db.session.scalars(select(PracticeSession).where(PracticeSession.user_id == uid))}
    assert set(after) == expected


def test_writes_that_bypass_the_service_are_never_missed(client, alice):
    uid = alice["user"]["id"]
    now = datetime.now(UTC)
    write(client, alice, str(uuid.uuid4()), now - timedelta(hours=2), 300, pre={"mood": 4}, post={"mood": 6})
    assert from_days(uid) == from_sessions(uid)
    db.session.add(PracticeSession(uuid=uuid.uuid4(), user_id=uid, routine="humming", started_at=now - timedelta(days=2),
                                   ended_at=now - timedelta(days=2) + timedelta(minutes=5), pre_mood=2, post_mood=7))
    db.session.commit()
    assert from_days(uid) == from_sessions(uid)
    db.session.execute(update(PracticeSession).where(PracticeSession.user_id == uid).values(post_mood=1))
    db.session.commit()
    assert from_days(uid) == from_sessions(uid)
    assert from_days(uid)["humming"].measures["mood"].sum_d == -1


def test_one_user_never_sees_anothers_days(client, alice, bob):
    now = datetime.now(UTC)
    write(client, alice, str(uuid.uuid4()), now - timedelta(hours=2), 300)
    write(client, bob, str(uuid.uuid4()), now - timedelta(hours=2), 600, "humming")
    a, b = alice["user"]["id"], bob["user"]["id"]
    both = days.routine_sums([a, b], START)
    assert [s.routine for s in both[a]] == ["box"] and [s.routine for s in both[b]] == ["humming"]
    assert db.session.get(User, b).timezone  # bob's rows were counted in bob's own zone


def test_long_windows_read_whole_blocks_and_the_days_around_them(client, alice):
    uid = alice["user"]["id"]
    now = datetime.now(UTC)
    for i in range(0, 200, 3):  # a session every third day for 200 days, round the clock
        write(client, alice, str(uuid.uuid4()), now - timedelta(days=i, hours=i % 24), 120 + i,
              ("box", "humming", "4-7-8")[i % 3 % 2], pre={"mood": i % 7, "energy": 5}, post={"mood": (i * 3) % 11, "energy": 6})
    ahead = now + timedelta(days=1)
    for days_back in (31, 32, 33, 64, 65, 90, 97, 150, 199, 365):
        start = now - timedelta(days=days_back, hours=days_back % 5)
        assert from_days(uid, start, ahead) == from_sessions(uid, start, ahead), days_back
        assert from_days(uid, start - timedelta(days=40), start) == from_sessions(uid, start - timedelta(days=40), start)
    assert client.delete(f"/api/sessions/{listed_first(client, alice)}", headers=alice["headers"]).status_code == 204
    assert from_days(uid) == from_sessions(uid)


def listed_first(client, who) -> str:
    return client.get("/api/sessions", headers=who["headers"]).get_json()["items"][0]["uuid"]
