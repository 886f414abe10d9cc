"""Smaller account fixes found when probing, each with the test that failed before it."""
from __future__ import annotations

import logging
import os
import stat

import pytest

from coach import create_app
from tests.helpers.accounts import PASSWORD, signup
from tests.helpers.apps import make_app


def test_every_api_answer_is_no_store(client):
    """The login answer carries a bearer token: no cache may keep it."""
    signup(client, "cache@example.com")
    login = client.post("/api/auth/login", json={"email": "cache@example.com", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.get_json()['token']}"}
    answers = [
        login,
        client.post("/api/auth/login", json={"email": "cache@example.com", "password": "wrong password!"}),
        client.get("/api/me", headers=headers),
        client.get("/api/routines", headers=headers),
        client.get("/api/me"),
        client.get("/api/no-such-thing"),
        client.get("/api/openapi.json"),
        client.get("/api/push/vapid-public-key"),
        client.post("/api/auth/register", data="x", content_type="text/plain"),
    ]
    for r in answers:
        assert r.headers.get("Cache-Control") == "no-store", (r.request.path, r.status_code, r.headers.get("Cache-Control"))


@pytest.mark.parametrize("path", ["/unsubscribe/SECRET-TOKEN-123", "/confirm/SECRET-TOKEN-123", "/reset/SECRET-TOKEN-123",
                                  "/not-me/SECRET-TOKEN-123"])
def test_the_request_log_redacts_the_token_of_a_link_path(client, caplog, path):
    caplog.set_level(logging.INFO, logger="coach.request")
    client.get(path)
    records = [r for r in caplog.records if r.name == "coach.request"]
    assert records
    for record in records:
        assert "SECRET-TOKEN-123" not in record.getMessage()
        assert "SECRET-TOKEN-123" not in str(getattr(record, "path", ""))
    prefix = path.rsplit("/", 1)[0]
    assert any(f"{prefix}/…" in r.getMessage() for r in records)


def test_the_limiter_never_logs_an_email_in_clear(database_url, tmp_path, caplog):
    app = make_app(database_url, tmp_path, RATELIMIT_ENABLED=True)
    caplog.set_level(logging.DEBUG)
    with app.app_context():
        from coach.extensions import db, limiter

        db.create_all()
        limiter.reset()
        client = app.test_client()
        for _ in range(8):
            client.post("/api/auth/login", json={"email": "Private.Person@example.com", "password": "wrong password!"})
        db.session.remove()
    limited = [r for r in caplog.records if r.name == "flask-limiter"]
    assert limited, "the limit was not reached"
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "private.person" not in text.lower()


def test_the_instance_folder_and_sqlite_file_are_private(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    old = os.umask(0o022)
    try:
        instance = tmp_path / "instance"
        app = create_app({"INSTANCE_PATH": str(instance), "TESTING": False})
        with app.app_context():
            from coach.extensions import db

            db.create_all()
            db.engine.dispose()
    finally:
        os.umask(old)
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    database = instance / "coach.sqlite3"
    assert database.exists()
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


@pytest.mark.parametrize("key", ["short", "x" * 31])
def test_a_short_secret_key_is_refused_outside_development(tmp_path, monkeypatch, key):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.delenv("COACH_DEV", raising=False)
    with pytest.raises(RuntimeError, match="32"):
        create_app({"INSTANCE_PATH": str(tmp_path / "i"), "SECRET_KEY": key})
    create_app({"INSTANCE_PATH": str(tmp_path / "i"), "SECRET_KEY": "x" * 32})  # long enough
    create_app({"INSTANCE_PATH": str(tmp_path / "i"), "SECRET_KEY": key, "TESTING": True})  # tests: fine


@pytest.mark.parametrize("slug", ["evening\n", "evening\r\n", "\nevening"])
def test_a_routine_slug_with_a_newline_is_refused(client, alice, slug):
    """`$` in a Python regex also matches before a trailing newline: the slug must match whole."""
    from tests.test_routines_api import custom

    r = client.post("/api/routines", json=custom(slug=slug), headers=alice["headers"])
    assert r.status_code == 422, r.get_json()
    assert "slug" in r.get_json()["errors"]
    assert client.post("/api/routines", json=custom(slug="evening"), headers=alice["headers"]).status_code == 201
