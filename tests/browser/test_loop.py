"""The daily loop in Chromium (issue 14): reminder → practice → rating, with what the server
really produces (the push payload a tick sends, decrypted by the loopback push service)."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from coach.extensions import db
from coach.models import Reminder, User
from coach.push import vapid
from coach.tick.scheduler import tick
from tests.helpers.browser import PASSWORD, PHONE, sign_up
from tests.helpers.push import PushService

from .test_pwa import server_sessions, wait_for

pytestmark = pytest.mark.browser


def api(base_url, token, method, path, body=None):
    req = urllib.request.Request(
        f"{base_url}{path}", method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as exc:
        exc.msg = f"{exc.msg} {method} {path}: {exc.read().decode(errors='replace')}"
        raise


def page_token(page):
    return page.evaluate("""() => new Promise((resolve) => {
        const req = indexedDB.open('coach');
        req.onsuccess = () => {
          const get = req.result.transaction('kv').objectStore('kv').get('token');
          get.onsuccess = () => resolve(get.result);
        };
    })""")


@pytest.fixture
def server_push(server_app, base_url):
    """The live app sending to a loopback push service, its links naming the live origin."""
    saved = {k: server_app.config.get(k) for k in ("COACH_PUBLIC_URL", "COACH_PUSH_INSECURE_HOSTS")}
    server_app.config.update(COACH_PUBLIC_URL=base_url, COACH_PUSH_INSECURE_HOSTS=["127.0.0.1"])
    with server_app.app_context():
        key = vapid.public_key(vapid.load(server_app))
    with PushService(app_server_key=key) as service:
        yield service
        assert service.errors == [], service.errors
    server_app.config.update(saved)


def reminder_payload(server_app, base_url, push, token, routine):
    """Subscribe a loopback device, add a reminder, run the tick at its time: the decrypted
    payload exactly as the server sent it."""
    device = push.device()
    api(base_url, token, "POST", "/api/push/subscriptions", device.subscription())
    rid = api(base_url, token, "POST", "/api/reminders",
              {"local_time": "07:30", "weekdays": list(range(7)), "routine": routine, "enabled": True})["id"]
    with server_app.app_context():
        due = db.session.scalar(select(Reminder.next_fire_at).where(Reminder.id == rid))
        tick(due + timedelta(seconds=1))
        db.session.remove()
    sent = push.delivered_to(device)
    assert len(sent) == 1
    return sent[0].payload


def the_worker(context, page, base_url):
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
    return next(w for w in context.service_workers if w.url == f"{base_url}/sw.js")


def show_push(context, page, base_url, payload):
    """Deliver the payload to the real worker's push handler; return its notification's data."""
    cdp = context.new_cdp_session(page)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")
    mine = []
    for _ in range(50):
        mine = [r for r in registrations if r["scopeURL"] == f"{base_url}/" and not r.get("isDeleted")]
        if mine:
            break
        page.wait_for_timeout(100)
    # On a loaded machine the worker may be stopped and started again around a delivery; a
    # push service retries too, so the test delivers again (same tag: one notification).
    for _attempt in range(3):
        cdp.send("ServiceWorker.deliverPushMessage",
                 {"origin": base_url, "registrationId": mine[0]["registrationId"], "data": json.dumps(payload)})
        for _ in range(50):
            shown = page.evaluate("""() => navigator.serviceWorker.ready.then((reg) => reg.getNotifications())
                .then((list) => list.map((n) => ({ title: n.title, url: n.data && n.data.url })))""")
            if shown:
                return shown
            page.wait_for_timeout(100)
    raise AssertionError("no notification shown")


# The tap, through the worker's own notificationclick listener. Headless Chromium cannot tap a
# system notification, and only a real tap lends the worker the right to focus or open a
# window; so focus() is allowed and openWindow() records the url it is asked to open (the
# test then opens that url, as the phone would).
TAP = """async () => {
  const opened = [];
  WindowClient.prototype.focus = async function focus() { return this; };
  Object.defineProperty(self.clients, 'openWindow', { configurable: true, value: async (url) => { opened.push(url); return null; } });
  const [n] = await self.registration.getNotifications();
  const ev = new NotificationEvent('notificationclick', { notification: n });
  let work = null;
  Object.defineProperty(ev, 'waitUntil', { value: (p) => { work = p; } });
  self.dispatchEvent(ev);
  await work;
  return opened;
}"""


def test_tapping_a_reminder_opens_its_routine(persistent, base_url, server_app, server_push, console):
    context, page = persistent
    context.grant_permissions(["notifications"], origin=base_url)
    page.clock.install()
    sign_up(page, base_url)
    payload = reminder_payload(server_app, base_url, server_push, page_token(page), "box")
    assert payload["routine"] == "box"
    worker = the_worker(context, page, base_url)

    # A window is open (on another screen): the tap brings it to the routine's start.
    page.goto(f"{base_url}/#/history")
    page.locator("h1", has_text="History").wait_for()
    show_push(context, page, base_url, payload)
    assert worker.evaluate(TAP) == []
    page.locator("h1", has_text="Box breathing").wait_for()
    assert page.evaluate("() => location.hash") == "#/run/box"
    # The whole session, from the tap to the saved rating.
    page.get_by_label("Length").select_option("2")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Skip and start").click()
    page.locator(".pacer").wait_for()
    page.clock.run_for(125_000)
    page.get_by_role("heading", name="How do you feel now?").wait_for()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Well done").wait_for()
    token = page_token(page)
    for _ in range(50):
        listed = api(base_url, token, "GET", "/api/sessions")
        items = listed["items"] if isinstance(listed, dict) else listed
        if items:
            break
        page.clock.run_for(200)
    assert [x["routine"] for x in items] == ["box"]

    # No window open: the worker opens the routine's page.
    page.goto(f"{base_url}/#/")
    page.locator("h1", has_text="Good").wait_for()
    show_push(context, page, base_url, payload)
    opened = worker.evaluate(TAP.replace("const [n] =", "self.clients.matchAll = async () => []; const [n] ="))
    assert opened == [f"{base_url}/#/run/box"]
    fresh = context.new_page()
    fresh.goto(opened[0])
    fresh.locator("h1", has_text="Box breathing").wait_for()
    fresh.get_by_role("button", name="Continue").wait_for()
    console.assert_clean()


def test_opening_the_app_straight_onto_a_routine_still_sends_the_outbox(phone, base_url, server_app, console):
    """The outbox, the worker and the tap listener start at launch, not after the first
    screen is done: a session waiting on the phone is sent while a routine's start shows."""
    page = phone
    email = sign_up(page, base_url)
    waiting = "7b0c8a52-3f57-4c4e-9a8e-1d2f3a4b5c6d"
    page.evaluate("""(uuid) => new Promise((resolve, reject) => {
        const req = indexedDB.open('coach');
        req.onsuccess = () => {
          const db = req.result;
          const kv = db.transaction('kv').objectStore('kv').get('userId');
          kv.onsuccess = () => {
            const t = db.transaction('sessions', 'readwrite');
            t.objectStore('sessions').put({
              uuid, routine: 'extended-exhale', name: 'Extended exhale', state: 'done', sync: 'pending', owner: kv.result,
              started_at: new Date(Date.now() - 600000).toISOString(), ended_at: new Date(Date.now() - 300000).toISOString(),
              completed_cycles: 30, pre: { mood: 4, anxiety: 6, energy: 4 },
            });
            t.oncomplete = () => resolve();
            t.onerror = () => reject(t.error);
          };
        };
    })""", waiting)
    page.goto(f"{base_url}/#/run/box")
    page.reload()
    page.get_by_role("button", name="Continue").wait_for()
    wait_for(lambda: any(r["uuid"] == waiting for r in server_sessions(server_app, email)), timeout=8,
             what="the waiting session sent while the routine's start screen shows")
    assert page.evaluate("() => navigator.serviceWorker.getRegistration().then((r) => !!r)")
    assert page.get_by_role("button", name="Continue").is_visible()
    console.assert_clean()


NOSE_OR_HOLD = ("nose", "hold your breath", "breath hold", "hold the breath")


def test_cold_face_shows_its_own_cue_at_every_phase_and_its_own_water_rule(phone, base_url, console):
    page = phone
    page.clock.install()
    sign_up(page, base_url)
    page.goto(f"{base_url}/#/run/cold-face")
    page.get_by_role("button", name="Continue").wait_for()
    intro = page.locator("#view").inner_text()
    assert "Never hold your breath with your face in the water." in intro
    assert "Breath holds and fast breathing" not in intro
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Skip and start").click()
    page.locator(".pacer").wait_for()

    cue = page.locator(".phase-cue")
    word = page.locator(".phase-word")
    # (seconds since start, the word, the cue): prepare 60 s, dips of 30 s with 30 s rests.
    expected = [
        (1, "Get ready", "Fill a bowl with 10–15 °C water (add ice if needed). Sit at a table, towel and snorkel ready."),
        (61, "Cold", "Face in up to the temples; breathe slowly through the snorkel."),
        (67, "Cold", "Face in up to the temples; breathe slowly through the snorkel."),
        (73, "Cold", "Face in up to the temples; breathe slowly through the snorkel."),
        (89, "Cold", "Face in up to the temples; breathe slowly through the snorkel."),
        (95, "Rest", "Lift out, breathe normally, dry your eyes."),
        (126, "Cold", "Face in again; slow, easy breaths through the snorkel."),
        (137, "Cold", "Face in again; slow, easy breaths through the snorkel."),
        (185, "Cold", "Last dip; slow, easy breaths."),
        (196, "Cold", "Last dip; slow, easy breaths."),
        (215, "Rest", "Done. Dry your face and sit quietly for a minute."),
    ]
    now = 0
    for at, want_word, want_cue in expected:
        page.clock.run_for((at - now) * 1000)
        now = at
        got = (word.inner_text(), cue.inner_text())
        assert got == (want_word, want_cue), f"at {at} s: {got}"
        assert not any(w in got[1].lower() for w in NOSE_OR_HOLD), f"at {at} s: {got[1]}"
    console.assert_clean()


def test_the_water_free_cold_routine_and_each_routines_water_rule(phone, base_url, console):
    page = phone
    sign_up(page, base_url)
    page.goto(f"{base_url}/#/routine/cold-cloth")
    page.locator("h1", has_text="Cold cloth on the face").wait_for()
    text = page.locator("#view").inner_text()
    assert "Jungmann et al. 2018" in text and "no water" in text.lower()
    assert "in or near water" not in text and "face in the water" not in text
    rules = {
        ("cold-shower", "Cold shower"): "In cold water, keep breathing slowly",
        ("cold-plunge", "Cold plunge"): "In cold water, keep breathing slowly",
        ("4-7-8", "4-7-8"): "Breath holds and fast breathing: Never in or near water",
        ("power-breathing", "Power breathing"): "Breath holds and fast breathing: Never in or near water",
    }
    for (slug, name), rule in rules.items():
        page.goto(f"{base_url}/#/routine/{slug}")
        page.locator("#view h1", has_text=name).wait_for()
        warning = page.locator(".warning").first.inner_text()
        assert rule in warning, (slug, warning)
    page.goto(f"{base_url}/#/routine/resonance")
    page.locator("h1", has_text="Resonance").wait_for()
    assert page.locator(".warning").count() == 0
    console.assert_clean()


def add_reminder(page, time="06:45"):
    page.get_by_role("button", name="Add a reminder").click()
    page.get_by_label("Time").fill(time)
    page.get_by_role("button", name="Add reminder").click()
    page.locator("li.reminder").first.wait_for()


def test_turning_on_notifications_never_spins_forever(browser, base_url, console):
    """No service worker can start (private mode, blocked): `serviceWorker.ready` never
    settles. The button gives up, says so in plain words, and reminders say they cannot
    reach this phone."""
    context = browser.new_context(**PHONE, service_workers="block")
    context.grant_permissions(["notifications"], origin=base_url)
    page = console.attach(context.new_page())
    page.clock.install()
    sign_up(page, base_url)
    page.goto(f"{base_url}/#/reminders")
    button = page.get_by_role("button", name="Turn on notifications")
    button.click()
    page.clock.run_for(25_000)
    page.get_by_text("did not answer in time", exact=False).wait_for()
    assert page.get_by_role("button", name="Turn on notifications").is_enabled()
    add_reminder(page)
    assert "Will not reach this phone" in page.locator("li.reminder").first.inner_text()
    context.close()
    console.assert_clean()


def test_turning_on_notifications_offline_says_so(phone, base_url, console):
    page = phone
    page.context.grant_permissions(["notifications"], origin=base_url)
    sign_up(page, base_url)
    page.goto(f"{base_url}/#/reminders")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
    page.context.set_offline(True)
    page.get_by_role("button", name="Turn on notifications").click()
    page.get_by_text("No connection", exact=False).wait_for(timeout=10000)
    page.context.set_offline(False)
    console.errors.clear()  # the browser logs the failed fetch itself


def log_in(page, base_url, email):
    page.goto(f"{base_url}/")
    page.get_by_role("button", name="I already have an account").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.locator("h1", has_text="Good").or_(page.get_by_role("button", name="I understand")).first.wait_for()


def test_a_plan_begun_on_one_phone_shows_on_another_and_can_be_stopped(browser, base_url, console):
    one = console.attach(browser.new_context(**PHONE).new_page())
    email = sign_up(one, base_url)
    one.goto(f"{base_url}/#/plan/resonance-4-weeks")
    one.get_by_role("button", name="Start this plan today").click()
    one.get_by_text("Week 1 of 4").wait_for()

    two = console.attach(browser.new_context(**PHONE).new_page())
    log_in(two, base_url, email)
    two.goto(f"{base_url}/#/plan/resonance-4-weeks")
    two.get_by_text("Week 1 of 4").wait_for()
    two.once("dialog", lambda d: d.accept())
    two.get_by_role("button", name="Stop this plan").click()
    two.get_by_role("button", name="Start this plan today").wait_for()

    one.goto(f"{base_url}/#/plans")
    one.locator("h1", has_text="Plans").wait_for()
    one.goto(f"{base_url}/#/plan/resonance-4-weeks")
    one.get_by_role("button", name="Start this plan today").wait_for()
    one.context.close()
    two.context.close()
    console.assert_clean()


def test_delete_account_checks_the_password_before_anything_final(phone, base_url, server_app, console):
    page = phone
    email = sign_up(page, base_url)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{base_url}/#/settings")
    page.get_by_text("Delete account").click()
    page.get_by_label("Password", exact=True).fill("not my password")
    page.get_by_label("I understand", exact=False).check()
    page.get_by_role("button", name="Delete my account").click()
    error = page.locator("#delete-password-error")
    error.wait_for()
    assert "password is not right" in error.inner_text()
    assert dialogs == [], dialogs  # nothing asked before the password was checked
    # The error sits next to the field, on screen, and nothing covers it.
    field_box = page.get_by_label("Password", exact=True).bounding_box()
    box = error.bounding_box()
    assert abs(box["y"] - (field_box["y"] + field_box["height"])) < 60
    assert box["y"] + box["height"] <= page.viewport_size["height"]
    toast = page.locator("#toast")
    if toast.is_visible():
        t = toast.bounding_box()
        assert t["y"] >= box["y"] + box["height"] or t["y"] + t["height"] <= box["y"]
    assert page.get_by_label("Password", exact=True).get_attribute("aria-invalid") == "true"

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    page.get_by_role("button", name="Create account").wait_for()
    assert dialogs == []
    with server_app.app_context():
        assert db.session.scalar(select(User).where(User.email == email)) is None
        db.session.remove()
    console.errors[:] = [e for e in console.errors if "403" not in e]  # the refused DELETE, logged by the browser
    console.assert_clean()


def test_time_zone_can_be_changed_and_a_new_zone_is_asked_about_once(browser, base_url, server_app, console):
    context = browser.new_context(**PHONE, timezone_id="Europe/London")
    page = console.attach(context.new_page())
    sign_up(page, base_url)
    token = page_token(page)

    # Settings offers the zone.
    page.goto(f"{base_url}/#/settings")
    page.get_by_label("Time zone").select_option("Asia/Tokyo")
    page.get_by_role("button", name="Save time zone").click()
    page.get_by_text("Reminders and the weekly email now follow Asia/Tokyo", exact=False).wait_for()
    assert api(base_url, token, "GET", "/api/me")["timezone"] == "Asia/Tokyo"

    # The phone is in London, the account in Tokyo: Home asks, once.
    page.goto(f"{base_url}/#/")
    ask = page.get_by_role("button", name="Move them to Europe/London")
    ask.wait_for()
    ask.click()
    page.get_by_text("now follow Europe/London", exact=False).wait_for()
    assert api(base_url, token, "GET", "/api/me")["timezone"] == "Europe/London"

    api(base_url, token, "PATCH", "/api/me", {"timezone": "America/New_York"})
    page.reload()
    page.get_by_role("button", name="Keep America/New_York").click()
    page.reload()
    page.locator("h1", has_text="Good").wait_for()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("button", name="Move them to Europe/London").count() == 0
    assert api(base_url, token, "GET", "/api/me")["timezone"] == "America/New_York"
    context.close()
    console.assert_clean()


def server_session(base_url, token, uuid_):
    try:
        return api(base_url, token, "GET", f"/api/sessions/{uuid_}")
    except urllib.error.HTTPError as exc:
        assert exc.code == 404
        return None


def test_history_marks_short_sessions_edits_ratings_and_deletes_with_undo(phone, base_url, console):
    page = phone
    page.clock.install()
    sign_up(page, base_url)
    token = page_token(page)
    short, full = str(uuid.uuid4()), str(uuid.uuid4())
    api(base_url, token, "PUT", f"/api/sessions/{short}", {
        "routine": "box", "started_at": "2026-11-30T07:00:00+00:00", "ended_at": "2026-11-30T07:00:05+00:00",
        "completed_cycles": 0})
    api(base_url, token, "PUT", f"/api/sessions/{full}", {
        "routine": "resonance", "started_at": "2026-11-30T18:00:00+00:00", "ended_at": "2026-11-30T18:10:00+00:00",
        "completed_cycles": 60, "pre": {"mood": 4, "anxiety": 6, "energy": 3}, "post": {"mood": 6, "anxiety": 3, "energy": 4}})
    page.goto(f"{base_url}/#/history")
    short_item = page.locator(f'li.session[data-uuid="{short}"]')
    full_item = page.locator(f'li.session[data-uuid="{full}"]')
    short_item.wait_for()
    assert "Short: under a minute" in short_item.inner_text()
    assert "Short" not in full_item.inner_text()

    # Edit the ratings and the note.
    full_item.get_by_role("button", name="Edit").click()
    full_item.get_by_label("Mood").nth(1).select_option("8")
    full_item.get_by_label("Note").fill("Warm hands after")
    full_item.get_by_role("button", name="Save changes").click()
    for _ in range(50):
        got = server_session(base_url, token, full)
        if got["post"]["mood"] == 8:
            break
        page.clock.run_for(200)
    assert got["post"] == {"mood": 8, "anxiety": 3, "energy": 4, "note": "Warm hands after"}
    assert got["pre"]["mood"] == 4

    # Delete, undo: still there.
    short_item.get_by_role("button", name="Delete").click()
    assert short_item.count() == 0
    page.get_by_role("button", name="Undo").click()
    short_item.wait_for()
    page.clock.run_for(10_000)
    assert server_session(base_url, token, short) is not None

    # Delete for good.
    short_item.get_by_role("button", name="Delete").click()
    page.clock.run_for(7_000)
    for _ in range(50):
        if server_session(base_url, token, short) is None:
            break
        page.clock.run_for(200)
    assert server_session(base_url, token, short) is None
    page.reload()
    full_item.wait_for()
    assert short_item.count() == 0
    console.assert_clean()


def test_words_as_people_say_them(phone, base_url, console):
    page = phone
    page.goto(f"{base_url}/")
    said = page.evaluate("""() => import('/js/ui.js').then((ui) => ({
        counts: [ui.count(1, 'session'), ui.count(2, 'session'), ui.count(1, 'minute'), ui.count(0, 'day')],
        durations: [ui.sayDuration(45), ui.sayDuration(304), ui.sayDuration(270), ui.sayDuration(600), ui.sayDuration(3900)],
        unclear: ui.sureness(0.5, [-5.9, 6.9]),
        rising: ui.sureness(1.2, [0.3, 2.1]),
        equal: ui.sureness(1, [1.02, 0.98]),
        none: ui.sureness(0.4, null),
    }))""")
    assert said["counts"] == ["1 session", "2 sessions", "1 minute", "0 days"]
    assert said["durations"] == ["45 s", "5 min", "4½ min", "10 min", "1 h 5 min"]
    assert said["unclear"]["words"].startswith("Not clear yet") and "95" not in said["unclear"]["words"]
    assert "95\u00a0% interval −5.9 to +6.9" in said["unclear"]["numbers"]
    assert said["rising"]["words"] == "Your mood clearly tends to rise."
    assert "interval" not in said["equal"]["numbers"]  # never a range whose ends are equal
    assert said["none"]["words"].startswith("Too few sessions")


def test_a_blocked_routine_says_why_wherever_its_start_would_be(phone, base_url, console):
    page = phone
    sign_up(page, base_url)
    token = page_token(page)
    answers = {k: k == "raynauds" for k in ("heart_condition", "arrhythmia", "high_blood_pressure", "pregnancy",
                                             "epilepsy", "raynauds", "respiratory", "panic_disorder")}
    api(base_url, token, "PUT", "/api/me/screening", {"answers": answers})
    page.goto(f"{base_url}/#/library?kind=cold")
    card = page.locator("a.routine-card", has_text="Cold plunge")
    card.wait_for()
    page.wait_for_function("() => document.querySelector('.routine-list').innerText.includes('not open to you now')")
    assert "not open to you now" in card.inner_text() and "safety questions" not in card.inner_text()
    page.goto(f"{base_url}/#/routine/cold-plunge")
    start = page.get_by_role("button", name="Start")
    start.wait_for()
    assert start.is_disabled()
    assert "Not open to you now" in page.locator(".actions.blocked").inner_text()
    assert "Raynaud" in page.locator(".actions.blocked").inner_text()
    page.goto(f"{base_url}/#/routine/cold-face")
    page.get_by_role("link", name="Start").wait_for()
    page.goto(f"{base_url}/#/reminders")
    page.get_by_role("button", name="Add a reminder").click()
    plunge = page.locator("#rem-routine option", has_text="Cold plunge")
    assert plunge.inner_text() == "Cold plunge (not open to you now)" and plunge.is_disabled()
    assert not page.locator("#rem-routine option", has_text="Cold face immersion").is_disabled()
    console.assert_clean()


def test_a_session_left_after_seconds_says_it_counts_nowhere(phone, base_url, console):
    page = phone
    page.clock.install()
    sign_up(page, base_url)
    page.goto(f"{base_url}/#/run/box")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Skip and start").click()
    page.locator(".pacer").wait_for()
    page.clock.run_for(5_000)
    page.get_by_role("button", name="End early").click()
    page.get_by_role("heading", name="Ended early: how do you feel now?").wait_for()
    page.get_by_role("button", name="Skip").click()
    page.get_by_role("heading", name="Ended early").wait_for()
    assert page.get_by_text("Under a minute, so it stays in your history but does not count").is_visible()
    assert page.get_by_text("Saved", exact=False).count() == 1  # one "Saved", no toast besides
    console.assert_clean()


OVERLAPS = """() => {
  const t = document.getElementById('toast');
  if (t.hidden) return null;
  const a = t.getBoundingClientRect();
  const hit = [];
  for (const el of document.querySelectorAll('#view button, #view a.button, #view input, #view select, #tabs a')) {
    const b = el.getBoundingClientRect();
    if (!b.width || !b.height) continue;
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) hit.push(el.textContent.trim() || el.id);
  }
  return hit;
}"""


def test_a_toast_never_covers_a_button_and_stays_on_its_screen(phone, base_url, console):
    page = phone
    sign_up(page, base_url)
    for width in (320, 390):
        page.set_viewport_size({"width": width, "height": 640})
        page.goto(f"{base_url}/#/reminders")
        add_reminder(page, time=f"0{width // 100}:15")
        page.locator("#toast").wait_for()
        assert page.evaluate(OVERLAPS) == [], width
        page.get_by_role("link", name="Home").click()
        page.locator("h1", has_text="Good").wait_for()
        assert page.locator("#toast").is_hidden()  # the toast stayed with its screen
    console.assert_clean()


def test_the_finders_not_now_goes_back_where_it_came_from(phone, base_url, console):
    page = phone
    sign_up(page, base_url)
    for start, heading, link in (("#/", "Good", "Find your rate"), ("#/settings", "Settings", "Find it with the guided finder")):
        page.goto(f"{base_url}/{start}")
        page.get_by_role("link", name=link).click()
        page.get_by_role("heading", name="Find your resonance rate").wait_for()
        page.get_by_role("button", name="Not now").click()
        page.locator("#view h1", has_text=heading).wait_for()
    console.assert_clean()
