"""The language of the request being answered: Flask-Babel's locale selector, and what a
route passes to a service (services take the language as an argument, never the request).

1. `?lang=` on a GET (api.md: it overrides the account's language for that call);
2. the signed-in user's `language`;
3. the best match of `Accept-Language` (register, login and other calls without a user);
4. English.
An unsupported `?lang=` is ignored like any unknown query parameter.
"""
from __future__ import annotations

from flask import g, has_request_context, request

from .languages import DEFAULT, best_language, supported

READS = frozenset({"GET", "HEAD"})


def request_language() -> str:
    if not has_request_context():
        return DEFAULT
    if request.method in READS:
        asked = supported(request.args.get("lang"))
        if asked:
            return asked
    own = supported(getattr(_signed_in_user(), "language", None))
    return own or best_language(request.headers.get("Accept-Language"))


def _signed_in_user():
    """The user `login_required` verified for *this* request's bearer token: `g` outlives a
    request where an app context is already pushed (a test, a CLI command), so a user left in
    `g` by an earlier request must not choose the language of an anonymous one."""
    user, token = g.get("user"), g.get("token")
    if user is None or not token:
        return None
    _, _, sent = request.headers.get("Authorization", "").partition(" ")
    return user if sent.strip() == token else None
