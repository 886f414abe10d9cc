"""The export is streamed (issue 13, finding 4): its memory stays flat whatever the history,
and the bytes are exactly what the whole-document export gave."""
from __future__ import annotations

import json
import threading
import tracemalloc
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert

from coach.accounts import export
from coach.extensions import db
from coach.models import PracticeSession
from tests.helpers.sessions import user_row

UTC = timezone.utc
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def add_many(user_id: int, n: int, offset: int = 0) -> None:
    start = datetime(2020, 1, 1, 7, tzinfo=UTC)
    rows = []
    for i in range(offset, offset + n):
        t = start + timedelta(hours=6 * i)
        rows.append({
            "user_id": user_id, "uuid": uuid.uuid4(), "routine": "box", "started_at": t,
            "ended_at": t + timedelta(minutes=10), "duration_seconds": 600, "completed_cycles": 30,
            "planned_cycles": 30, "pre_mood": 4, "pre_anxiety": 6, "pre_energy": 5, "post_mood": 6,
            "post_anxiety": 3, "post_energy": 6, "post_note": f"Ruhiger, ein bisschen müde – Nummer {i}.",
            "details": {"retention_seconds": [40, 55.5]}, "created_at": t, "updated_at": t,
        })
        if len(rows) == 1000:
            db.session.execute(insert(PracticeSession), rows)
            rows = []
    if rows:
        db.session.execute(insert(PracticeSession), rows)
    db.session.commit()


def peak_while_downloading(client, who, fmt: str) -> tuple[int, int]:
    """(peak bytes traced while the export is made and read, bytes of the export)."""
    tracemalloc.start()
    try:
        r = client.get(f"/api/me/export?format={fmt}", headers=who["headers"], buffered=False)
        assert r.status_code == 200
        size = sum(len(chunk) for chunk in r.response)  # read as a client would, keeping nothing
        r.close()
        return tracemalloc.get_traced_memory()[1], size
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_memory_stays_flat_from_n_to_ten_times_n_sessions(client, alice, fmt):
    uid = alice["user"]["id"]
    add_many(uid, 500)
    peak_while_downloading(client, alice, fmt)  # warm: statements compiled, caches filled
    small, small_size = peak_while_downloading(client, alice, fmt)
    add_many(uid, 4500, offset=500)
    large, large_size = peak_while_downloading(client, alice, fmt)
    assert large_size > 8 * small_size  # ten times the history ...
    assert large < small * 1.5 + 256 * 1024, (small, large)  # ... about the same memory


def test_the_stream_is_byte_for_byte_the_whole_document(app, client, alice, bob, monkeypatch):
    uid = alice["user"]["id"]
    add_many(uid, 3)
    add_many(bob["user"]["id"], 2)
    monkeypatch.setattr("coach.api.export.utcnow", lambda: NOW)
    body = client.get("/api/me/export", headers=alice["headers"]).get_data(as_text=True)
    expected = json.dumps(export.export_json(user_row(alice), NOW), ensure_ascii=False, indent=2)
    assert body == expected
    csv_body = client.get("/api/me/export?format=csv", headers=alice["headers"]).get_data(as_text=True)
    assert csv_body == "\ufeff" + "".join(export.stream_csv(user_row(alice)))
    assert csv_body.count("\r\n") == 4  # the header and three sessions


def test_an_empty_history_streams_empty_lists(client, alice, monkeypatch):
    monkeypatch.setattr("coach.api.export.utcnow", lambda: NOW)
    body = client.get("/api/me/export", headers=alice["headers"]).get_data(as_text=True)
    assert '"sessions": [],' in body
    assert body == json.dumps(export.export_json(user_row(alice), NOW), ensure_ascii=False, indent=2)


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_the_stream_outlives_a_request_that_wrote_the_tokens_last_use(client, alice, fmt):
    """The body is written after the request's own database session is gone. When the
    request committed (its token's last use, written once a minute), the user it loaded had
    expired with that commit: the stream must not lean on it (found by schemathesis on
    PostgreSQL as a DetachedInstanceError, on whichever call came a minute after the last)."""
    from coach.models import AuthToken

    add_many(alice["user"]["id"], 3)
    db.session.execute(AuthToken.__table__.update().values(last_used_at=datetime.now(UTC) - timedelta(minutes=5)))
    db.session.commit()
    got = {}

    def download_as_a_server_would():
        # In a thread of its own, as a server runs it: no test's app context stays pushed
        # around the request, so the request's session is gone when the body is written.
        try:
            r = client.get(f"/api/me/export?format={fmt}", headers=alice["headers"])
            got["status"], got["body"] = r.status_code, r.get_data(as_text=True)
        except Exception as exc:  # noqa: BLE001  (reported below, in the test's thread)
            got["error"] = repr(exc)

    worker = threading.Thread(target=download_as_a_server_would)
    worker.start()
    worker.join(60)
    assert "error" not in got, got.get("error")
    assert got["status"] == 200
    assert "alice@example.com" in got["body"] if fmt == "json" else got["body"].count("\n") == 4
