"""Fixtures: an app per test from the factory, on SQLite and (when configured) PostgreSQL.

Every test that uses `app` or `client` runs once per database. PostgreSQL runs use a fresh
database made for this pytest run and dropped at its end, so concurrent runs never collide.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from coach import create_app
from coach.extensions import db
from pg_databases import private_database

PG_URL = os.environ.get("COACH_TEST_POSTGRES_URL")


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing():
    """argon2's cheapest profile in tests: sign-ups take ~1 ms instead of ~0.4 s.

    Production keeps argon2-cffi's RFC 9106 defaults; a test of its own checks those.
    """
    from argon2 import PasswordHasher, profiles

    from coach.accounts import passwords

    real = passwords._hasher
    passwords._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    yield real
    passwords._hasher = real
PG_SKIP_REASON = "COACH_TEST_POSTGRES_URL is not set: the PostgreSQL runs are skipped"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def pg_database_url():
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    url, drop = private_database(PG_URL, f"coach_test_{os.getpid()}")
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    yield url
    drop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'coach.sqlite3'}"
    return request.getfixturevalue("pg_database_url")


def make_app(database_url: str, tmp_path, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "RATELIMIT_ENABLED": False,
        "COACH_PUBLIC_URL": "https://coach.example",
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app_config():
    """Override per module/test: extra config for the `app` fixture."""
    return {}


@contextmanager
def app_with_db(database_url: str, tmp_path, **overrides):
    """An app whose schema is ready, inside its app context; PostgreSQL tables are emptied after."""
    app = make_app(database_url, tmp_path, **overrides)
    with app.app_context():
        if database_url.startswith("sqlite"):
            db.create_all()
        try:
            yield app
        finally:
            db.session.remove()
            if not database_url.startswith("sqlite"):
                tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
                with db.engine.begin() as conn:
                    conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.engine.dispose()


@pytest.fixture
def app(database_url, tmp_path, app_config):
    with app_with_db(database_url, tmp_path, **app_config) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


def confirm_link_token(app, user_id: int) -> str:
    """The token the account's confirmation email carries now (as the tick would mint it)."""
    from coach.accounts import links
    from coach.models import User, utcnow

    db.session.expire_all()
    user = db.session.get(User, user_id)
    address = user.pending_email or user.email
    return links.make(app.config["SECRET_KEY"], links.CONFIRM, user.id, user.confirm_nonce, links.tag(address), utcnow())


def signup(client, email: str | None = None, timezone: str = "Europe/Berlin", password: str = PASSWORD,
           confirm: bool = True) -> dict:
    """Register, confirm the address (through POST /api/auth/confirm, unless `confirm=False`)
    and log in; returns {"headers", "user", "token", "email", "password"}."""
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    r = client.post("/api/auth/register", json={"email": email, "password": password, "timezone": timezone})
    assert r.status_code == 201, r.get_json()
    if confirm:
        token = confirm_link_token(client.application, r.get_json()["id"])
        r = client.post("/api/auth/confirm", json={"token": token})
        assert r.status_code == 200, r.get_json()
    r = client.post("/api/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    return {
        "headers": {"Authorization": f"Bearer {body['token']}"},
        "user": body["user"],
        "token": body["token"],
        "email": email,
        "password": password,
    }


@pytest.fixture
def alice(client):
    return signup(client, "alice@example.com")


@pytest.fixture
def bob(client):
    return signup(client, "bob@example.com", timezone="America/New_York")
