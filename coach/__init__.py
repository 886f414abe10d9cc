"""The vagal-tone coach: a Flask application factory (design.md, The shape)."""
from __future__ import annotations

import os
from pathlib import Path

import flask_babel
from flask import Flask
from flask.sessions import SessionInterface
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config, errors, http_headers, logs, models
from .api import input_guard, register_blueprints
from .api.limits import limit_api_writes, warn_if_counted_apart
from .cli import coach_cli
from .extensions import api as openapi
from .extensions import babel, db, limiter, migrate
from .i18n.catalogues import DIRECTORY as TRANSLATIONS
from .i18n.catalogues import compile_catalogues
from .i18n.selection import request_language
from .pages.account_links import account_pages
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
    _private_folder(app.instance_path)
    app.config.from_mapping(config.from_env(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    _require_secret_key(app)
    _private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.testing:
        logs.configure(app.config["COACH_LOG_LEVEL"])
    logs.redact_limiter()
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
    limit_api_writes(app)  # one write budget per account, over every API blueprint
    app.register_blueprint(docs)
    app.register_blueprint(unsubscribe_web)  # before `web`, whose catch-all path would shadow it
    app.register_blueprint(account_pages)
    app.register_blueprint(web)
    app.cli.add_command(coach_cli)
    app.extensions["coach_up_since"] = models.utcnow()
    app.extensions["coach.practice.insights_cache"] = AnswerCache(app.config["COACH_INSIGHTS_CACHE_SIZE"])
    load_catalogue()  # validates the built-in routines at start-up: a bad one stops the app
    load_plans()  # and the plans, which name them
    warn_if_counted_apart(app)  # several workers, each counting limits in its own memory
    return app


class NoCookieSession(SessionInterface):
    def open_session(self, app: Flask, request):
        return None  # Flask then uses its null session

    def save_session(self, app: Flask, session, response) -> None:
        pass


def _private_folder(path: str) -> None:
    """The instance folder holds the database, the secret and VAPID keys: made 0700."""
    if not os.path.isdir(path):
        os.makedirs(path, mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)  # makedirs' mode is filtered by the umask


def _private_sqlite_file(uri: str) -> None:
    """A SQLite database file is created 0600 before SQLite opens it (SQLite gives its WAL
    and shared-memory files the database file's mode)."""
    url = make_url(uri)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return
    try:
        os.close(os.open(url.database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except (FileExistsError, FileNotFoundError):
        pass  # kept as it is; or a folder that does not exist yet, which SQLite reports itself


MIN_SECRET_BYTES = 32


def _development(app: Flask) -> bool:
    return app.debug or app.testing or app.config["COACH_DEV"]


def _require_secret_key(app: Flask) -> None:
    key = app.config.get("SECRET_KEY")
    if key:
        if len(key.encode() if isinstance(key, str) else key) < MIN_SECRET_BYTES and not _development(app):
            raise RuntimeError(
                f"SECRET_KEY is shorter than {MIN_SECRET_BYTES} bytes: it signs the links in emails, so a short one "
                "can be guessed. Make one with `python -c 'import secrets; print(secrets.token_hex(32))'`."
            )
        return
    if _development(app):
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

Every call except register, login (by password or passkey), the links from account emails
(confirm, password reset), the VAPID key, this document and `/healthz` needs
`Authorization: Bearer <token>` from `POST /api/auth/login` (or `POST /api/auth/passkeys/login`).
Every answer carries `Cache-Control: no-store`. Bodies are JSON (415 otherwise),
at most 1 MiB (413). Every error has one shape: `{code, status, message, errors}` where
`errors` maps a field to its messages. Someone else's object answers 404, as an unknown one.
Unknown fields in a body are refused with 422. Times are RFC 3339 instants with an offset.
Rate limits count per account once its token is verified (per client address before that)
and answer 429 with `Retry-After` (seconds) and a plain `message`.
"""
