"""The vagal-tone coach: a Flask application factory (design.md, The shape)."""
from __future__ import annotations

import os
from pathlib import Path

import flask_babel
from flask import Flask
from flask.sessions import SessionInterface
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config, errors, http_headers, logs, models
from .api import input_guard, register_blueprints
from .cli import coach_cli
from .extensions import api as openapi
from .extensions import babel, db, limiter, migrate
from .i18n.catalogues import DIRECTORY as TRANSLATIONS
from .i18n.catalogues import compile_catalogues
from .i18n.selection import request_language
from .pages.api_docs import docs
from .pages.shell import web
from .pages.unsubscribe import unsubscribe_web
from .practice.insights_cache import AnswerCache
from .routines.catalogue import load_catalogue
from .routines.plans import load_plans

MIGRATIONS = str(Path(__file__).parent / "migrations")


def create_app(test_config: dict | None = None) -> Flask:
    instance_path = (test_config or {}).get("INSTANCE_PATH") or config.instance_path()
    app = Flask(__name__, instance_relative_config=True, static_folder=None, instance_path=instance_path)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(config.from_env(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    _require_secret_key(app)
    if not app.testing:
        logs.configure(app.config["COACH_LOG_LEVEL"])
    if app.config["COACH_TRUSTED_PROXIES"]:
        hops = app.config["COACH_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    # Bearer tokens, not cookies: there is no cookie session to open and sign on every call
    # (writing to `flask.session` raises, so one cannot appear by accident).
    app.session_interface = NoCookieSession()

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS)
    # A clean clone or an edited .po never runs on a missing or stale .mo (not committed).
    compile_catalogues()
    babel.init_app(app, locale_selector=request_language, default_translation_directories=str(TRANSLATIONS))
    # Flask-Babel keeps the chosen locale in `g`, which outlives a request where an app
    # context was already pushed (tests, CLI): choose afresh for every request, first of all
    # (before the limiter's own hook, whose 429 has a message too).
    app.before_request(flask_babel.refresh)
    limiter.init_app(app)
    openapi.init_app(app, spec_kwargs={"info": {"description": API_DESCRIPTION}})
    http_headers.init_app(app)  # first, so even a refused request gets its id and headers
    errors.init_app(app)  # after openapi.init_app so our handlers win over flask-smorest's
    # Every /api/ request's text and nesting, whichever blueprint answers it (after the
    # request id and the JSON body check, so a refusal is logged and shaped like any other).
    app.before_request(input_guard.check_request)

    register_blueprints(openapi)
    app.register_blueprint(docs)
    app.register_blueprint(unsubscribe_web)  # before `web`, whose catch-all path would shadow it
    app.register_blueprint(web)
    app.cli.add_command(coach_cli)
    app.extensions["coach_up_since"] = models.utcnow()
    app.extensions["coach.practice.insights_cache"] = AnswerCache(app.config["COACH_INSIGHTS_CACHE_SIZE"])
    load_catalogue()  # validates the built-in routines at start-up: a bad one stops the app
    load_plans()  # and the plans, which name them
    return app


class NoCookieSession(SessionInterface):
    def open_session(self, app: Flask, request):
        return None  # Flask then uses its null session

    def save_session(self, app: Flask, session, response) -> None:
        pass


def _require_secret_key(app: Flask) -> None:
    if app.config.get("SECRET_KEY"):
        return
    if app.debug or app.testing or app.config["COACH_DEV"]:
        # Development only: a random key kept in the instance folder.
        key_file = Path(app.instance_path) / "secret_key"
        if not key_file.exists():
            key_file.write_text(os.urandom(32).hex())
            key_file.chmod(0o600)
        app.config["SECRET_KEY"] = key_file.read_text().strip()
        return
    raise RuntimeError(
        "SECRET_KEY is not set. Set it in the environment (e.g. `export SECRET_KEY=$(python -c "
        "'import secrets; print(secrets.token_hex(32))')`), or run the development server "
        "with COACH_DEV=1."
    )


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """SQLite: enforce foreign keys (ON DELETE CASCADE), WAL so readers don't block the tick,
    and synchronous=NORMAL, which under WAL syncs at checkpoints rather than every commit:
    a crash of the app loses nothing; only a power cut can lose the last transactions."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


API_DESCRIPTION = """\
The public API of the vagal-tone coach: accounts, routines, practice sessions with mood
ratings, insights, reminders by Web Push and the weekly summary email.

Every call except register, login (by password or passkey), the VAPID key, this document and
`/healthz` needs `Authorization: Bearer <token>` from `POST /api/auth/login` (or
`POST /api/auth/passkeys/login`). Bodies are JSON (415 otherwise),
at most 1 MiB (413). Every error has one shape: `{code, status, message, errors}` where
`errors` maps a field to its messages. Someone else's object answers 404, as an unknown one.
Unknown fields in a body are refused with 422. Times are RFC 3339 instants with an offset.
"""
