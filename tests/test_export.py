"""GET /api/me/export: everything the user owns as a JSON download, sessions as CSV."""
from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import datetime, timezone

import pytest

from coach.accounts import export
from coach.extensions import db
from coach.models import CustomRoutine, DigestDelivery, PushSubscription, Reminder, ReminderDelivery, User
from tests.helpers.sessions import add, body, put

UTC = timezone.utc
P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
AUTH = "tBHItJI5svbpez7KI4CCXg"


def download(client, who, fmt=None):
    r = client.get("/api/me/export", query_string={"format": fmt} if fmt else {}, headers=who["headers"])
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return r


@pytest.fixture
def owned(client, alice):
    """Alice owns one of everything; bob owns a session too."""
    uid = alice["user"]["id"]
    now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    sid = str(uuid.uuid4())
    r = put(client, alice, body(
        "box", "2026-11-20T07:00:00Z", "2026-11-20T07:10:00Z", completed_cycles=4,
        pre={"mood": 3, "anxiety": 7, "energy": 4}, post={"mood": 6, "anxiety": 3, "energy": 5, "note": "Calmer."},
        details={"retention_seconds": [45, 61.5], "water_temp_c": -1.5, "cold_seconds": 90},
    ), sid)
    assert r.status_code == 201
    db.session.add(CustomRoutine(user_id=uid, slug="my-evening", definition={"name": "My evening", "cycles": 3},
                                 created_at=now, updated_at=now))
    reminder = Reminder(user_id=uid, local_time="07:30", weekdays=[0, 2, 4], routine="box", enabled=True, created_at=now)
    db.session.add(reminder)
    db.session.flush()
    db.session.add(ReminderDelivery(reminder_id=reminder.id, planned_at=now, sent_at=now, status="sent"))
    db.session.add(PushSubscription(user_id=uid, endpoint="https://push.example.net/send/abc123", p256dh=P256DH,
                                    auth=AUTH, created_at=now))
    db.session.add(DigestDelivery(user_id=uid, iso_week="2026-W47", sent_at=now, status="sent"))
    db.session.commit()
    return {"session": sid}


def test_json_export_is_a_download_of_everything_alice_owns(client, alice, bob, owned):
    put(client, bob, body("humming", post={"mood": 9, "note": "bob's secret note"}))
    r = download(client, alice)
    assert r.mimetype == "application/json"
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert r.headers["Content-Disposition"].endswith('.json"')
    assert r.headers["Cache-Control"] == "no-store"
    data = json.loads(r.get_data(as_text=True))

    assert data["profile"]["email"] == "alice@example.com"
    assert data["profile"]["timezone"] == "Europe/Berlin"
    (session,) = data["sessions"]
    assert session["uuid"] == owned["session"]
    assert session["pre"] == {"mood": 3, "anxiety": 7, "energy": 4}
    assert session["post"]["note"] == "Calmer."
    assert session["details"]["retention_seconds"] == [45, 61.5]
    assert session == client.get(f"/api/sessions/{owned['session']}", headers=alice["headers"]).get_json()
    assert [c["slug"] for c in data["custom_routines"]] == ["my-evening"]
    assert data["custom_routines"][0]["definition"]["name"] == "My evening"
    assert data["reminders"][0]["local_time"] == "07:30" and data["reminders"][0]["weekdays"] == [0, 2, 4]
    assert data["reminder_deliveries"][0]["status"] == "sent"
    assert data["push_subscriptions"][0]["endpoint"] == "https://push.example.net/send/abc123"
    assert data["digest_deliveries"][0]["iso_week"] == "2026-W47"

    text = r.get_data(as_text=True)
    assert P256DH not in text and AUTH not in text  # push keys never leave
    assert "p256dh" not in text and '"auth"' not in text
    assert "password" not in text and "argon2" not in text and "token" not in text
    assert "bob" not in text


def test_only_credentials_challenges_and_derived_sums_are_left_out():
    assert export.NOT_EXPORTED_TABLES == {
        "auth_tokens", "passkey_challenges", "practice_days", "practice_blocks", "practice_day_state",
    }


def test_every_table_that_belongs_to_a_user_is_in_the_export(client, alice, owned):
    data = json.loads(download(client, alice).get_data(as_text=True))
    renamed = {"practice_sessions": "sessions"}
    for table in db.metadata.sorted_tables:
        if "user_id" not in table.c or table.name in export.NOT_EXPORTED_TABLES:
            continue
        assert renamed.get(table.name, table.name) in data, table.name


def test_csv_export_parses_back_with_units_and_labels(client, alice, owned):
    add(client, alice, datetime(2026, 11, 21, 18, 0, tzinfo=UTC), minutes=5, routine="cyclic-sighing", pre={"mood": 5})
    r = download(client, alice, "csv")
    assert r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"].endswith('.csv"')
    raw = r.get_data()
    assert raw.startswith("\ufeff".encode())  # BOM: spreadsheets read it as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    header, first, second = rows
    assert header == export.csv_columns("Europe/Berlin")
    for label in ("started_at (UTC, RFC 3339)", "duration (s)", "pre mood (0 very bad – 10 very good)",
                  "water temperature (°C)"):
        assert label in header
    row = dict(zip(header, first))
    assert row["session id"] == owned["session"]
    assert row["routine"] == "box"
    assert row["started_at (UTC, RFC 3339)"] == "2026-11-20T07:00:00Z"
    assert row["started (local time, Europe/Berlin)"] == "2026-11-20 08:00:00"
    assert row["duration (s)"] == "600"
    assert row["pre mood (0 very bad – 10 very good)"] == "3"
    assert row["post anxiety (0 none – 10 extreme)"] == "3"
    assert row["mood change (post − pre)"] == "3"
    assert row["note"] == "Calmer."
    assert row["breath holds (s, one per round, separated by ;)"] == "45;61.5"
    assert row["water temperature (°C)"] == "-1.5"  # a number keeps its sign: no formula guard on numbers
    assert row["time in the cold (s)"] == "90"
    later = dict(zip(header, second))
    assert later["routine"] == "cyclic-sighing" and later["post mood (0 very bad – 10 very good)"] == ""
    assert later["ended_at (UTC, RFC 3339)"] == "2026-11-21T18:05:00Z"


@pytest.mark.shared_app
@pytest.mark.parametrize(
    "note,cell",
    [
        ("=HYPERLINK(\"http://evil.example\",\"click\")", "'=HYPERLINK(\"http://evil.example\",\"click\")"),
        ("+1 felt good", "'+1 felt good"),
        ("-2 worse", "'-2 worse"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+1", "'\t=1+1"),
        ("fine = good", "fine = good"),
        ("commas, \"quotes\"\nand a new line", "commas, \"quotes\"\nand a new line"),
    ],
)
def test_csv_notes_cannot_run_as_formulas_and_survive_quoting(client, alice, note, cell):
    put(client, alice, body(pre={"mood": 4}, post={"mood": 5, "note": note}))
    r = download(client, alice, "csv")
    header, row = list(csv.reader(io.StringIO(r.get_data().decode("utf-8-sig"), newline="")))
    assert dict(zip(header, row))["note"] == cell


def test_csv_with_no_sessions_is_just_the_header(client, alice):
    rows = list(csv.reader(io.StringIO(download(client, alice, "csv").get_data().decode("utf-8-sig"))))
    assert rows == [export.csv_columns("Europe/Berlin")]


def test_bad_format_is_422_and_a_login_is_needed(client, alice):
    r = client.get("/api/me/export", query_string={"format": "xml"}, headers=alice["headers"])
    assert r.status_code == 422 and "format" in r.get_json()["errors"]
    assert client.get("/api/me/export").status_code == 401


def test_openapi_documents_both_download_types(client):
    spec = client.get("/api/openapi.json").get_json()
    ok = spec["paths"]["/api/me/export"]["get"]["responses"]["200"]
    assert set(ok["content"]) == {"application/json", "text/csv"}
    assert "Content-Disposition" in ok["headers"]


def test_the_export_follows_the_account(client, alice):
    """A new timezone shows in the CSV's local column heading and times."""
    add(client, alice, datetime(2026, 11, 20, 7, 0, tzinfo=UTC))
    user = db.session.get(User, alice["user"]["id"])
    user.timezone = "Asia/Tokyo"
    db.session.commit()
    header, row = list(csv.reader(io.StringIO(download(client, alice, "csv").get_data().decode("utf-8-sig"))))
    assert dict(zip(header, row))["started (local time, Asia/Tokyo)"] == "2026-11-20 16:00:00"
