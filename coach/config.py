"""Configuration read once from the environment (see README's table).

`test_config` passed to `create_app` overrides any of these keys.
"""
from __future__ import annotations

import os
from pathlib import Path

MiB = 1024 * 1024

LIMITS = {
    "COACH_LIMIT_WRITES": "120 per minute",  # per account, all writes together
    "COACH_LIMIT_LOGIN_PER_ADDRESS": "10 per minute",
    "COACH_LIMIT_LOGIN_PER_EMAIL": "5 per minute",  # failed attempts only
    "COACH_LIMIT_LOGIN_GLOBAL": "300 per minute",  # each login is an argon2 check
    "COACH_LIMIT_SIGNUP_PER_ADDRESS": "20 per hour",
    "COACH_LIMIT_SIGNUP_PER_EMAIL": "5 per hour",
    "COACH_LIMIT_SIGNUP_GLOBAL": "300 per hour",
    "COACH_LIMIT_INSIGHTS": "60 per minute",  # per account, insights and what-helps together
    "COACH_LIMIT_EXPORT": "10 per hour",  # per account
}


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def instance_path() -> str | None:
    """COACH_INSTANCE_PATH: where the SQLite database, the VAPID keys and the development
    secret key live (unset: Flask's default, `instance/` next to the package)."""
    return os.environ.get("COACH_INSTANCE_PATH") or None


def from_env(instance_path: str) -> dict:
    """The settings for an app whose instance folder is `instance_path`."""
    instance = Path(instance_path)
    default_db = f"sqlite:///{instance / 'coach.sqlite3'}"
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        # Development: without SECRET_KEY, a random key kept in the instance folder is used.
        "COACH_DEV": _flag("COACH_DEV", False) or _flag("FLASK_DEBUG", False),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", default_db),
        "MAIL_URL": os.environ.get("MAIL_URL") or None,
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Vagal-tone coach <coach@localhost>"),
        "VAPID_PRIVATE_KEY": os.environ.get("VAPID_PRIVATE_KEY") or None,
        "VAPID_SUBJECT": os.environ.get("VAPID_SUBJECT", "mailto:coach@localhost"),
        "COACH_SCHEDULER": os.environ.get("COACH_SCHEDULER", "on").strip().lower(),
        "COACH_PUBLIC_URL": os.environ.get("COACH_PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/"),
        "COACH_PUSH_INSECURE_HOSTS": [
            h.strip().lower()
            for h in os.environ.get("COACH_PUSH_INSECURE_HOSTS", "").split(",")
            if h.strip()
        ],
        "RATELIMIT_ENABLED": _flag("RATELIMIT_ENABLED", True),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        # How many web workers serve the app (gunicorn reads the same variable): more than one
        # with `memory://` limits means each worker counts on its own, and a warning says so.
        "COACH_WEB_WORKERS": int(os.environ.get("WEB_CONCURRENCY", "1")),
        # The limits no honest person meets (api.md, Conventions; README's limits table), in
        # Flask-Limiter's notation; who each one counts is coach/api/limits.py's to say.
        **{name: os.environ.get(name, default) for name, default in LIMITS.items()},
        # How many proxies in front of the app set X-Forwarded-For/-Proto (0: none trusted).
        "COACH_TRUSTED_PROXIES": int(os.environ.get("COACH_TRUSTED_PROXIES", "0")),
        # The tick's reminders: claimed this many at a time, sent this many pushes at once.
        "COACH_DISPATCH_BATCH": int(os.environ.get("COACH_DISPATCH_BATCH", "500")),
        "COACH_PUSH_CONCURRENCY": int(os.environ.get("COACH_PUSH_CONCURRENCY", "16")),
        "TOKEN_TTL_DAYS": int(os.environ.get("COACH_TOKEN_TTL_DAYS", "30")),
        # Insights answers each worker keeps (4 KB for 90 days, 8 KB for a year); 0 keeps none.
        "COACH_INSIGHTS_CACHE_SIZE": int(os.environ.get("COACH_INSIGHTS_CACHE_SIZE", "4096")),
        # A JSON file replacing the built-in crisis-line directory (crisis_lines.py); unset: built-in.
        "COACH_CRISIS_LINES": os.environ.get("COACH_CRISIS_LINES") or None,
        "COACH_LOG_LEVEL": os.environ.get("COACH_LOG_LEVEL", "INFO").strip().upper(),
        # Bodies over 1 MiB are refused with 413 before anything reads them.
        "MAX_CONTENT_LENGTH": MiB,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # flask-smorest / OpenAPI
        "API_TITLE": "Vagal-tone coach",
        "API_VERSION": "1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "JSON_SORT_KEYS": False,
    }
