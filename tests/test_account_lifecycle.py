"""The account lifecycle through the real tick and a real SMTP server on loopback, each
message parsed back: confirmation, password reset, password change, address change."""
from __future__ import annotations

import re
import threading
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import unquote

import pytest
from sqlalchemy import event, select

from coach.api import accounts as accounts_api
from coach.extensions import db
from coach.models import AccountEmail, AuthToken, User, utcnow
from coach.planning import next_send
from coach.tick.scheduler import tick
from tests.helpers.accounts import PASSWORD, signup
from tests.helpers.digest import html_part, text_part

MAIL_FROM = "Vagal-tone coach <coach@coach.example>"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def app_config(smtp_server):
    return {"MAIL_URL": smtp_server.url(), "MAIL_FROM": MAIL_FROM}


def run_tick(now=None):
    report = tick(now or utcnow())
    assert report.failed == [], report
    return report


def link_token(msg: EmailMessage, screen: str) -> str:
    """The token of the app link (`/#/<screen>?token=…`) in the text part; the HTML part and
    the server-page link carry the same one."""
    text = text_part(msg)
    match = re.search(rf"https://coach\.example/#/{screen}\?token=(\S+)", text)
    assert match, text
    token = unquote(match.group(1))
    assert f"https://coach.example/{screen}/{token}" in text
    assert token in html_part(msg)
    return token


def only_message(smtp, address: str) -> EmailMessage:
    messages = smtp.messages_to(address)
    assert len(messages) == 1, [m["Subject"] for m in messages]
    return messages[0]


def register(client, email, timezone="Europe/Berlin"):
    r = client.post("/api/auth/register", json={"email": email, "password": PASSWORD, "timezone": timezone})
    assert r.status_code == 201, r.get_json()
    r = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    return {"headers": {"Authorization": f"Bearer {r.get_json()['token']}"}, "user": r.get_json()["user"], "email": email}


def moved_clock(monkeypatch, delta: timedelta):
    later = utcnow() + delta
    monkeypatch.setattr(accounts_api, "utcnow", lambda: later)


# --- confirmation ----------------------------------------------------------------------------

def test_register_sends_one_confirmation_through_the_tick_and_its_link_confirms_once(client, smtp_server):
    who = register(client, "new@example.com")
    me = client.get("/api/me", headers=who["headers"]).get_json()
    assert me["email_confirmed"] is False and me["language"] == "en"
    assert smtp_server.received == []  # the request only queues: the tick sends
    run_tick()
    run_tick()  # once, however often the tick runs
    msg = only_message(smtp_server, "new@example.com")
    assert msg["To"] == "new@example.com" and msg["From"] == MAIL_FROM
    assert msg.get_content_type() == "multipart/alternative"
    assert "Confirm" in msg["Subject"]
    token = link_token(msg, "confirm")

    r = client.post("/api/auth/confirm", json={"token": token})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["email_confirmed"] is True
    assert client.get("/api/me", headers=who["headers"]).get_json()["email_confirmed"] is True
    again = client.post("/api/auth/confirm", json={"token": token})
    assert again.status_code == 400 and set(again.get_json()) >= {"code", "status", "message"}


@pytest.mark.parametrize("token", ["", "x", "a" * 600, "eyJmb28iOjF9.abc", 42, None])
def test_a_bad_confirmation_token_is_400_or_422(client, token):
    r = client.post("/api/auth/confirm", json={"token": token})
    assert r.status_code in (400, 422) and r.get_json()["code"] == r.status_code


def test_a_tampered_link_is_400(client, smtp_server):
    register(client, "t@example.com")
    run_tick()
    token = link_token(only_message(smtp_server, "t@example.com"), "confirm")
    body, sig = token.rsplit(".", 1)
    assert client.post("/api/auth/confirm", json={"token": body + "." + sig[::-1]}).status_code == 400


def test_a_confirmation_link_expires_after_7_days(client, smtp_server, monkeypatch):
    register(client, "slow@example.com")
    run_tick()
    token = link_token(only_message(smtp_server, "slow@example.com"), "confirm")
    moved_clock(monkeypatch, timedelta(days=7, minutes=5))
    assert client.post("/api/auth/confirm", json={"token": token}).status_code == 400


def test_resend_sends_a_fresh_email_and_nothing_once_confirmed(client, smtp_server):
    who = register(client, "again@example.com")
    run_tick()
    r = client.post("/api/auth/confirm/resend", headers=who["headers"])
    assert r.status_code == 202
    run_tick()
    first, second = smtp_server.messages_to("again@example.com")
    assert first["Message-ID"] != second["Message-ID"]
    assert client.post("/api/auth/confirm", json={"token": link_token(second, "confirm")}).status_code == 200
    # The earlier email's link belonged to the same request for confirmation: used now.
    assert client.post("/api/auth/confirm", json={"token": link_token(first, "confirm")}).status_code == 400
    assert client.post("/api/auth/confirm/resend", headers=who["headers"]).status_code == 202
    run_tick()
    assert len(smtp_server.messages_to("again@example.com")) == 2
    assert client.post("/api/auth/confirm/resend").status_code == 401


def test_no_weekly_summary_to_an_unconfirmed_address_and_one_after_confirming(client, smtp_server):
    """The summary, asked for even for an empty week, waits while the address is unconfirmed."""
    who = register(client, "quiet@example.com")
    run_tick()
    confirmation = only_message(smtp_server, "quiet@example.com")
    user = db.session.get(User, who["user"]["id"])
    user.digest_send_empty = True
    db.session.commit()
    # An edit of the schedule plans nothing while the address is unconfirmed.
    client.patch("/api/me", headers=who["headers"], json={"digest": {"weekday": 6, "local_time": "18:00"}})
    due = next_send(db.session.get(User, who["user"]["id"]), utcnow())  # when it would be due
    for instant in (due, due + timedelta(days=7)):
        run_tick(instant)
    assert [m["Message-ID"] for m in smtp_server.messages_to("quiet@example.com")] == [confirmation["Message-ID"]]
    assert db.session.get(User, who["user"]["id"]).digest_next_at is None

    r = client.post("/api/auth/confirm", json={"token": link_token(confirmation, "confirm")})
    assert r.status_code == 200
    db.session.expire_all()
    planned = db.session.get(User, who["user"]["id"]).digest_next_at
    assert planned is not None
    run_tick(planned)
    summaries = [m for m in smtp_server.messages_to("quiet@example.com") if m["List-Unsubscribe"]]
    assert len(summaries) == 1


def test_register_picks_the_language_from_accept_language(client):
    r = client.post("/api/auth/register", json={"email": "de@example.com", "password": PASSWORD, "timezone": "UTC"},
                    headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert r.status_code == 201
    assert db.session.get(User, r.get_json()["id"]).language == "de"


# --- password reset -----------------------------------------------------------------------

def ask_reset(client, email):
    return client.post("/api/auth/password-reset", json={"email": email})


def test_reset_answers_the_same_for_known_and_unknown_addresses_and_mails_only_the_owner(client, smtp_server):
    who = signup(client, "owner@example.com")
    known, unknown = ask_reset(client, "Owner@Example.com"), ask_reset(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 202
    assert known.get_data() == unknown.get_data()
    assert {k: v for k, v in known.headers if k not in ("X-Request-ID", "Date")} == \
           {k: v for k, v in unknown.headers if k not in ("X-Request-ID", "Date")}
    run_tick()
    assert [r.rcpt_tos for r in smtp_server.received if "password" in r.message["Subject"]] == [["owner@example.com"]]
    # The unknown address is not kept.
    assert db.session.scalar(select(AccountEmail).where(AccountEmail.address == "nobody@example.com")) is None

    token = link_token(only_message(smtp_server, "owner@example.com"), "reset")
    other = client.post("/api/auth/login", json={"email": "owner@example.com", "password": PASSWORD}).get_json()["token"]
    r = client.post("/api/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 204
    # Every token of the account is revoked.
    assert client.get("/api/me", headers=who["headers"]).status_code == 401
    assert client.get("/api/me", headers={"Authorization": f"Bearer {other}"}).status_code == 401
    assert db.session.scalar(select(AuthToken).where(AuthToken.user_id == who["user"]["id"])) is None
    assert client.post("/api/auth/login", json={"email": "owner@example.com", "password": PASSWORD}).status_code == 401
    assert client.post("/api/auth/login", json={"email": "owner@example.com", "password": NEW_PASSWORD}).status_code == 200
    # Once only.
    r = client.post("/api/auth/password-reset/confirm", json={"token": token, "password": "yet another passphrase"})
    assert r.status_code == 400


def test_a_reset_link_used_at_once_from_several_places_works_once(app, client, smtp_server):
    signup(client, "race@example.com")
    ask_reset(client, "race@example.com")
    run_tick()
    token = link_token(only_message(smtp_server, "race@example.com"), "reset")
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def use(i: int) -> None:
        own = app.test_client()
        barrier.wait()
        statuses.append(own.post("/api/auth/password-reset/confirm", json={"token": token, "password": f"passphrase number {i}"}).status_code)

    threads = [threading.Thread(target=use, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [204, 400, 400, 400]


def test_a_reset_link_works_for_one_hour(client, smtp_server, monkeypatch):
    signup(client, "hour@example.com")
    ask_reset(client, "hour@example.com")
    run_tick()
    token = link_token(only_message(smtp_server, "hour@example.com"), "reset")
    moved_clock(monkeypatch, timedelta(minutes=61))
    assert client.post("/api/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}).status_code == 400
    moved_clock(monkeypatch, timedelta(minutes=55))
    assert client.post("/api/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}).status_code == 204


def test_a_reset_link_is_voided_by_a_password_change_and_by_a_newer_link(client, smtp_server):
    who = signup(client, "void@example.com")
    ask_reset(client, "void@example.com")
    run_tick()
    first = link_token(only_message(smtp_server, "void@example.com"), "reset")
    r = client.put("/api/me/password", headers=who["headers"], json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert r.status_code == 204
    assert client.post("/api/auth/password-reset/confirm", json={"token": first, "password": "x" * 12}).status_code == 400

    ask_reset(client, "void@example.com")
    run_tick()
    ask_reset(client, "void@example.com")
    run_tick()
    _, older, newer = smtp_server.messages_to("void@example.com")
    assert client.post("/api/auth/password-reset/confirm", json={"token": link_token(older, "reset"), "password": "x" * 12}).status_code == 400
    assert client.post("/api/auth/password-reset/confirm", json={"token": link_token(newer, "reset"), "password": "y" * 12}).status_code == 204


def test_a_reset_request_does_the_same_work_for_known_and_unknown_addresses(client):
    """Its time tells nothing: the same statements run, whichever address (the look-up
    happens later, in the tick)."""
    signup(client, "known@example.com")
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        ask_reset(client, "known@example.com")
        known = list(statements)
        statements.clear()
        ask_reset(client, "stranger@example.com")
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert known == statements and known


def test_no_reset_email_to_an_unconfirmed_address(client, smtp_server):
    register(client, "unproven@example.com")
    run_tick()
    assert ask_reset(client, "unproven@example.com").status_code == 202
    run_tick()
    assert [m["Subject"] for m in smtp_server.messages_to("unproven@example.com")] == ["Confirm your email address"]


def test_reset_validation(client):
    assert ask_reset(client, "a\x0bb@example.com").status_code == 422
    r = client.post("/api/auth/password-reset/confirm", json={"token": "x", "password": "short"})
    assert r.status_code == 422 and "password" in r.get_json()["errors"]


# --- password change ------------------------------------------------------------------------

def test_password_change_revokes_every_other_token_and_keeps_this_one(client):
    who = signup(client, "pw@example.com")
    other = client.post("/api/auth/login", json={"email": "pw@example.com", "password": PASSWORD}).get_json()["token"]
    r = client.put("/api/me/password", headers=who["headers"], json={"current_password": "wrong password!", "new_password": NEW_PASSWORD})
    assert r.status_code == 403
    assert client.get("/api/me", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    r = client.put("/api/me/password", headers=who["headers"], json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert r.status_code == 204
    assert client.get("/api/me", headers=who["headers"]).status_code == 200
    assert client.get("/api/me", headers={"Authorization": f"Bearer {other}"}).status_code == 401
    assert client.post("/api/auth/login", json={"email": "pw@example.com", "password": NEW_PASSWORD}).status_code == 200
    r = client.put("/api/me/password", headers=who["headers"], json={"current_password": NEW_PASSWORD, "new_password": "short"})
    assert r.status_code == 422


# --- address change -------------------------------------------------------------------------

def test_an_address_change_takes_effect_with_the_new_link_and_the_old_address_is_told(client, smtp_server):
    who = signup(client, "old@example.com")
    r = client.patch("/api/me", headers=who["headers"], json={"email": "New@Example.com"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["email"] == "old@example.com" and body["pending_email"] == "new@example.com" and body["email_confirmed"]
    run_tick()
    notice = only_message(smtp_server, "old@example.com")
    assert "new@example.com" in text_part(notice) and "This wasn't me" in text_part(notice)
    confirm = only_message(smtp_server, "new@example.com")
    r = client.post("/api/auth/confirm", json={"token": link_token(confirm, "confirm")})
    assert r.status_code == 200
    assert r.get_json()["email"] == "new@example.com" and r.get_json()["pending_email"] is None
    assert client.post("/api/auth/login", json={"email": "new@example.com", "password": PASSWORD}).status_code == 200
    assert client.post("/api/auth/login", json={"email": "old@example.com", "password": PASSWORD}).status_code == 401


def test_a_newer_change_voids_the_older_link_and_a_taken_address_is_409(client, smtp_server):
    who = signup(client, "me@example.com")
    signup(client, "taken@example.com")
    assert client.patch("/api/me", headers=who["headers"], json={"email": "TAKEN@example.com"}).status_code == 409
    client.patch("/api/me", headers=who["headers"], json={"email": "first@example.com"})
    client.patch("/api/me", headers=who["headers"], json={"email": "second@example.com"})
    run_tick()
    # The first address's link was voided before the tick: it is not even sent.
    assert smtp_server.messages_to("first@example.com") == []
    assert len(smtp_server.messages_to("second@example.com")) == 1


def not_me_path(msg: EmailMessage) -> str:
    match = re.search(r"https://coach\.example(/not-me/\S+)", text_part(msg))
    assert match, text_part(msg)
    return match.group(1)


def test_this_wasnt_me_undoes_the_change_signs_out_everywhere_and_sends_a_reset(client, smtp_server):
    who = signup(client, "victim@example.com")
    client.patch("/api/me", headers=who["headers"], json={"email": "thief@example.com"})
    run_tick()
    client.post("/api/auth/confirm", json={"token": link_token(only_message(smtp_server, "thief@example.com"), "confirm")})
    path = not_me_path(only_message(smtp_server, "victim@example.com"))
    page = client.get(path)
    assert page.status_code == 200 and b"<form" in page.data  # opening the link changes nothing
    db.session.expire_all()
    assert db.session.get(User, who["user"]["id"]).email == "thief@example.com"
    done = client.post(path)
    assert done.status_code == 200
    db.session.expire_all()
    assert db.session.get(User, who["user"]["id"]).email == "victim@example.com"
    assert client.get("/api/me", headers=who["headers"]).status_code == 401
    run_tick()
    reset = [m for m in smtp_server.messages_to("victim@example.com") if m["Subject"] == "Choose a new password"]
    assert len(reset) == 1
    assert client.post(path).status_code == 400  # once only


def test_an_unconfirmed_account_can_change_its_address_and_nothing_goes_to_the_old_one(client, smtp_server):
    who = register(client, "typo@exmaple.com")
    assert client.patch("/api/me", headers=who["headers"], json={"email": "right@example.com"}).status_code == 200
    run_tick()
    assert [m["Subject"] for m in smtp_server.messages_to("typo@exmaple.com")] == []  # voided before sending
    token = link_token(only_message(smtp_server, "right@example.com"), "confirm")
    me = client.post("/api/auth/confirm", json={"token": token}).get_json()
    assert me["email"] == "right@example.com" and me["email_confirmed"] is True


# --- the server pages: the links work without the app ----------------------------------------

def test_the_confirm_page_confirms_on_its_button_not_on_opening(client, smtp_server):
    who = register(client, "page@example.com")
    run_tick()
    token = link_token(only_message(smtp_server, "page@example.com"), "confirm")
    page = client.get(f"/confirm/{token}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert b'href="/css/app.css"' in page.data and b"<script" not in page.data
    assert client.get("/api/me", headers=who["headers"]).get_json()["email_confirmed"] is False
    done = client.post(f"/confirm/{token}")
    assert done.status_code == 200 and b"confirmed" in done.data
    assert client.get("/api/me", headers=who["headers"]).get_json()["email_confirmed"] is True
    assert client.post(f"/confirm/{token}").status_code == 400
    assert client.get("/confirm/nonsense").status_code == 200  # the page; its button then says it does not work
    assert client.post("/confirm/nonsense").status_code == 400


def test_the_reset_page_sets_a_new_password(client, smtp_server):
    who = signup(client, "form@example.com")
    ask_reset(client, "form@example.com")
    run_tick()
    token = link_token(only_message(smtp_server, "form@example.com"), "reset")
    page = client.get(f"/reset/{token}")
    assert page.status_code == 200 and b'autocomplete="new-password"' in page.data
    short = client.post(f"/reset/{token}", data={"password": "short"})
    assert short.status_code == 422 and b"at least 10" in short.data
    assert client.post(f"/reset/{token}", data={"password": NEW_PASSWORD}).status_code == 200
    assert client.get("/api/me", headers=who["headers"]).status_code == 401
    assert client.post("/api/auth/login", json={"email": "form@example.com", "password": NEW_PASSWORD}).status_code == 200
    assert client.post(f"/reset/{token}", data={"password": "another passphrase"}).status_code == 400


# --- the account-mail step: failures -----------------------------------------------------------

def test_a_temporary_refusal_is_retried_later_and_sent_once(client, smtp_server):
    smtp_server.handler.refuse["busy@example.com"] = "450 4.2.1 Mailbox busy, try later"
    register(client, "busy@example.com")
    start = utcnow()
    report = run_tick(start)
    assert smtp_server.messages_to("busy@example.com") == []
    row = db.session.scalar(select(AccountEmail).where(AccountEmail.address == "busy@example.com"))
    assert row.status == "queued" and row.due_at > start
    run_tick(start)  # not yet due again
    assert smtp_server.handler.attempts.count("busy@example.com") == 1
    del smtp_server.handler.refuse["busy@example.com"]
    retry = row.due_at
    run_tick(retry)
    run_tick(retry + timedelta(minutes=10))
    assert len(smtp_server.messages_to("busy@example.com")) == 1
    assert report.counts["account_mail"] == 0
    db.session.expire_all()
    assert db.session.get(AccountEmail, row.id).status == "sent"


def test_a_permanent_refusal_is_recorded_and_not_retried(client, smtp_server):
    smtp_server.handler.refuse["gone@example.com"] = "550 5.1.1 No such user"
    register(client, "gone@example.com")
    run_tick()
    run_tick(utcnow() + timedelta(hours=2))
    assert smtp_server.handler.attempts.count("gone@example.com") == 1
    db.session.expire_all()
    row = db.session.scalar(select(AccountEmail).where(AccountEmail.address == "gone@example.com"))
    assert row.status == "failed" and row.due_at is None and row.detail.startswith("550")


def test_handled_rows_are_kept_31_days_then_removed(client, smtp_server):
    register(client, "old-row@example.com")
    run_tick()
    first = db.session.scalar(select(AccountEmail.id).where(AccountEmail.address == "old-row@example.com"))
    register(client, "later@example.com")
    run_tick(utcnow() + timedelta(days=30))
    db.session.expire_all()
    assert db.session.get(AccountEmail, first) is not None  # a "this wasn't me" link can still need its row
    smtp_server.handler.refuse["waiting@example.com"] = "450 4.2.1 Mailbox busy, try later"
    register(client, "waiting@example.com")
    run_tick(utcnow() + timedelta(days=32))
    db.session.expire_all()
    assert db.session.get(AccountEmail, first) is None
    # A row still waiting to be sent is never removed, however old.
    assert db.session.scalar(select(AccountEmail.status).where(AccountEmail.address == "waiting@example.com")) == "queued"
