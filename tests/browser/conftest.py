"""Browser fixtures: the real app on a loopback port (a thread running werkzeug's server
with a temporary SQLite database) and Debian's Chromium driven by Playwright.

The suite skips with a loud reason when /usr/bin/chromium is missing, except in CI
(`COACH_REQUIRE_BROWSER=1`), where a missing browser is a failure.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
PASSWORD = "calm breaths 123"


def _require_browser():
    if os.path.exists(CHROMIUM):
        return
    reason = f"BROWSER TESTS NOT RUN: {CHROMIUM} is missing (install Debian's chromium: scripts/ensure-chromium)"
    if os.environ.get("COACH_REQUIRE_BROWSER") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """(base_url, app): the coach on 127.0.0.1:<free port> for the whole browser session."""
    from werkzeug.serving import make_server

    from coach import create_app
    from coach.extensions import db

    tmp = tmp_path_factory.mktemp("live")
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "browser-tests",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'coach.sqlite3'}",
        "INSTANCE_PATH": str(tmp / "instance"),
        "RATELIMIT_ENABLED": False,
        "COACH_SCHEDULER": "off",
    })
    with app.app_context():
        db.create_all()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log in the test output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server[0]


@pytest.fixture(scope="session")
def server_app(live_server):
    return live_server[1]


@pytest.fixture(scope="session")
def playwright_instance():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class ConsoleWatch:
    """Collects console errors and uncaught page errors: every screen must be free of them."""

    def __init__(self):
        self.errors: list[str] = []

    def attach(self, page):
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(f"console: {msg.text}"))
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        return page

    def assert_clean(self):
        assert self.errors == [], "errors in the browser console:\n" + "\n".join(self.errors)


@pytest.fixture
def console():
    return ConsoleWatch()


@pytest.fixture
def phone(browser, console):
    """A fresh phone-sized context and page, watched for console errors."""
    context = browser.new_context(**PHONE)
    page = console.attach(context.new_page())
    yield page
    context.close()


@pytest.fixture
def persistent(playwright_instance, console):
    """A persistent (non-incognito) phone context: installability and service workers."""
    user_data = tempfile.mkdtemp(prefix="coach-chromium-")
    context = playwright_instance.chromium.launch_persistent_context(
        user_data, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, **PHONE
    )
    page = console.attach(context.pages[0] if context.pages else context.new_page())
    yield context, page
    context.close()
    shutil.rmtree(user_data, ignore_errors=True)


def new_email() -> str:
    return f"b-{uuid.uuid4().hex[:10]}@example.com"


def sign_up(page, base_url: str, email: str | None = None) -> str:
    """Create an account through the onboarding screen and pass the safety note."""
    email = email or new_email()
    page.goto(f"{base_url}/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("button", name="I understand").click()
    page.get_by_role("heading", level=1).filter(has_text="Good").wait_for()
    return email


def pwa_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "pwa"
