"""Who each rate limit counts, and the limits themselves (api.md, Conventions).

An account is a key only once its bearer token is verified; before that, the client address
(after ProxyFix, when proxies are trusted). A bearer value the server has not verified is
never a key: a random one on each request would otherwise be a fresh budget each time.
The numbers live in coach/config.py (`COACH_LIMIT_*`); README has the table.
"""
from __future__ import annotations

import logging

from flask import Flask, Response, current_app
from flask_limiter import RouteLimit
from flask_smorest import Blueprint as ApiBlueprint

from ..accounts.profile import normalise_email
from ..extensions import client_address, limiter
from ..i18n import N_
from . import input_guard
from .security import verified_user

log = logging.getLogger(__name__)

WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]


# --- keys ----------------------------------------------------------------------------------

address_key = client_address  # the address, never a bearer value


def account_key() -> str:
    """The verified account, else the address: a fresh login is the same account."""
    user = verified_user()
    return f"user:{user.id}" if user is not None else address_key()


def everyone_key() -> str:
    return "everyone"


def email_key() -> str:
    """The email in the body, as accounts are looked up (the limiter asks before the input
    guard has run, so a body that cannot be read counts as no email)."""
    body = input_guard.json_body()
    email = body.get("email") if isinstance(body, dict) else None
    return "email:" + (normalise_email(email) if isinstance(email, str) else "")


def _setting(name: str):
    return lambda: current_app.config[name]


def failed_login(response: Response) -> bool:
    return response.status_code == 401


# --- what the front end shows (plain words; Retry-After carries the wait) ------------------

# N_: extracted for the catalogues; coach/errors.py answers them in the reader's language.
LOGIN_BUSY = N_("There have been too many attempts to log in from here. Please wait a little and try again.")
LOGIN_EMAIL = N_("There have been too many attempts to log in to this account. Please wait a little and try again.")
EVERYONE_BUSY = N_("The coach is very busy right now. Please try again in a minute.")
SIGNUP_BUSY = N_("Too many accounts have been made from here. Please try again later.")
SIGNUP_EMAIL = N_("There have been too many sign-ups with this email. Please try again later.")
WRITES = N_("That was a lot of changes in a short time. Please wait a little and try again.")
INSIGHTS = N_("Your insights have been asked for very often just now. Please wait a little and try again.")
EXPORT = N_("You have downloaded your data several times this hour. Please try again later.")


# --- the limits ----------------------------------------------------------------------------

LOGIN_PER_ADDRESS = limiter.limit(
    _setting("COACH_LIMIT_LOGIN_PER_ADDRESS"), key_func=address_key, error_message=LOGIN_BUSY
)
# Only failed attempts count per email: a person on several devices never meets it.
LOGIN_PER_EMAIL = limiter.limit(
    _setting("COACH_LIMIT_LOGIN_PER_EMAIL"), key_func=email_key, deduct_when=failed_login, error_message=LOGIN_EMAIL
)
# One ceiling for every way of logging in (a passkey login with no email takes this and the
# address limit, not the per-email one).
LOGIN_EVERYONE = limiter.shared_limit(
    _setting("COACH_LIMIT_LOGIN_GLOBAL"), scope="login-everyone", key_func=everyone_key, error_message=EVERYONE_BUSY
)
LOGIN_LIMITS: list[RouteLimit] = [LOGIN_PER_ADDRESS, LOGIN_PER_EMAIL, LOGIN_EVERYONE]
SIGNUP_LIMITS: list[RouteLimit] = [
    limiter.limit(_setting("COACH_LIMIT_SIGNUP_PER_ADDRESS"), key_func=address_key, error_message=SIGNUP_BUSY),
    limiter.limit(_setting("COACH_LIMIT_SIGNUP_PER_EMAIL"), key_func=email_key, error_message=SIGNUP_EMAIL),
    limiter.shared_limit(_setting("COACH_LIMIT_SIGNUP_GLOBAL"), scope="signup-everyone", key_func=everyone_key,
                         error_message=EVERYONE_BUSY),
]
# One budget per account for every write to the API, whatever the route (`limit_api_writes`).
ACCOUNT_WRITES = limiter.shared_limit(
    _setting("COACH_LIMIT_WRITES"), scope="writes", key_func=account_key, methods=WRITE_METHODS,
    error_message=WRITES,
)
# The reads that compute over a user's whole history.
INSIGHTS_READS = limiter.shared_limit(
    _setting("COACH_LIMIT_INSIGHTS"), scope="insights", key_func=account_key, error_message=INSIGHTS
)
EXPORT_READS = limiter.limit(_setting("COACH_LIMIT_EXPORT"), key_func=account_key, error_message=EXPORT)


def limit_api_writes(app: Flask) -> None:
    """Every write to an API blueprint (flask-smorest's) counts against the account's one
    write budget; a route with limits of its own (login, sign-up) keeps only those. Called
    once the blueprints are registered, so a blueprint added later is covered too."""
    for blueprint in app.blueprints.values():
        if isinstance(blueprint, ApiBlueprint):
            ACCOUNT_WRITES(blueprint)


# --- the deployment ------------------------------------------------------------------------

def several_workers_warning(workers: int, storage_uri: str) -> str | None:
    """Words for the log when limits kept in each worker's memory would be counted apart."""
    if workers > 1 and storage_uri.startswith("memory://"):
        return (
            f"{workers} web workers keep rate limits in memory:// each on its own, so every limit "
            f"is in effect {workers} times as high; set RATELIMIT_STORAGE_URI to a shared store "
            "(e.g. redis://127.0.0.1:6379)."
        )
    return None


def warn_if_counted_apart(app: Flask) -> None:
    if not app.config.get("RATELIMIT_ENABLED", True):
        return
    words = several_workers_warning(app.config["COACH_WEB_WORKERS"], app.config["RATELIMIT_STORAGE_URI"])
    if words:
        log.warning(words)
