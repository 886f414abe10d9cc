"""The links in account emails, working without the app: /confirm/<token>, /reset/<token>
and /not-me/<token>. GET only shows a page with a button (or the new-password form), because
mail scanners follow links; POST does what the button says. The pages use the app's own
stylesheet (light and dark) and carry no script, so they work under the strict CSP.
No CSRF token: the signed, single-use token in the path is the credential.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from ..accounts import confirmation, links, reset
from ..models import utcnow
from .unsubscribe import NO_STORE, masked

account_pages = Blueprint("account_pages", __name__)
MIN_PASSWORD, MAX_PASSWORD = 10, 1024


def _page(state: str, status: int = 200, **context):
    html = render_template("account/page.html", state=state, **context)
    return html, status, {**NO_STORE, "Content-Type": "text/html; charset=utf-8"}


@account_pages.get("/confirm/<token>")
def confirm_ask(token: str):
    return _page("confirm-ask", token=token)


@account_pages.post("/confirm/<token>")
def confirm(token: str):
    try:
        user = confirmation.confirm(current_app.config["SECRET_KEY"], token, utcnow())
    except links.BadLink:
        return _page("bad", 400)
    except confirmation.AddressTaken:
        return _page("taken", 409)
    return _page("confirmed", email=masked(user.email))


@account_pages.get("/reset/<token>")
def reset_ask(token: str):
    return _page("reset-ask", token=token, min_password=MIN_PASSWORD)


@account_pages.post("/reset/<token>")
def reset_password(token: str):
    password = request.form.get("password", "")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return _page("reset-ask", 422, token=token, min_password=MIN_PASSWORD,
                     error=f"Please choose a password of at least {MIN_PASSWORD} characters.")
    try:
        reset.reset(current_app.config["SECRET_KEY"], token, password, utcnow())
    except links.BadLink:
        return _page("bad", 400)
    return _page("reset-done")


@account_pages.get("/not-me/<token>")
def not_me_ask(token: str):
    return _page("not-me-ask", token=token)


@account_pages.post("/not-me/<token>")
def not_me(token: str):
    try:
        user = confirmation.not_me(current_app.config["SECRET_KEY"], token, utcnow())
    except links.BadLink:
        return _page("bad", 400)
    return _page("not-me-done", email=masked(user.email))
