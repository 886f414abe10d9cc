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

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from coach import create_app
from coach.extensions import db
from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, ConsoleWatch


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
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


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
