"""Extensions made unbound here and bound to an app in `create_app`."""
from __future__ import annotations

from flask import current_app, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Base(DeclarativeBase):
    pass


def client_address() -> str:
    """The client address (after ProxyFix, when proxies are trusted). The API's own limits
    key on a verified account where there is one (coach/api/limits.py); nothing here ever
    keys on a bearer value, which anyone can make up."""
    return "addr:" + (request.remote_addr or "unknown")


def _write_limit() -> str:
    return current_app.config["COACH_LIMIT_WRITES"]


def _reads() -> bool:
    return request.method in SAFE_METHODS


db = SQLAlchemy(model_class=Base)
babel = Babel()  # the locale selector and catalogues: coach/i18n
migrate = Migrate()
api = Api()
# A write outside the API's blueprints (a server page's form) is limited per address and
# route; the API's limits (per account, login, sign-up, expensive reads) are coach/api/limits.py.
# Storage from RATELIMIT_STORAGE_URI (Redis for several workers).
limiter = Limiter(
    key_func=client_address,
    default_limits=[_write_limit],
    default_limits_exempt_when=_reads,
    headers_enabled=True,
)
