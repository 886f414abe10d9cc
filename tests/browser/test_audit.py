"""Every screen at 320, 390 and 768 px, light and dark, with a realistic month of data: no
horizontal overflow, no console error, and no serious or critical axe-core violation. One
browser and one page visit all the routes (hash changes, no reloads), so it stays quick."""
from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import axe_playwright_python
import pytest

from tests.helpers.browser import PHONE, sign_up

from .test_loop import api, page_token

pytestmark = pytest.mark.browser

AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
WIDTHS = (320, 390, 768)
# Each route and a word its heading carries once drawn.
ROUTES = {
    "#/": "Good",
    "#/library": "Routines",
    "#/library?kind=cold": "Routines",
    "#/routine/box": "Box",
    "#/routine/cold-face": "Cold face immersion",
    "#/routine/evening-ease": "Evening ease",
    "#/run/cyclic-sighing": "Cyclic sighing",
    "#/run/cold-cloth": "Cold cloth",
    "#/run/cold-plunge": "Cold plunge",
    "#/plans": "Plans",
    "#/plan/resonance-4-weeks": "Resonance",
    "#/plan/cold-shower-4-weeks": "Cold",
    "#/finder": "Find your resonance rate",
    "#/history": "History",
    "#/what-helps": "What helps me",
    "#/editor": "New routine",
    "#/editor/evening-ease": "Edit routine",
    "#/reminders": "Reminders",
    "#/settings": "Settings",
    "#/screening": "Safety questions",
    "#/help": "Where to find help",
    "#/safety": "A few safety words",
}
ROUTINES = ["resonance", "extended-exhale", "box", "cyclic-sighing", "humming", "cold-face", "evening-ease"]


def seed_a_month(base_url, token):
    """About a month of practice as a person would leave it: most days one or two sessions,
    ratings before and after (a note now and then), a custom routine, a plan, a reminder,
    the safety questions answered with a 'yes' that closes the plunge."""
    api(base_url, token, "POST", "/api/routines", {
        "slug": "evening-ease", "name": "Evening ease: slow breaths before sleep, long exhalations",
        "goal": "Wind down before sleep", "summary": "Slow breaths with a long exhale.", "kind": "breathing",
        "phases": [{"action": "inhale", "seconds": 4.5}, {"action": "exhale", "seconds": 6.5}], "cycles": 30})
    rnd = random.Random(14)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    for day in range(30, 0, -1):
        for _ in range(rnd.choice((0, 1, 1, 2))):
            routine = rnd.choice(ROUTINES)
            start = now - timedelta(days=day, hours=rnd.randint(0, 12))
            minutes = rnd.choice((0.5, 4, 5, 10))
            pre = {"mood": rnd.randint(2, 7), "anxiety": rnd.randint(2, 8), "energy": rnd.randint(2, 7)}
            post = {k: max(0, min(10, v + rnd.randint(-1, 3) * (-1 if k == "anxiety" else 1))) for k, v in pre.items()}
            if rnd.random() < 0.3:
                post["note"] = rnd.choice(["Calmer, warm hands", "Hard to focus today", "Slept better after"])
            body = {"routine": routine, "started_at": start.isoformat(), "ended_at": (start + timedelta(minutes=minutes)).isoformat(),
                    "completed_cycles": int(minutes * 6), "pre": pre, "post": post}
            if routine == "cold-face":
                body["details"] = {"cold_seconds": 90, "water_temp_c": 12.5}
            api(base_url, token, "PUT", f"/api/sessions/{uuid.uuid4()}", body)
    answers = {k: k == "raynauds" for k in ("heart_condition", "arrhythmia", "high_blood_pressure", "pregnancy",
                                             "epilepsy", "raynauds", "respiratory", "panic_disorder")}
    api(base_url, token, "PUT", "/api/me/screening", {"answers": answers})
    api(base_url, token, "POST", "/api/reminders", {"local_time": "07:30", "weekdays": [0, 1, 2, 3, 4], "routine": "resonance", "enabled": True})
    api(base_url, token, "PUT", "/api/plans/resonance-4-weeks/enrolment", {"start": (now - timedelta(days=9)).date().isoformat()})


def axe_problems(page) -> list[str]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE)  # evaluated, not a <script>: the app's CSP stays as it is
    result = page.evaluate("""() => axe.run(document, { resultTypes: ['violations'] })
        .then((r) => r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`))""")
    return result


def check(page, where, width, with_axe) -> list[str]:
    out = []
    wide = page.evaluate("() => Math.max(document.documentElement.scrollWidth, window.innerWidth)")
    if wide > width:
        out.append(f"{where}: page {wide} px wide in a {width} px window")
    if with_axe:
        out += [f"{where}: {p}" for p in axe_problems(page)]
    return out


def session_screens(page, width, scheme) -> list[str]:
    """The screens of a session, which no URL shows: rating, pacer, result."""
    where = lambda name: f"{name} at {width} px, {scheme}"  # noqa: E731
    page.evaluate("() => { location.hash = '#/run/extended-exhale'; }")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Before you start").wait_for()
    out = check(page, where("the rating before"), width, width == 390)
    page.get_by_role("button", name="Start", exact=True).click()
    page.locator(".pacer").wait_for()
    out += check(page, where("the pacer"), width, width == 390)
    page.get_by_role("button", name="End early").click()
    page.get_by_role("heading", name="Ended early: how do you feel now?").wait_for()
    page.get_by_role("button", name="Save").click()
    page.locator("#view h1", has_text="Ended early").wait_for()
    out += check(page, where("the result"), width, width == 390)
    return out


def test_every_screen_at_every_width_light_and_dark(browser, base_url, console):
    context = browser.new_context(**{**PHONE, "viewport": {"width": 390, "height": 844}})
    page = console.attach(context.new_page())
    sign_up(page, base_url)
    seed_a_month(base_url, page_token(page))
    problems = []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 844})
            for route, heading in ROUTES.items():
                page.evaluate("(h) => { location.hash = h; }", route)
                page.locator("#view h1", has_text=heading).first.wait_for()
                page.wait_for_load_state("networkidle")
                where = f"{route} at {width} px, {scheme}"
                # A phone zooms out to fit an over-wide page (innerWidth grows with it), so
                # both are held to the width the window was given.
                wide = page.evaluate("() => Math.max(document.documentElement.scrollWidth, window.innerWidth)")
                if wide > width:
                    problems.append(f"{where}: page {wide} px wide in a {width} px window")
                shown = page.locator("#view").inner_text()
                for word in ("null", "undefined", "NaN", "[object Object]"):
                    if word in shown.split() or f"{word}{word}" in shown:
                        problems.append(f"{where}: the screen shows '{word}'")
                if width == 390:
                    problems += [f"{where}: {p}" for p in axe_problems(page)]
            page.evaluate("() => { location.hash = '#/library'; }")
            problems += session_screens(page, width, scheme)
    context.close()
    assert not problems, "\n".join(problems)
    console.assert_clean()
