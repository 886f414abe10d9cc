"""GET /api/insights and coach.practice.insights: totals, streak in the user's own days, per-routine
change with t intervals (checked against `statistics` and a printed t table), weekly
buckets, the recommendation's honesty, and the care signal."""
from __future__ import annotations

import math
import statistics
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from coach.practice import insights, local_days
from coach.extensions import db
from tests.helpers.accounts import signup
from tests.helpers.sessions import add, user_row

UTC = timezone.utc
TOKYO = ZoneInfo("Asia/Tokyo")
BERLIN = ZoneInfo("Europe/Berlin")
# Two-sided 95 % t critical values from a printed table, by degrees of freedom.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
        10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110}


def reference(deltas):
    """(mean, lo, hi) from the standard library and the table."""
    mean = statistics.fmean(deltas)
    half = T975[len(deltas) - 1] * statistics.stdev(deltas) / math.sqrt(len(deltas))
    return mean, mean - half, mean + half


def get_insights(client, who, **params):
    r = client.get("/api/insights", query_string=params, headers=who["headers"])
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def local(tz, *args):
    return datetime(*args, tzinfo=tz).astimezone(UTC)


# --- per routine --------------------------------------------------------------------------

BOX = [  # (pre, post) ratings as (mood, anxiety, energy)
    ((3, 7, 4), (6, 3, 5)),
    ((4, 6, None), (5, 5, 6)),
    ((2, 8, 3), (6, 4, None)),
    ((5, 5, 5), (5, 5, 5)),
    ((4, 6, 4), (7, 2, 6)),
    ((3, 7, 2), (4, 6, 3)),
]


def _rating(values, note=None):
    mood, anxiety, energy = values
    out = {"mood": mood}
    if anxiety is not None:
        out["anxiety"] = anxiety
    if energy is not None:
        out["energy"] = energy
    return out


def test_by_routine_means_and_intervals_match_an_independent_computation(client, alice):
    now = datetime.now(UTC)
    for i, (pre, post) in enumerate(BOX):
        add(client, alice, now - timedelta(days=i + 1), minutes=10, routine="box", pre=_rating(pre), post=_rating(post))
    add(client, alice, now - timedelta(days=2, hours=3), minutes=5, routine="box", pre={"mood": 4})  # no after rating
    add(client, alice, now - timedelta(days=3, hours=3), minutes=4, routine="humming", pre={"mood": 5}, post={"mood": 6})
    add(client, alice, now - timedelta(days=200), routine="box", pre={"mood": 0}, post={"mood": 10})  # outside 90 days

    got = get_insights(client, alice)
    rows = {r["routine"]: r for r in got["by_routine"]}
    assert set(rows) == {"box", "humming"}
    box = rows["box"]
    assert box["n"] == 7 and box["minutes"] == 65.0

    for i, name in enumerate(("mood", "anxiety", "energy")):
        deltas = [post[i] - pre[i] for pre, post in BOX if pre[i] is not None and post[i] is not None]
        mean, lo, hi = reference(deltas)
        delta = box[f"{name}_delta"]
        assert delta["n"] == len(deltas), name
        assert delta["mean"] == pytest.approx(mean, abs=0.005), name
        # The table has three decimals; the answer is rounded to two.
        slack = 0.005 + 0.0006 * statistics.stdev(deltas) / math.sqrt(len(deltas))
        assert delta["ci95"][0] == pytest.approx(lo, abs=slack), name
        assert delta["ci95"][1] == pytest.approx(hi, abs=slack), name

    one = rows["humming"]["mood_delta"]
    assert (one["n"], one["mean"], one["ci95"]) == (1, 1.0, None)  # one rating: no interval
    assert rows["humming"]["anxiety_delta"] == {"n": 0, "mean": None, "ci95": None, "adjusted_mean": None}
    assert got["totals"]["sessions"] == 8
    assert got["totals"]["minutes"] == 69.0
    assert [r["routine"] for r in got["by_routine"]] == ["box", "humming"]  # most used first

    # A longer window takes in the old session too.
    wide = {r["routine"]: r for r in get_insights(client, alice, days=365)["by_routine"]}
    assert wide["box"]["n"] == 8 and wide["box"]["mood_delta"]["n"] == 7


@pytest.mark.shared_app
@pytest.mark.parametrize("days", [0, 3651, "ninety", -5])
def test_days_outside_1_to_3650_is_422(client, alice, days):
    r = client.get("/api/insights", query_string={"days": days}, headers=alice["headers"])
    assert r.status_code == 422
    assert "days" in r.get_json()["errors"]


def test_days_edges_and_login(client, alice):
    assert get_insights(client, alice, days=1)["days"] == 1
    assert len(get_insights(client, alice, days=3650)["weekly"]) >= 521
    assert client.get("/api/insights").status_code == 401


def test_routine_sums_batches_users_without_mixing_them(client, alice, bob):
    start = datetime(2026, 11, 1, tzinfo=UTC)
    add(client, alice, datetime(2026, 11, 10, 7, tzinfo=UTC), routine="box", pre={"mood": 2}, post={"mood": 5})
    add(client, alice, datetime(2026, 11, 11, 7, tzinfo=UTC), routine="box", pre={"mood": 3}, post={"mood": 5})
    add(client, bob, datetime(2026, 11, 10, 7, tzinfo=UTC), routine="box", pre={"mood": 6}, post={"mood": 5})
    add(client, bob, datetime(2026, 10, 10, 7, tzinfo=UTC), routine="box", pre={"mood": 6}, post={"mood": 0})
    a, b = alice["user"]["id"], bob["user"]["id"]
    sums = insights.routine_sums([a, b, 999_999], start, datetime(2026, 12, 1, tzinfo=UTC))
    assert sums[999_999] == []
    (ab,), (bb,) = sums[a], sums[b]
    assert (ab.sessions, ab.measures["mood"].n, ab.measures["mood"].sum_d, ab.measures["mood"].sum_d2) == (2, 2, 5, 13)
    assert (ab.measures["mood"].sum_x, ab.measures["mood"].sum_x2, ab.measures["mood"].sum_xd) == (5, 13, 12)
    assert (bb.sessions, bb.measures["mood"].sum_d) == (1, -1)
    assert ab.seconds == 1200


def test_the_query_count_does_not_grow_with_the_sessions(client, alice):
    user = user_row(alice)
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)

    def count_queries():
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            insights.summary(user, now, 90)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    for day in range(3):
        add(client, alice, now - timedelta(days=day, hours=1), routine="box", pre={"mood": 4}, post={"mood": 6})
    few = count_queries()
    for day in range(3, 40):
        add(client, alice, now - timedelta(days=day, hours=1), routine=("box", "humming", "4-7-8")[day % 3],
            pre={"mood": 4}, post={"mood": 6})
    assert count_queries() == few


# --- streak in the user's own days --------------------------------------------------------

@pytest.fixture
def tokyo(client):
    return signup(client, "tokyo@example.com", timezone="Asia/Tokyo")


def streak(who, now):
    return insights.streak_days(user_row(who), now)


def test_streak_counts_local_days_across_the_utc_date_line(client, tokyo):
    # 23:30 and 00:30 in Tokyo the next night are 14:30 and 15:30 UTC on ONE UTC day,
    # but two local days.
    add(client, tokyo, local(TOKYO, 2026, 11, 20, 23, 30))
    add(client, tokyo, local(TOKYO, 2026, 11, 21, 0, 30))
    assert local(TOKYO, 2026, 11, 20, 23, 30).date() == local(TOKYO, 2026, 11, 21, 0, 30).date()
    assert streak(tokyo, local(TOKYO, 2026, 11, 21, 12, 0)) == 2


def test_streak_is_unbroken_in_local_days_though_utc_days_have_a_gap(client, tokyo):
    # 08:30 Tokyo on the 20th is the 19th in UTC; 09:30 on the 21st is the 21st in UTC.
    add(client, tokyo, local(TOKYO, 2026, 11, 20, 8, 30))
    add(client, tokyo, local(TOKYO, 2026, 11, 21, 9, 30))
    assert streak(tokyo, local(TOKYO, 2026, 11, 21, 20, 0)) == 2


def test_streak_ends_today_or_yesterday_and_breaks_at_a_gap(client, tokyo):
    for day in (14, 15, 17, 18, 19):  # a gap on the 16th
        add(client, tokyo, local(TOKYO, 2026, 11, day, 7, 0))
    add(client, tokyo, local(TOKYO, 2026, 11, 19, 21, 0))  # two on one day count once
    assert streak(tokyo, local(TOKYO, 2026, 11, 19, 22, 0)) == 3  # today included
    assert streak(tokyo, local(TOKYO, 2026, 11, 20, 23, 59)) == 3  # yesterday still counts
    assert streak(tokyo, local(TOKYO, 2026, 11, 21, 0, 1)) == 0  # two days ago: broken
    # Sessions stamped after `now` (a phone clock running ahead) count as today, not as a gap.
    assert streak(tokyo, local(TOKYO, 2026, 11, 18, 23, 0)) == 2


def test_streak_zero_without_sessions_and_in_the_api(client, tokyo):
    assert streak(tokyo, datetime(2026, 11, 22, tzinfo=UTC)) == 0
    now = datetime.now(UTC)
    for hours in (1, 25, 49):
        add(client, tokyo, now - timedelta(hours=hours))
    assert get_insights(client, tokyo)["totals"]["streak_days"] >= 2  # 3 unless the local day just turned


# --- weekly buckets in the user's zone ----------------------------------------------------

def test_weekly_buckets_split_at_local_monday_midnight(client, alice):
    # Berlin: Sunday 15 Nov 23:30 and Monday 16 Nov 00:30 local are both Sunday in UTC,
    # yet belong to ISO weeks 46 and 47 there.
    add(client, alice, local(BERLIN, 2026, 11, 15, 23, 30), minutes=10, pre={"mood": 3}, post={"mood": 6})
    add(client, alice, local(BERLIN, 2026, 11, 16, 0, 30), minutes=20, pre={"mood": 5}, post={"mood": 4})
    add(client, alice, local(BERLIN, 2026, 11, 18, 7, 0), minutes=6, pre={"mood": 5}, post={"mood": 7})
    add(client, alice, local(BERLIN, 2026, 11, 1, 7, 0), minutes=6)  # before the window
    assert local(BERLIN, 2026, 11, 15, 23, 30).date() == local(BERLIN, 2026, 11, 16, 0, 30).date()
    user = user_row(alice)
    weeks = insights.weekly(user, datetime(2026, 11, 6, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC))
    by_key = {w.key: w for w in weeks}
    assert [w.key for w in weeks] == ["2026-W45", "2026-W46", "2026-W47"]
    assert by_key["2026-W45"].sessions == 0  # the session of 1 Nov is in W44 and before the window
    assert (by_key["2026-W46"].sessions, by_key["2026-W46"].seconds, by_key["2026-W46"].mood_delta_mean) == (1, 600, 3.0)
    w47 = by_key["2026-W47"]
    assert (w47.sessions, w47.seconds) == (2, 26 * 60)
    assert w47.mood_delta_mean == pytest.approx(statistics.fmean([4 - 5, 7 - 5]))
    assert w47.first_day.isoformat() == "2026-11-16"


def test_week_bounds_follow_daylight_saving_time():
    bounds = insights.week_bounds(BERLIN, datetime(2026, 10, 20, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))
    hours = {key: (hi - lo).total_seconds() / 3600 for key, _, lo, hi in bounds}
    # Clocks went back on Sunday 25 Oct, the last day of W43.
    assert hours == {"2026-W43": 169, "2026-W44": 168, "2026-W45": 168}
    # Each week starts at local midnight on Monday.
    for _, monday, lo, _ in bounds:
        assert lo.astimezone(BERLIN).replace(tzinfo=None) == datetime.combine(monday, datetime.min.time())


def test_weekly_in_the_api_is_oldest_first_and_covers_the_window(client, alice):
    now = datetime.now(UTC)
    add(client, alice, now - timedelta(days=8), minutes=12)
    add(client, alice, now - timedelta(hours=2), minutes=3)
    weeks = get_insights(client, alice, days=14)["weekly"]
    assert 3 <= len(weeks) <= 4
    assert [w["week"] for w in weeks] == sorted(w["week"] for w in weeks)
    assert sum(w["sessions"] for w in weeks) == 2
    assert sum(w["minutes"] for w in weeks) == 15.0
    assert weeks[-1]["sessions"] >= 1  # this week is the last bucket


# --- the recommendation ---------------------------------------------------------------------

OVERCLAIMS = ("cure", "treat", "prove", "guarantee", "will make you")


def recommendation(client, who):
    rec = get_insights(client, who)["recommendation"]
    assert rec["text"] and not any(word in rec["text"].lower() for word in OVERCLAIMS), rec
    return rec


def _series(client, who, routine, changes, start_mood=4, days_back=1):
    now = datetime.now(UTC)
    for i, change in enumerate(changes):
        add(client, who, now - timedelta(days=days_back + i, minutes=routine.__len__()), routine=routine,
            pre={"mood": start_mood}, post={"mood": start_mood + change})


def test_no_sessions_yet_is_said_kindly(client, alice):
    rec = recommendation(client, alice)
    assert rec["routine"] is None and rec["confidence"] == "none"
    assert "no sessions" in rec["text"].lower()


def test_not_enough_ratings_yet(client, alice):
    _series(client, alice, "box", [2])
    add(client, alice, datetime.now(UTC) - timedelta(hours=5))  # unrated
    rec = recommendation(client, alice)
    assert rec["routine"] is None and rec["confidence"] == "none"
    assert "not enough" in rec["text"].lower()


def test_few_sessions_give_low_confidence(client, alice):
    _series(client, alice, "box", [2, 3, 2])
    rec = recommendation(client, alice)
    assert rec["routine"] == "box" and rec["confidence"] == "low" and rec["based_on"] == 3


def test_an_interval_that_includes_no_change_stays_low(client, alice):
    _series(client, alice, "box", [3, -2, 2, -1, 3, -2, 1, 0])
    got = get_insights(client, alice)
    assert got["by_routine"][0]["mood_delta"]["ci95"][0] < 0 < got["by_routine"][0]["mood_delta"]["mean"]
    assert got["recommendation"]["confidence"] == "low"


def test_a_steady_lift_gives_moderate_then_high(client, alice):
    _series(client, alice, "cyclic-sighing", [2, 1, 2, 3, 2, 1])
    rec = recommendation(client, alice)
    assert (rec["routine"], rec["confidence"]) == ("cyclic-sighing", "moderate")
    _series(client, alice, "cyclic-sighing", [2, 2, 1, 3, 2, 2, 1, 2, 3, 2], days_back=10)
    rec = recommendation(client, alice)
    assert (rec["routine"], rec["confidence"], rec["based_on"]) == ("cyclic-sighing", "high", 16)
    assert "not" in rec["text"]  # always says what it is not


def test_the_routine_with_the_larger_lift_is_chosen(client, alice):
    _series(client, alice, "box", [1, 0, 1, 1, 0, 1])
    _series(client, alice, "extended-exhale", [3, 2, 3, 3, 2, 3], days_back=20)
    rec = recommendation(client, alice)
    assert rec["routine"] == "extended-exhale"


def test_no_lift_is_said_honestly(client, alice):
    _series(client, alice, "box", [0, -1, 0, -1, -2, 0])
    rec = recommendation(client, alice)
    assert rec["routine"] is None and rec["confidence"] == "low"


# --- care -----------------------------------------------------------------------------------

def _moods(client, who, moods, post=True):
    now = datetime.now(UTC)
    # Oldest first, so the last in the list is the most recent session.
    for i, mood in enumerate(moods):
        when = now - timedelta(hours=len(moods) - i)
        add(client, who, when, **({"pre": {"mood": 5}, "post": {"mood": mood}} if post else {"pre": {"mood": mood}}))


def test_care_shows_after_low_mood_in_3_of_the_last_5(client, alice):
    _moods(client, alice, [8, 2, 7, 1, 6, 0])
    care = get_insights(client, alice)["care"]
    assert care["show"] is True
    assert care["reason"] and "depress" not in care["reason"].lower() and "diagnos" not in care["reason"].lower()


def test_care_uses_only_the_last_5_rated_sessions(client, alice):
    _moods(client, alice, [1, 1, 1, 7, 2, 8, 6, 9])  # three lows, but only one in the last five
    assert get_insights(client, alice)["care"] == {"show": False, "reason": None}


def test_care_prefers_the_after_rating_and_falls_back_to_before(client, alice):
    now = datetime.now(UTC)
    for hours in (5, 4, 3):  # low before, fine after: not low
        add(client, alice, now - timedelta(hours=hours), pre={"mood": 1}, post={"mood": 6})
    assert get_insights(client, alice)["care"]["show"] is False
    _moods(client, alice, [2, 1, 0], post=False)  # only a before rating: that one counts
    add(client, alice, now - timedelta(minutes=1))  # unrated sessions are skipped
    assert get_insights(client, alice)["care"]["show"] is True


def test_care_counts_across_days_in_any_window(client, alice):
    now = datetime.now(UTC)
    for days in (300, 200, 100):
        add(client, alice, now - timedelta(days=days), pre={"mood": 1})
    got = get_insights(client, alice, days=7)
    assert got["totals"]["sessions"] == 0 and got["care"]["show"] is True


# --- local time computed in SQL -------------------------------------------------------------

def test_offset_changes_are_the_zone_transitions():
    changes, offsets = local_days.offset_changes("Europe/Berlin", datetime(2026, 1, 1).date(), datetime(2026, 12, 31).date())
    assert changes == (datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC))
    assert offsets == (3600, 7200, 3600)
    assert local_days.offset_changes("Asia/Tokyo", datetime(2026, 1, 1).date(), datetime(2026, 12, 31).date()) == ((), (32400,))
    # Lord Howe Island moves by half an hour.
    _, howe = local_days.offset_changes("Australia/Lord_Howe", datetime(2026, 1, 1).date(), datetime(2026, 12, 31).date())
    assert set(howe) == {39600, 37800}


def _bulk(who, instants, minutes=10):
    """Many sessions straight into the table (for long histories; the API path is tested above)."""
    import uuid as uuidlib

    from coach.models import PracticeSession

    for when in instants:
        db.session.add(PracticeSession(uuid=uuidlib.uuid4(), user_id=who["user"]["id"], routine="box",
                                       started_at=when, ended_at=when + timedelta(minutes=minutes),
                                       created_at=when, updated_at=when))
    db.session.commit()


def test_weeks_split_exactly_at_local_midnight_also_in_a_dst_week(client, alice):
    # Monday 26 Oct 2026 00:00:00 in Berlin (the day after clocks went back) is 25 Oct 23:00 UTC.
    edge = local(BERLIN, 2026, 10, 26, 0, 0)
    _bulk(alice, [edge - timedelta(microseconds=1), edge, local(BERLIN, 2026, 10, 25, 2, 30)])
    weeks = {w.key: w.sessions for w in insights.weekly(user_row(alice), datetime(2026, 10, 20, tzinfo=UTC),
                                                         datetime(2026, 11, 1, tzinfo=UTC))}
    assert weeks == {"2026-W43": 2, "2026-W44": 1}


def test_a_long_streak_is_counted_beyond_the_first_window(client, alice):
    now = local(BERLIN, 2026, 11, 22, 20, 0)
    # 600 days in a row at 00:30 local time (the previous UTC day in winter), across DST changes.
    days = [local(BERLIN, 2026, 11, 22, 0, 30) - timedelta(days=i) for i in range(600)]
    days = [datetime.combine(d.astimezone(BERLIN).date(), datetime.min.time().replace(minute=30), BERLIN).astimezone(UTC)
            for d in days]
    _bulk(alice, days)
    assert insights.streak_days(user_row(alice), now) == 600
    # A gap 100 days back ends it there.
    from coach.models import PracticeSession
    gap_day = days[100]
    db.session.execute(PracticeSession.__table__.delete().where(PracticeSession.started_at == gap_day))
    db.session.commit()
    assert insights.streak_days(user_row(alice), now) == 100


# --- one rule for "what helps" (issue 11) ---------------------------------------------------

def test_home_names_only_the_routine_what_helps_ranks_first(client, alice):
    # Box: two big lifts (enough for the old 90-day rule, too few to be ranked); humming: three
    # steady small ones, last year (outside the 90-day window, inside what-helps' all-time fit).
    _series(client, alice, "box", [5, 5])
    _series(client, alice, "humming", [1, 2, 1], days_back=200)
    helps = client.get("/api/insights/what-helps", headers=alice["headers"]).get_json()
    first = next(r["routine"] for r in helps["routines"] if r["rank"] == 1)
    assert first == "humming"
    rec = recommendation(client, alice)
    assert rec["routine"] == first
    assert rec["based_on"] == 3
