"""One-click unsubscribe (RFC 8058) from the link in a real summary: POST with no login turns
the summary off, GET only shows a button, and a bad link gets a clear 400 page."""
from __future__ import annotations

import base64
import re

import pytest

from coach.extensions import db
from coach.models import User
from coach.tick.scheduler import tick
from coach.unsubscribe import make_token
from tests.helpers.digest import at, member, unsubscribe_path, user_of

SEND = at("2026-11-22T17:00:00Z")
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def app_config(smtp_server):
    return {"MAIL_URL": smtp_server.url()}


@pytest.fixture
def ann(client):
    return member(client, "ann@example.com", "Europe/Berlin", at("2026-11-16T10:00:00Z"), send_empty=True)


@pytest.fixture
def link(ann, smtp_server) -> str:
    tick(SEND)
    [got] = smtp_server.received
    return unsubscribe_path(got.message)


def test_one_click_post_turns_the_summary_off_without_a_login(client, ann, link, smtp_server):
    r = client.post(link, data=ONE_CLICK)  # form-encoded, as mail providers send it; no token
    assert r.status_code == 200
    assert "You are unsubscribed" in r.get_data(as_text=True)
    user = user_of(ann)
    assert user.digest_enabled is False and user.digest_next_at is None
    assert client.get("/api/me", headers=ann["headers"]).get_json()["digest"]["enabled"] is False
    tick(at("2026-11-29T17:00:00Z"))
    assert len(smtp_server.received) == 1  # nothing more
    # Pressing it again is harmless.
    assert client.post(link, data=ONE_CLICK).status_code == 200


def test_the_get_page_asks_with_a_button_and_changes_nothing(client, ann, link):
    r = client.get(link)
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    form = re.search(r'<form method="post" action="([^"]+)">', page)
    assert form and form.group(1) == link
    assert '<input type="hidden" name="List-Unsubscribe" value="One-Click">' in page
    assert "<button" in page and "a•••@example.com" in page and "ann@example.com" not in page
    # Works under a strict CSP: no script, no inline style.
    assert "<script" not in page and "style=" not in page and "<style" not in page
    csp = r.headers["Content-Security-Policy"]
    assert "form-action 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["Cache-Control"] == "no-store" and r.headers["Referrer-Policy"] == "no-referrer"
    assert user_of(ann).digest_enabled is True  # a mail scanner following the link unsubscribes no one
    # The button's POST (the same form body) does it.
    assert client.post(form.group(1), data=ONE_CLICK).status_code == 200
    assert user_of(ann).digest_enabled is False
    assert "already off" in client.get(link).get_data(as_text=True)


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_or_foreign_link_gets_a_clear_400_page(app, client, ann, link, method):
    token = link.rsplit("/", 1)[1]
    payload, signature = token.split(".")
    # A character inside the signature (the last one carries padding bits, so it could
    # change without changing the bytes), and a payload naming someone else.
    flipped = f"{payload}.{signature[:5]}{'A' if signature[5] != 'A' else 'g'}{signature[6:]}"
    forged = base64.urlsafe_b64encode(b'[999,"0123456789abcdef"]').decode().rstrip("=") + "." + signature
    other_key = make_token("another secret key", user_of(ann))
    for bad in (flipped, forged, token + "x", "not-a-token", other_key, "x" * 600):
        r = getattr(client, method)(f"/unsubscribe/{bad}", data=ONE_CLICK if method == "post" else None)
        assert r.status_code == 400, bad
        assert r.mimetype == "text/html"
        assert "This link does not work" in r.get_data(as_text=True)
    assert user_of(ann).digest_enabled is True


def test_an_old_link_cannot_unsubscribe_a_new_account_with_the_same_address(client, ann, link):
    assert client.delete("/api/me", json={"password": ann["password"]}, headers=ann["headers"]).status_code == 204
    again = member(client, "ann@example.com", "Europe/Berlin", at("2026-11-16T10:00:00Z"))
    r = client.post(link, data=ONE_CLICK)
    assert r.status_code == 200 and "Nothing to unsubscribe" in r.get_data(as_text=True)
    assert user_of(again).digest_enabled is True


def test_the_link_is_signed_for_this_account_only(app, client, ann):
    bob = member(client, "bob@example.com", "Europe/Berlin", at("2026-11-16T10:00:00Z"))
    token = make_token(app.config["SECRET_KEY"], db.session.get(User, bob["user"]["id"]))
    assert client.post(f"/unsubscribe/{token}").status_code == 200  # an empty body is fine too
    assert user_of(bob).digest_enabled is False and user_of(ann).digest_enabled is True


@pytest.mark.parametrize("state", ["ask", "done", "bad"])
def test_every_unsubscribe_page_looks_like_the_app_in_light_and_dark(client, ann, link, state):
    """The page someone lands on from an email wears the app's own stylesheet (which follows
    the phone's light or dark setting), card and buttons, as the account-link pages do."""
    r = client.post(link, data=ONE_CLICK) if state == "done" else client.get(link if state == "ask" else "/unsubscribe/nonsense")
    page = r.get_data(as_text=True)
    assert '<link rel="stylesheet" href="/css/app.css">' in page
    assert '<meta name="color-scheme" content="light dark">' in page
    assert '<body class="page">' in page and '<main class="screen">' in page
    assert '<div class="card">' in page
    if state == "ask":
        assert '<button type="submit" class="primary">' in page
    assert client.get("/css/app.css").status_code == 200  # the page's CSP allows 'self' styles
    assert "style-src 'self'" in r.headers["Content-Security-Policy"] or "default-src 'self'" in r.headers["Content-Security-Policy"]
