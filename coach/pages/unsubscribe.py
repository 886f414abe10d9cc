"""GET and POST /unsubscribe/<token>: the link in every weekly summary, no login needed.

POST (the RFC 8058 one-click request a mail client sends, or the page's button) turns the
summary off. GET only shows a page with that button, because mail scanners follow links:
opening the link must not unsubscribe anyone. The pages carry no script and no inline style,
so they work under the site's strict Content-Security-Policy.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from .. import unsubscribe as service
from ..i18n.selection import request_language
from ..models import utcnow

unsubscribe_web = Blueprint("unsubscribe", __name__)

NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}


def _page(state: str, status: int = 200, **context):
    # In the reader's language: no one is signed in here, so their browser's Accept-Language.
    html = render_template("digest/unsubscribe.html", state=state, lang=request_language(), **context)
    return html, status, {**NO_STORE, "Content-Type": "text/html; charset=utf-8"}


def masked(email: str | None) -> str | None:
    """a•••@example.com: enough to recognise one's address, not to read it off a shared screen."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


@unsubscribe_web.get("/unsubscribe/<token>")
def ask(token: str):
    try:
        outcome = service.look_up(current_app.config["SECRET_KEY"], token)
    except service.BadToken:
        return _page("bad", 400)
    if not outcome.found:
        return _page("gone")
    return _page("off" if outcome.already_off else "ask", email=masked(outcome.email), token=token)


@unsubscribe_web.post("/unsubscribe/<token>")
def one_click(token: str):
    try:
        outcome = service.unsubscribe(current_app.config["SECRET_KEY"], token, utcnow())
    except service.BadToken:
        return _page("bad", 400)
    if not outcome.found:
        return _page("gone")
    return _page("done", email=masked(outcome.email))
