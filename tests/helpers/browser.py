"""The browser tests' shared settings and steps: Debian's Chromium and its flags, the phone
the screens are drawn on, a watch on the console, and sign-up through the onboarding screen.
(The fixtures are in tests/browser/conftest.py.)"""
from __future__ import annotations

import uuid

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
