"""Extensions made unbound here and bound to an app in `create_app`."""
from __future__ import annotations

import hashlib

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Base(DeclarativeBase):
    pass


def client_key() -> str:
    """Who a rate limit counts: the bearer token (one user, many addresses behind a NAT)
    when there is one, else the client address (after ProxyFix, when proxies are trusted)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "token:" + hashlib.sha256(token.strip().encode()).hexdigest()[:32]
    return "addr:" + (request.remote_addr or "unknown")


def _reads() -> bool:
    return request.method in SAFE_METHODS


db = SQLAlchemy(model_class=Base)
babel = Babel()  # the locale selector and catalogues: coach/i18n
migrate = Migrate()
api = Api()
# Every write is limited per client and route; reads are not. Login and register carry
# tighter limits of their own. Storage from RATELIMIT_STORAGE_URI (Redis for several workers).
limiter = Limiter(
    key_func=client_key,
    default_limits=["120 per minute"],
    default_limits_exempt_when=_reads,
    headers_enabled=True,
)
