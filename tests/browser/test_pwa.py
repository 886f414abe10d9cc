"""The installable front end in Debian's Chromium, against the real app (no API mocks).

Time-dependent parts run under Playwright's clock, so a 20-minute session takes seconds.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from coach.extensions import db
from coach.models import PracticeSession, User
from tests.helpers.browser import PASSWORD, PHONE, sign_up

pytestmark = pytest.mark.browser


def server_sessions(app, email):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        rows = db.session.scalars(select(PracticeSession).where(PracticeSession.user_id == user.id)).all()
        out = [
            {
                "uuid": str(r.uuid),
                "routine": r.routine,
                "pre_mood": r.pre_mood,
                "post_mood": r.post_mood,
                "post_anxiety": r.post_anxiety,
                "post_note": r.post_note,
                "completed_cycles": r.completed_cycles,
            }
            for r in rows
        ]
        db.session.remove()
        return out


def wait_for(predicate, timeout=10.0, what="condition"):
    """Polls the server side (the database), which Playwright's expect cannot see."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def set_rating(page, mood, anxiety, energy):
    for label, value in (("Mood", mood), ("Anxiety", anxiety), ("Energy", energy)):
        page.get_by_label(label, exact=True).fill(str(value))


def start_routine(page, base_url, slug, minutes=None, pre=None):
    page.goto(f"{base_url}/#/run/{slug}")
    page.get_by_role("button", name="Continue").wait_for()
    if minutes:
        page.get_by_label("Length").select_option(str(minutes))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Before you start").wait_for()
    if pre:
        set_rating(page, *pre)
        page.get_by_role("button", name="Start", exact=True).click()
    else:
        page.get_by_role("button", name="Skip and start").click()
    page.locator(".pacer").wait_for()


def test_installable_controlled_by_the_worker_and_opens_offline(persistent, base_url):
    context, page = persistent
    page.goto(f"{base_url}/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
    cdp = context.new_cdp_session(page)
    errors = None
    for _ in range(30):  # the manifest and icons load after the page; ask until they have
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        if not errors:
            break
        time.sleep(0.2)
    assert errors == [], errors
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"].endswith("/manifest.webmanifest") and not manifest["errors"]

    email = sign_up(page, base_url)
    assert email
    page.goto(f"{base_url}/#/library")
    page.get_by_role("link", name="Box breathing").wait_for()  # the list is now kept on the phone

    context.set_offline(True)
    page.reload()
    page.get_by_role("heading", name="Routines").wait_for()
    page.get_by_role("link", name="Box breathing").wait_for()
    assert page.get_by_text("Offline: showing the routines saved on this phone.").is_visible()
    page.goto(f"{base_url}/#/")
    page.locator("h1", has_text="Good").wait_for()
    assert page.locator("#tabs").is_visible()
    context.set_offline(False)


def test_a_full_session_at_phone_size_lands_once(phone, base_url, server_app, console):
    page = phone
    page.clock.install()
    email = sign_up(page, base_url)

    page.goto(f"{base_url}/#/run/4-7-8")
    # A routine with breath holds shows the water and driving warning before anything starts.
    page.get_by_text("Never in or near water, never while driving; seated or lying down.").wait_for()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Before you start").wait_for()
    set_rating(page, 4, 6, 3)
    assert page.locator("output[for=rate-mood]").inner_text() == "4"
    page.get_by_role("button", name="Start", exact=True).click()

    page.locator(".pacer").wait_for()
    assert page.locator(".phase-word").inner_text() == "Breathe in"
    page.clock.run_for(4_500)
    assert page.locator(".phase-word").inner_text() == "Hold"
    page.clock.run_for(4 * 19_000)  # 4 cycles of 4 + 7 + 8 s
    page.get_by_role("heading", name="How do you feel now?").wait_for()
    set_rating(page, 7, 2, 5)
    page.get_by_label("Note").fill("Calmer, warm hands")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Mood +3, anxiety −4, energy +2").wait_for()

    rows = wait_for(
        lambda: [r for r in server_sessions(server_app, email) if r["post_mood"] is not None] and server_sessions(server_app, email),
        what="the session with its post rating on the server",
    )
    assert len(rows) == 1
    row = rows[0]
    assert (row["routine"], row["pre_mood"], row["post_mood"], row["post_anxiety"]) == ("4-7-8", 4, 7, 2)
    assert row["completed_cycles"] == 4 and row["post_note"] == "Calmer, warm hands"

    page.get_by_role("link", name="History", exact=True).click()
    item = page.locator(f'li.session[data-uuid="{row["uuid"]}"]')
    item.wait_for()
    assert "4-7-8 breathing" in item.inner_text() and "Mood 4 → 7" in item.inner_text()
    assert page.locator("li.session").count() == 1
    page.get_by_role("heading", name="Mood before and after").wait_for()
    console.assert_clean()


def test_a_session_finished_offline_is_stored_once_when_back_online(phone, base_url, server_app):
    page = phone
    page.clock.install()
    email = sign_up(page, base_url)
    start_routine(page, base_url, "4-7-8", pre=(3, 7, 4))
    page.context.set_offline(True)
    page.clock.run_for(4 * 19_000 + 500)
    page.get_by_role("heading", name="How do you feel now?").wait_for()
    set_rating(page, 6, 3, 5)
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved on this phone; it will be sent when you are back online.").wait_for()
    page.clock.run_for(10_000)  # a back-off retry or two, still offline
    assert server_sessions(server_app, email) == []

    page.goto(f"{base_url}/#/history")
    page.get_by_text("On this phone, not sent yet").wait_for()

    page.context.set_offline(False)  # the `online` event sends the outbox
    rows = wait_for(lambda: server_sessions(server_app, email), what="the offline session on the server")
    page.reload()  # app start syncs again: still one row
    page.locator("h1", has_text="History").wait_for()
    page.clock.run_for(5_000)
    rows = server_sessions(server_app, email)
    assert len(rows) == 1
    assert (rows[0]["pre_mood"], rows[0]["post_mood"], rows[0]["completed_cycles"]) == (3, 6, 4)
    page.get_by_text("On this phone, not sent yet").wait_for(state="detached")


def test_pacer_boundaries_over_20_minutes_stay_within_17_ms_of_the_plan(phone, base_url):
    page = phone
    page.clock.install()
    sign_up(page, base_url)
    # The test takes its own timestamps (the page clock when each phase event arrives), so
    # a pacer that kept its own wrong time could not vouch for itself.
    page.evaluate("window.__phases = []; document.addEventListener('coach:phase', (e) => "
                  "window.__phases.push({ action: e.detail.action, now: performance.now() }))")
    start_routine(page, base_url, "resonance", minutes=20)
    # Every 5 s the main thread "stalls" for 40 ms (fast_forward fires overdue timers once,
    # late), always mid-phase. A pacer that counted ticks would lose 40 ms per stall, 9.6 s
    # in all; one that reads the elapsed time against the plan loses nothing.
    page.clock.run_for(2_000)
    for _ in range(240):
        page.clock.fast_forward(40)
        page.clock.run_for(4_960)
    page.clock.run_for(2_000)
    page.get_by_role("heading", name="How do you feel now?").wait_for()
    phases = page.evaluate("window.__phases")

    # The plan, computed here: resonance at the default 6 breaths a minute is 4 s in, 6 s out.
    planned = []
    for cycle in range(120):
        planned += [("inhale", cycle * 10_000), ("exhale", cycle * 10_000 + 4_000)]
    assert [p["action"] for p in phases] == [a for a, _ in planned]
    start = phases[0]["now"]
    errors = [p["now"] - start - t for p, (_, t) in zip(phases, planned)]
    worst = max(abs(e) for e in errors)
    assert worst <= 17, f"a phase boundary was {worst:.1f} ms off the plan"
    # Never early (the 1 ms allowed is the page clock's own grain between start and the first event).
    assert min(errors) >= -1


def test_reduced_motion_shows_the_still_alternative(browser, base_url, console):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, reduced_motion="reduce")
    page = console.attach(context.new_page())
    page.clock.install()
    sign_up(page, base_url)
    start_routine(page, base_url, "box")
    pacer = page.locator(".pacer")
    assert pacer.get_attribute("data-calm") == "true"
    assert page.locator(".calm").is_visible() and not page.locator(".orb").is_visible()
    page.clock.run_for(2_000)
    assert page.locator(".phase-word").inner_text() == "Breathe in"
    page.clock.run_for(2_500)
    assert page.locator(".phase-word").inner_text() == "Hold"
    width = page.locator(".calm-fill").evaluate("el => el.style.width")
    assert width.endswith("%")
    page.get_by_role("button", name="End early").click()
    page.get_by_role("heading", name="Ended early: how do you feel now?").wait_for()
    console.assert_clean()
    context.close()


def test_every_screen_opens_without_console_errors(phone, base_url, console):
    page = phone
    sign_up(page, base_url)
    screens = {
        "#/": "Good",
        "#/library": "Routines",
        "#/library?kind=cold": "Routines",
        "#/routine/cold-face": "Cold face immersion",
        "#/run/cold-face": "Cold face immersion",
        "#/routine/power-breathing": "Power breathing",
        "#/history": "History",
        "#/settings": "Settings",
        "#/reminders": "Reminders",
        "#/editor": "New routine",
        "#/screening": "Safety questions",
    }
    for hash_, heading in screens.items():
        page.goto(f"{base_url}/{hash_}")
        page.locator("h1", has_text=heading).wait_for()
        page.wait_for_load_state("networkidle")
    # The cold start screen carries its own water rule and the optional temperature.
    page.goto(f"{base_url}/#/run/cold-face")
    page.get_by_text("Never hold your breath with your face in the water.", exact=False).wait_for()
    assert page.get_by_label("Water temperature in °C (optional)").is_visible()
    console.assert_clean()


# Each screen that waits for the API before it draws, with the call it waits for.
SLOW_SCREENS = {
    "#/": "/api/insights",
    "#/plans": "/api/plans",
    "#/plan/resonance-4-weeks": "/api/plans/resonance-4-weeks",
    "#/what-helps": "/api/insights/what-helps",
    "#/settings": "/api/me",
    "#/reminders": "/api/reminders",
    "#/screening": "/api/me/screening",
    "#/help": "/api/care/resources",
    "#/routine/box": "/api/routines/box",
}


def test_a_screen_left_while_it_loads_never_draws_over_the_next(browser, base_url, console):
    """Open a screen, leave for the library before its data arrives, then let the data
    arrive: the library stays (a late screen drawing over it would hide where one went)."""
    # The service worker is blocked so that every API call reaches page.route.
    context = browser.new_context(**PHONE, service_workers="block")
    page = console.attach(context.new_page())
    sign_up(page, base_url)
    for hash_, path in SLOW_SCREENS.items():
        page.goto(f"{base_url}/#/library")
        page.locator("h1", has_text="Routines").wait_for()
        held = []
        waits = lambda url, path=path: urlsplit(url).path == path  # noqa: E731
        page.route(waits, lambda route: held.append(route))
        page.evaluate("(h) => { location.hash = h; }", hash_)
        deadline = time.monotonic() + 10
        while not held and time.monotonic() < deadline:
            page.wait_for_timeout(20)
        assert held, f"{hash_} did not call {path}"
        page.evaluate("() => { location.hash = '#/library?kind=cold'; }")
        page.locator("h1", has_text="Routines").wait_for()
        for route in held:
            route.continue_()
        for route in held:
            route.request.response()
        page.unroute(waits)
        page.wait_for_timeout(300)  # a late screen would have drawn by now
        assert page.locator("h1").inner_text() == "Routines", f"{hash_} drew over the library"
        assert page.evaluate("() => location.hash") == "#/library?kind=cold"
    context.close()
    console.assert_clean()


def test_custom_routine_from_the_editor(phone, base_url, console):
    page = phone
    sign_up(page, base_url)
    page.goto(f"{base_url}/#/editor")
    page.get_by_label("Name").fill("Evening ease")
    page.get_by_label("Phase 1 seconds").fill("4.5")
    page.get_by_label("Phase 2 seconds").fill("6.5")
    page.get_by_label("for a number of minutes").check()
    page.get_by_label("Minutes", exact=True).fill("5.5")
    page.get_by_text("One round 11 s · 30 rounds · 5 min 30 s in all").wait_for()
    page.get_by_role("button", name="Save routine").click()
    page.locator("h1", has_text="Evening ease").wait_for()
    assert page.get_by_text("Breathe in: 4.5 s").is_visible()
    assert page.get_by_text("Breathe out: 6.5 s").is_visible()
    console.assert_clean()


def test_a_push_message_shows_the_reminder_and_points_at_its_routine(persistent, base_url):
    context, page = persistent
    context.grant_permissions(["notifications"], origin=base_url)
    page.goto(f"{base_url}/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
    cdp = context.new_cdp_session(page)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")
    for _ in range(50):
        mine = [r for r in registrations if r["scopeURL"] == f"{base_url}/" and not r.get("isDeleted")]
        if mine:
            break
        page.wait_for_timeout(100)
    assert mine, registrations
    # The payload as the server sends it; its url names the public origin, not this one.
    payload = {"type": "reminder", "title": "Time for a few slow breaths", "body": "Box breathing, five minutes",
               "routine": "box", "url": "https://coach.example/#/run/box"}
    cdp.send("ServiceWorker.deliverPushMessage",
             {"origin": base_url, "registrationId": mine[0]["registrationId"], "data": json.dumps(payload)})
    shown = []
    for _ in range(50):
        shown = page.evaluate("""() => navigator.serviceWorker.ready
            .then((reg) => reg.getNotifications())
            .then((list) => list.map((n) => ({ title: n.title, body: n.body, url: n.data && n.data.url })))""")
        if shown:
            break
        page.wait_for_timeout(100)
    assert shown == [{"title": "Time for a few slow breaths", "body": "Box breathing, five minutes",
                      "url": f"{base_url}/#/run/box"}]


def test_refused_notifications_are_explained_and_reminders_still_work(phone, base_url, console):
    page = phone
    sign_up(page, base_url)
    page.goto(f"{base_url}/#/reminders")
    page.get_by_role("button", name="Turn on notifications").click()  # the browser says no
    page.get_by_text("Notifications are blocked for the coach. That is fine: your reminders are kept.").wait_for()
    page.get_by_role("button", name="Add a reminder").click()
    page.get_by_label("Time").fill("06:45")
    page.get_by_label("Sat").uncheck()
    page.get_by_label("Sun").uncheck()
    page.get_by_label("Routine").select_option("cyclic-sighing")
    page.get_by_role("button", name="Add reminder").click()
    item = page.locator("li.reminder")
    item.wait_for()
    text = item.inner_text()
    assert "06:45" in text and "Mon, Tue, Wed, Thu, Fri" in text and "Cyclic sighing" in text and "Next:" in text
    console.assert_clean()


def test_settings_export_then_delete_the_account(phone, base_url, server_app, console):
    page = phone
    email = sign_up(page, base_url)
    page.goto(f"{base_url}/#/settings")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download (JSON)").click()
    data = json.loads(Path(download.value.path()).read_text())
    assert email in json.dumps(data)

    page.get_by_text("Delete account").click()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("I understand this cannot be undone").check()
    page.get_by_role("button", name="Delete my account").click()
    page.get_by_role("button", name="Create account").wait_for()
    with server_app.app_context():
        assert db.session.scalar(select(User).where(User.email == email)) is None
        db.session.remove()
    console.assert_clean()
