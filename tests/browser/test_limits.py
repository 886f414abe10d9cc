"""A limit reached is shown calmly (issue 13): the server's plain 429 message and how long to
wait, as a note in the page's text colour (not the red of an error), announced politely, and
without overflow at 320 px in light and dark."""
from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from tests.helpers.browser import PHONE, new_email, sign_up

from .test_pwa import server_sessions, set_rating, start_routine


@pytest.fixture
def limited_server(tmp_path_factory):
    """The coach with its rate limits on and fresh counts (the shared live server runs
    without limits). The limiter is one object for every app in the process: its on/off
    switch is put back after, so the shared server stays unlimited."""
    from werkzeug.serving import make_server

    from coach import create_app
    from coach.extensions import db, limiter

    was_enabled = limiter.enabled
    tmp = tmp_path_factory.mktemp("limited")
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "browser-limits",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'coach.sqlite3'}",
        "INSTANCE_PATH": str(tmp / "instance"),
        "RATELIMIT_ENABLED": True,
        "COACH_LIMIT_LOGIN_PER_ADDRESS": "2 per minute",
        "COACH_SCHEDULER": "off",
    })
    with app.app_context():
        db.create_all()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        thread.join(timeout=5)
        limiter.enabled = was_enabled


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_too_many_log_ins_show_a_calm_note_with_the_wait(browser, limited_server, console, scheme):
    base_url, _ = limited_server
    context = browser.new_context(**{**PHONE, "viewport": {"width": 320, "height": 640}}, color_scheme=scheme)
    page = console.attach(context.new_page())
    try:
        page.goto(f"{base_url}/#/welcome?mode=login")
        page.get_by_role("heading", name="Log in").wait_for()
        email = new_email()
        box = page.locator("form p.error")
        for attempt in range(3):
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill("not the password")
            with page.expect_response("**/api/auth/login") as answer:
                page.get_by_role("button", name="Log in").click()
            page.wait_for_function("() => !document.querySelector('button.primary').disabled")
            if attempt < 2:
                assert answer.value.status == 401
                assert box.get_attribute("role") == "alert"
        assert answer.value.status == 429
        text = box.inner_text()
        assert "too many attempts to log in" in text
        assert "You can try again in a minute." in text
        assert box.get_attribute("role") == "status"
        assert "waiting" in box.get_attribute("class")
        colours = page.evaluate("""(el) => {
            const s = getComputedStyle(el), body = getComputedStyle(document.body);
            return {text: s.color, body: body.color, weight: s.fontWeight};
        }""", box.element_handle())
        assert colours["text"] == colours["body"] and colours["weight"] == "400"
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        # Switching to sign-up clears the note.
        page.get_by_role("button", name="Create a new account").click()
        assert box.is_hidden()
        # The 401 that set the token aside is not a console error of ours; failed fetches are.
        console.errors[:] = [e for e in console.errors if "status of 401" not in e and "status of 429" not in e]
        console.assert_clean()
    finally:
        context.close()


def test_the_101st_session_of_a_day_waits_on_the_phone_and_says_why(browser, limited_server, console):
    base_url, app = limited_server
    context = browser.new_context(**PHONE)
    page = console.attach(context.new_page())
    try:
        page.clock.install()
        email = sign_up(page, base_url)
        with app.app_context():  # the day's 100 sessions, already on the server
            from coach.extensions import db
            from coach.models import PracticeSession, User

            user_id = db.session.scalar(select(User.id).where(User.email == email))
            now = datetime.now(timezone.utc)
            db.session.execute(insert(PracticeSession), [
                {"user_id": user_id, "uuid": uuid.uuid4(), "routine": "box", "started_at": now - timedelta(hours=1),
                 "created_at": now, "updated_at": now} for _ in range(100)
            ])
            db.session.commit()
            db.session.remove()
        start_routine(page, base_url, "4-7-8", pre=(3, 7, 4))
        page.clock.run_for(4 * 19_000 + 500)
        page.get_by_role("heading", name="How do you feel now?").wait_for()
        set_rating(page, 6, 3, 5)
        page.get_by_role("button", name="Save").click()
        # Said calmly on the result screen, where "Saved." stood ...
        page.get_by_text("Saved on this phone. You have saved 100 new sessions today").wait_for()
        assert page.locator("p.error:not([hidden])").count() == 0
        # ... kept on the phone (not refused for good), and said again in the history.
        assert len(server_sessions(app, email)) == 100
        page.goto(f"{base_url}/#/history")
        badge = page.locator("li.session p.badge", has_text="On this phone, not sent yet")
        badge.wait_for()
        assert "New ones can be saved again tomorrow" in badge.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        console.errors[:] = [e for e in console.errors if "status of 429" not in e]
        console.assert_clean()
    finally:
        context.close()
