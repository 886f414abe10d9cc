"""Bearer-token authentication for the API blueprints."""
from __future__ import annotations

from copy import deepcopy
from functools import wraps

from flask import g, request
from flask_babel import gettext as _
from flask_smorest import abort
from flask_smorest.utils import deepupdate

from ..accounts import tokens
from ..models import User, utcnow

BEARER = {"bearerAuth": []}
VERIFIED = "coach.verified_user"
UNAUTHORIZED = {
    "description": "No token, or one that is wrong, expired or revoked.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 256:
        return None
    return token


def verified() -> tokens.Authenticated | None:
    """The user and token of the request's live bearer token, or None; verified once per
    request (the rate limiter asks before the route does, and both get the same answer).
    Kept in the request's environ, not `g`: a test's outer app context shares `g` across
    requests."""
    if VERIFIED not in request.environ:
        token = bearer_token()
        request.environ[VERIFIED] = tokens.authenticate_token(token, utcnow()) if token else None
    return request.environ[VERIFIED]


def verified_user() -> User | None:
    found = verified()
    return found.user if found else None


def login_required(func):
    """Answer 401 unless the request carries a live bearer token; documents itself in OpenAPI."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        token = bearer_token()
        found = verified()
        if found is None:
            abort(401, message=_("Please log in again."), headers={"WWW-Authenticate": 'Bearer realm="coach"'})
        g.user, g.token, g.token_id = found.user, token, found.token_id
        return func(*args, **kwargs)

    wrapper._apidoc = deepcopy(getattr(func, "_apidoc", {}))
    wrapper._apidoc["manual_doc"] = deepupdate(
        deepcopy(wrapper._apidoc.get("manual_doc", {})),
        {"security": [BEARER], "responses": {"401": UNAUTHORIZED}},
    )
    return wrapper


def current_user() -> User:
    return g.user


def current_token_id() -> int:
    """The id of the token this request was signed in with (the device it came from)."""
    return g.token_id
