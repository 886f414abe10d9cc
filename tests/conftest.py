"""Fixtures: an app per test from the factory, on SQLite and (when configured) PostgreSQL.

Every test that uses `app` or `client` runs once per database. PostgreSQL runs use a fresh
database made for this pytest run and dropped at its end, so concurrent runs never collide.

A table of cases marked `@pytest.mark.shared_app` shares one app per module and database
instead of building one per case (the OpenAPI document is most of an app's start-up); its
database is emptied after each case, so every case still starts from an empty database.
Mark only tables whose cases leave the app object itself alone (its config, its extensions).

What is not a fixture lives in `tests/helpers/` (see its __init__).
"""
from __future__ import annotations

import os

import pytest
from argon2 import PasswordHasher, profiles
from flask import Flask

from coach import create_app
from coach.accounts import passwords
from coach.extensions import db
from coach.push import vapid
from tests.helpers.accounts import signup
from tests.helpers.apps import app_with_db, empty_tables, make_app
from tests.helpers.pg import PG_SKIP_REASON, PG_URL, private_database, private_postgres_database
from tests.helpers.push import PushService
from tests.helpers.smtp import Certificate, SmtpServer, self_signed


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing():
    """argon2's cheapest profile in tests: sign-ups take ~1 ms instead of ~0.4 s.

    Production keeps argon2-cffi's RFC 9106 defaults; a test of its own checks those.
    """
    real = passwords._hasher
    passwords._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    yield real
    passwords._hasher = real


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


@pytest.fixture
def app_config():
    """Override per module/test: extra config for the `app` fixture."""
    return {}


@pytest.fixture(scope="module")
def _module_apps():
    """The apps a module's `shared_app` tables share, by (database, configuration)."""
    apps: dict[tuple, Flask] = {}
    yield apps
    for app in apps.values():
        with app.app_context():
            db.engine.dispose()


def _shared_app(apps: dict[tuple, Flask], tmp_path_factory, database_url: str, app_config: dict) -> Flask:
    sqlite = database_url.startswith("sqlite")
    key = (sqlite, repr(sorted(app_config.items())))
    if key not in apps:
        tmp = tmp_path_factory.mktemp("shared_app")
        url = f"sqlite:///{tmp / 'coach.sqlite3'}" if sqlite else database_url  # PostgreSQL: the run's database
        app = make_app(url, tmp, **app_config)
        if sqlite:
            with app.app_context():
                db.create_all()
        apps[key] = app
    return apps[key]


@pytest.fixture
def app(request, database_url, tmp_path, tmp_path_factory, app_config, _module_apps):
    """The app, in its app context: a new one with an empty database per test, or for a test
    marked `shared_app` its module's, whose tables are emptied after the case."""
    if request.node.get_closest_marker("shared_app") is None:
        with app_with_db(database_url, tmp_path, **app_config) as app:
            yield app
        return
    app = _shared_app(_module_apps, tmp_path_factory, database_url, app_config)
    with app.app_context():
        try:
            yield app
        finally:
            empty_tables()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def alice(client):
    return signup(client, "alice@example.com")


@pytest.fixture
def bob(client):
    return signup(client, "bob@example.com", timezone="America/New_York")


@pytest.fixture
def smtp_server():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def certificate(tmp_path) -> Certificate:
    return self_signed(tmp_path / "tls")


@pytest.fixture
def pg_private():
    """A PostgreSQL database of this test's own (made and dropped); skips without PostgreSQL."""
    url, drop = private_postgres_database()
    yield url
    drop()


@pytest.fixture
def push(app):
    """A loopback push service that checks the app's VAPID JWT and decrypts every message
    (the app must list 127.0.0.1 in COACH_PUSH_INSECURE_HOSTS)."""
    with PushService(app_server_key=vapid.public_key(vapid.load(app))) as service:
        yield service
        assert service.errors == [], service.errors  # every message verified and decrypted
