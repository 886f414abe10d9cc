"""The account screens in Debian's Chromium against the real app: "forgot password" through
the email link (sent by the tick's account-mail step to a real SMTP server and parsed back),
and confirming the address from the banner."""
from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from coach.extensions import db
from coach.mail import SmtpTransport, parse_mail_url
from coach.models import User, utcnow
from coach.tick.account_mail import send_due
from tests.helpers.accounts import confirm_link_token
from tests.helpers.browser import PASSWORD, sign_up
from tests.helpers.smtp import SmtpServer

pytestmark = pytest.mark.browser
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def send_account_mail(app, smtp) -> None:
    """One run of the tick's account-mail step, to the test's SMTP server."""
    with app.app_context():
        send_due(utcnow(), transport=SmtpTransport(parse_mail_url(smtp.url()), "Coach <coach@example.com>"))
        db.session.remove()


def app_link(smtp, address: str, screen: str, base_url: str) -> str:
    """The app link of the newest message to `address`, pointed at the live server."""
    deadline = time.monotonic() + 10
    while not smtp.messages_to(address) and time.monotonic() < deadline:
        time.sleep(0.05)
    text = smtp.messages_to(address)[-1].get_body(("plain",)).get_content()
    match = re.search(rf"https?://\S+?(/#/{screen}\?token=\S+)", text)
    assert match, text
    return base_url + match.group(1)


def user_id(app, email: str) -> int:
    with app.app_context():
        uid = db.session.scalar(select(User.id).where(User.email == email))
        db.session.remove()
        return uid


def no_sideways_scroll(page):
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1")


def test_forgot_password_by_the_email_link_then_signed_in(phone, base_url, server_app, smtp, console):
    page = phone
    email = sign_up(page, base_url)
    with server_app.app_context():  # confirmed, as a reset goes to confirmed addresses only
        token = confirm_link_token(server_app, user_id(server_app, email))
        assert server_app.test_client().post("/api/auth/confirm", json={"token": token}).status_code == 200
        db.session.remove()
    page.goto(f"{base_url}/#/settings")
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="I already have an account").click()
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_role("heading", name="Forgot your password?").wait_for()
    page.set_viewport_size({"width": 320, "height": 640})
    no_sideways_scroll(page)
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send me a link").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()

    send_account_mail(server_app, smtp)
    page.goto(app_link(smtp, email, "reset", base_url))
    page.get_by_role("heading", name="Choose a new password").wait_for()
    no_sideways_scroll(page)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    # Signed in again with the new password (this phone's data was cleared at logout, so the
    # safety words come first).
    page.get_by_role("button", name="I understand").click()
    page.get_by_role("heading", level=1).filter(has_text="Good").wait_for()
    client = server_app.test_client()
    assert client.post("/api/auth/login", json={"email": email, "password": NEW_PASSWORD}).status_code == 200
    assert client.post("/api/auth/login", json={"email": email, "password": PASSWORD}).status_code == 401
    console.assert_clean()


def test_confirm_from_the_banner(phone, base_url, server_app, smtp, console):
    page = phone
    page.set_viewport_size({"width": 320, "height": 640})
    email = sign_up(page, base_url)
    banner = page.locator("#account-banner")
    banner.get_by_text("Please confirm your email address").wait_for()
    no_sideways_scroll(page)
    banner.get_by_role("button", name="Send again").click()
    banner.get_by_text("Sent. Check your inbox.").wait_for()

    send_account_mail(server_app, smtp)
    assert len(smtp.messages_to(email)) == 2  # at sign-up and again
    page.goto(app_link(smtp, email, "confirm", base_url))
    page.get_by_role("heading", name="Your address is confirmed").wait_for()
    assert banner.is_hidden()
    page.get_by_role("link", name="Continue").click()
    page.get_by_role("heading", level=1).filter(has_text="Good").wait_for()
    assert banner.is_hidden()
    page.reload()
    page.get_by_role("heading", level=1).filter(has_text="Good").wait_for()
    page.wait_for_load_state("networkidle")
    assert banner.is_hidden()
    console.assert_clean()


def test_settings_lists_this_device_and_changes_the_password(phone, base_url, server_app, console):
    page = phone
    email = sign_up(page, base_url)
    other = server_app.test_client().post("/api/auth/login", json={"email": email, "password": PASSWORD},
                                          headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"})
    assert other.status_code == 200
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"{base_url}/#/settings")
    devices = page.locator(".card", has=page.get_by_role("heading", name="Devices"))
    devices.get_by_text("This device").wait_for()
    devices.get_by_text("Firefox on Windows").wait_for()
    no_sideways_scroll(page)
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.get_by_text("Password changed. Your other devices are signed out.").wait_for()
    devices.get_by_text("Firefox on Windows").wait_for(state="detached")
    token = other.get_json()["token"]
    assert server_app.test_client().get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    console.assert_clean()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [320, 768])
def test_account_screens_and_pages_fit_in_light_and_dark(browser, base_url, server_app, console, scheme, width):
    context = browser.new_context(viewport={"width": width, "height": 700}, color_scheme=scheme)
    page = console.attach(context.new_page())
    try:
        background = {"light": "rgb(244, 247, 246)", "dark": "rgb(12, 26, 32)"}[scheme]
        for path, heading in (("/confirm/not-a-real-token", "Confirm your email address"),
                              ("/reset/not-a-real-token", "Choose a new password"),
                              ("/not-me/not-a-real-token", "This wasn't me")):
            page.goto(base_url + path)
            page.get_by_role("heading", name=heading).wait_for()
            assert page.evaluate("getComputedStyle(document.body).backgroundColor") == background
            no_sideways_scroll(page)
        page.goto(base_url + "/confirm/not-a-real-token")
        page.get_by_role("button", name="Confirm my address").click()
        page.get_by_role("heading", name="This link does not work").wait_for()
        no_sideways_scroll(page)
        for hash_, heading in (("#/reset", "Forgot your password?"), ("#/reset?token=x", "Choose a new password")):
            page.goto(f"{base_url}/{hash_}")
            page.get_by_role("heading", name=heading).wait_for()
            no_sideways_scroll(page)
        page.goto(f"{base_url}/#/confirm?token=x")
        page.get_by_role("heading", name="This link does not work").wait_for()
        no_sideways_scroll(page)
    finally:
        context.close()
    # The dead link answers 400 (the page, and the API under the app's screen): expected here.
    assert [e for e in console.errors if "status of 400" not in e] == []
