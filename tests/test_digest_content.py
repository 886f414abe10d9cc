"""What the weekly summary says: care before cheering, a routine named only when the ratings
clearly show it, custom routines by name (escaped), the preview, and number formatting."""
from __future__ import annotations

import statistics
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from coach.digest.content import date_range, duration, how_sure, signed
from coach.practice import insights
from coach.practice.care import REASON as CARE_REASON
from coach.practice.stats import MeanCI
from coach.routines import catalogue
from coach.tick.scheduler import tick
from tests.helpers.digest import at, html_part, line, member, record, text_part, user_of

SEND = at("2026-11-22T17:00:00Z")  # Sunday 18:00 in Berlin
T975_DF4 = 2.776445105  # Student's t, 97.5 % quantile, 4 degrees of freedom (printed tables)


@pytest.fixture
def app_config(smtp_server):
    return {"MAIL_URL": smtp_server.url()}


def ann(client):
    return member(client, "ann@example.com", "Europe/Berlin", at("2026-11-16T10:00:00Z"))


def only_message(smtp_server):
    [got] = smtp_server.received
    return got.message


def test_low_moods_bring_a_gentle_word_on_help_instead_of_cheering(client, smtp_server):
    who = ann(client)
    # More sessions than the week before (none), but mood 2 or lower after 3 of the last 5.
    for day, mood in zip(range(16, 21), (5, 2, 1, 6, 2)):
        record(client, who, at(f"2026-11-{day}T07:00:00Z"), 300, pre={"mood": 3}, post={"mood": mood})
    tick(SEND)
    msg = only_message(smtp_server)
    text = text_part(msg)
    assert CARE_REASON in text and "emergency number" in text
    assert "more than the week before" not in text
    assert line(text, "FOR NEXT WEEK")
    assert "go gently" in text and "Keep the rhythm" not in text
    assert CARE_REASON in html_part(msg)


def test_no_care_line_when_moods_are_fine(client, smtp_server):
    who = ann(client)
    for day in range(16, 21):
        record(client, who, at(f"2026-11-{day}T07:00:00Z"), 300, pre={"mood": 5}, post={"mood": 6})
    tick(SEND)
    text = text_part(only_message(smtp_server))
    assert CARE_REASON not in text and "emergency" not in text
    assert "That is 5 more than the week before." in text


def test_the_routine_that_helped_most_is_named_when_the_ratings_show_it(client, smtp_server):
    who = ann(client)
    lifts = [2, 3, 2, 3, 2]
    for day, lift in zip(range(16, 21), lifts):
        record(client, who, at(f"2026-11-{day}T07:00:00Z"), 300, "cyclic-sighing", pre={"mood": 4}, post={"mood": 4 + lift})
    for day in (16, 18):
        record(client, who, at(f"2026-11-{day}T18:00:00Z"), 300, "box", pre={"mood": 5}, post={"mood": 5})
    tick(SEND)
    text = text_part(only_message(smtp_server))
    sighing = catalogue.builtin("cyclic-sighing")["name"]
    mean = statistics.mean(lifts)
    half = T975_DF4 * statistics.stdev(lifts) / len(lifts) ** 0.5
    assert f"Mood +{mean:.1f} over 5 rated sessions: a fairly steady change for the better (95 % range +{mean - half:.1f} to +{mean + half:.1f})" in text
    assert "Mood 0.0 over 2 rated sessions: " in text  # box: no change at all
    helped = text.split("WHAT SEEMED TO HELP MOST", 1)[1].split("FOR NEXT WEEK", 1)[0]
    assert f"After {sighing} your mood was on average {mean:.1f} points higher than before (5 rated sessions)" in helped
    assert "not proof" in helped  # said as a pattern in how you felt, not as a cause
    assert f"Keep {sighing} in your week" in text


def test_a_routine_the_screening_now_refuses_is_never_the_one_to_keep(client, smtp_server):
    who = ann(client)
    for day, lift in zip(range(16, 21), [2, 3, 2, 3, 2]):
        record(client, who, at(f"2026-11-{day}T07:00:00Z"), 60, "cold-face", pre={"mood": 4}, post={"mood": 4 + lift},
               details={"cold_seconds": 60})
    # Afterwards the person tells the screening of a heart condition: cold-face is now refused.
    answers = {q: False for q in ("heart_condition", "arrhythmia", "high_blood_pressure", "pregnancy", "epilepsy",
                                  "raynauds", "respiratory", "panic_disorder")}
    r = client.put("/api/me/screening", json={"answers": {**answers, "heart_condition": True}}, headers=who["headers"])
    assert r.status_code == 200, r.get_json()
    tick(SEND)
    text = text_part(only_message(smtp_server))
    cold_face = catalogue.builtin("cold-face")["name"]
    assert f"{cold_face}: 5 sessions, 5 min" in text  # still their own history, with its numbers
    assert "WHAT SEEMED TO HELP MOST" not in text and f"Keep {cold_face}" not in text


@pytest.mark.parametrize(
    "name, n, mean, ci, words",
    [
        ("mood", 2, 2.0, (2.0, 2.0), "pointing to better, but too few sessions to be sure"),
        ("anxiety", 4, -1.5, (-2.5, -0.5), "pointing to better, but too few sessions to be sure"),
        ("anxiety", 6, 1.5, (0.5, 2.5), "a fairly steady change for the worse"),
        ("energy", 15, 1.0, (0.2, 1.8), "a clear change for the better"),
        ("mood", 20, -0.8, (-1.6, -0.1), "a clear change for the worse"),
        ("mood", 30, 0.4, (-0.1, 0.9), "could be chance so far"),
    ],
)
def test_how_sure_follows_the_apps_bar(name, n, mean, ci, words):
    assert how_sure(name, MeanCI(n, mean, ci)).verdict == words


def test_custom_routines_appear_by_name_and_are_escaped_in_html(client, smtp_server):
    who = ann(client)
    body = {
        "slug": "my-mix",
        "name": "<b>Night</b> & calm",
        "kind": "breathing",
        "goal": "Wind down",
        "summary": "Slow breaths.",
        "phases": [{"action": "inhale", "seconds": 4}, {"action": "exhale", "seconds": 6}],
        "cycles": 10,
    }
    assert client.post("/api/routines", json=body, headers=who["headers"]).status_code == 201
    record(client, who, at("2026-11-18T07:00:00Z"), 100, "my-mix")
    tick(SEND)
    msg = only_message(smtp_server)
    assert line(text_part(msg), "<b>Night</b> & calm:") == "<b>Night</b> & calm: 1 session, 1 min 40 s"
    html = html_part(msg)
    assert "&lt;b&gt;Night&lt;/b&gt; &amp; calm" in html and "<b>Night</b>" not in html


def test_the_preview_shows_this_week_so_far_as_html(client):
    who = member(client, "ann@example.com", "Asia/Tokyo", at("2026-11-16T00:00:00Z"))
    now = datetime.now(timezone.utc)
    local = now.astimezone(ZoneInfo("Asia/Tokyo"))
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    started = max(now - timedelta(seconds=120), monday.astimezone(timezone.utc))
    # 90 s in all (under a minute would be a short session, counted nowhere), 45 s of it cold.
    record(client, who, started, 90, "cold-face", details={"cold_seconds": 45})
    r = client.get("/api/digest/preview", headers=who["headers"])
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    assert "'unsafe-inline'" in r.headers["Content-Security-Policy"] and "script-src" not in r.headers["Content-Security-Policy"]
    html = r.get_data(as_text=True)
    assert "1 · 1 min 30 s" in html
    assert "1 cold session, 45 s in the cold in total." in html  # 45 s, not "0 min"
    assert catalogue.builtin("cold-face")["name"] in html
    assert "<style" not in html and 'style="' in html


def test_the_preview_needs_a_login_and_is_documented_as_html(client):
    assert client.get("/api/digest/preview").status_code == 401
    spec = client.get("/api/openapi.json").get_json()
    op = spec["paths"]["/api/digest/preview"]["get"]
    assert "text/html" in op["responses"]["200"]["content"]
    assert "401" in op["responses"] and op.get("security") == [{"bearerAuth": []}]


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "0 min"), (0.4, "0 min"), (1, "1 s"), (45, "45 s"), (59.4, "59 s"), (60, "1 min"), (90, "1 min 30 s"),
     (599, "9 min 59 s"), (600, "10 min"), (2085, "35 min"), (3600, "1 h"), (3900, "1 h 05 min")],
)
def test_durations_read_naturally(seconds, text):
    assert duration(seconds) == text


def test_signs_and_date_ranges():
    assert (signed(1.25), signed(-0.5), signed(-0.04), signed(0)) == ("+1.2", "\u22120.5", "0.0", "0.0")
    assert date_range(date(2026, 11, 16), date(2026, 11, 22)) == "16–22 November 2026"
    assert date_range(date(2026, 11, 30), date(2026, 12, 6)) == "30 November – 6 December 2026"
    assert date_range(date(2026, 12, 28), date(2027, 1, 3)) == "28 December 2026 – 3 January 2027"


def test_the_routine_to_keep_is_the_one_what_helps_ranks_first(client, smtp_server):
    # This week only box was rated; over the weeks before, extended-exhale lifted mood more.
    # One rule decides "what helps": the summary names what the app's "What helps me" ranks first.
    who = ann(client)
    for i, lift in enumerate([4, 5, 4, 5, 4, 5]):
        record(client, who, at(f"2026-10-{10 + i}T07:00:00Z"), 300, "extended-exhale", pre={"mood": 4}, post={"mood": 4 + lift})
    for day, lift in zip(range(16, 21), [2, 3, 2, 3, 2]):
        record(client, who, at(f"2026-11-{day}T07:00:00Z"), 300, "box", pre={"mood": 4}, post={"mood": 4 + lift})
    helps = client.get("/api/insights/what-helps", headers=who["headers"]).get_json()
    first = next(r for r in helps["routines"] if r["rank"] == 1)
    assert first["routine"] == "extended-exhale"
    tick(SEND)
    text = text_part(only_message(smtp_server))
    assert f"Keep {first['name']} in your week" in text
    helped = text.split("WHAT SEEMED TO HELP MOST", 1)[1].split("FOR NEXT WEEK", 1)[0]
    assert f"After {first['name']} your mood was on average 4.5 points higher" in helped


# --- the streak and the care rule are the app's (issue 11: they were written twice) ----------

def test_the_streak_is_the_one_the_app_shows_also_beyond_90_days(client, smtp_server):
    who = ann(client)
    for back in range(120):  # every day at 08:00 Berlin up to Sunday 22 November
        record(client, who, at("2026-11-22T07:00:00Z") - timedelta(days=back), 300)
    assert insights.streak_days(user_of(who), SEND) == 120  # what Home shows at that instant
    tick(SEND)
    text = text_part(only_message(smtp_server))
    assert "120 days in a row" in text


def test_care_follows_the_last_five_rated_sessions_however_old(client, smtp_server):
    who = ann(client)
    for back in (130, 120, 110):  # low moods months ago, nothing rated since
        record(client, who, SEND - timedelta(days=back), 300, pre={"mood": 3}, post={"mood": 1})
    for day in (17, 19):
        record(client, who, at(f"2026-11-{day}T07:00:00Z"), 300)
    assert client.get("/api/insights", headers=who["headers"]).get_json()["care"]["show"] is True
    tick(SEND)
    text = text_part(only_message(smtp_server))
    assert CARE_REASON in text


def test_short_sessions_count_nowhere_in_the_summary(client, smtp_server):
    who = ann(client)
    for day in (17, 19):
        record(client, who, at(f"2026-11-{day}T07:00:00Z"), 300, pre={"mood": 5}, post={"mood": 6})
    for day in (16, 18, 20, 21):  # opened and left within seconds, rated very low
        record(client, who, at(f"2026-11-{day}T08:00:00Z"), 7, "humming", pre={"mood": 1}, post={"mood": 0})
    tick(SEND)
    text = text_part(only_message(smtp_server))
    assert "2 sessions this week, 10 min in all." in text
    assert "Humming" not in text and "days in a row" not in text
    assert CARE_REASON not in text
