""""What helps me": the mood change per routine allowing for the starting rating, checked
against an independent least-squares fit (numpy) and t quantiles (scipy), on data built so
that the raw means and the adjusted changes disagree; and the fair "surprise me" pick."""
from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from scipy import stats as scipy_stats

from coach.practice import what_helps
from coach.extensions import db
from coach.practice.insights import MeasureSums
from coach.models import PracticeSession, User
from coach.practice.stats import GroupSums, adjusted_means

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)

# The person's mood drifts back towards 5 between ratings (post ≈ 5 + 0.5·(pre − 5)):
# box is always started low and rises only by that pull; cyclic-sighing is started high and
# adds a real lift of about +1 on top. Raw means put box first, the fair comparison sighing.
SESSIONS = {
    "box": [(1, 3), (2, 4), (3, 4), (1, 3), (2, 3), (3, 4)],
    "cyclic-sighing": [(7, 7), (8, 8), (9, 8), (7, 7), (8, 7), (9, 8)],
    "resonance": [(4, 5), (5, 5), (6, 5), (5, 5), (4, 4), (6, 6)],
    "humming": [(5, 6), (3, 4)],  # too few to rank, but part of the fit
}


def add_sessions(user_id: int, sessions: dict[str, list[tuple[int, int]]], start: datetime = NOW) -> None:
    at = start
    for routine, pairs in sessions.items():
        for pre, post in pairs:
            at -= timedelta(hours=7)
            db.session.add(PracticeSession(
                uuid=uuid.uuid4(), user_id=user_id, routine=routine, started_at=at,
                ended_at=at + timedelta(minutes=5), pre_mood=pre, post_mood=post,
            ))
    db.session.commit()


def independent_fit(sessions):
    """post = α_routine + b · pre by numpy least squares; the adjusted change of a routine is
    its predicted post at the usual starting mood minus that starting mood."""
    routines = list(sessions)
    rows, post, pre = [], [], []
    for i, routine in enumerate(routines):
        for x, y in sessions[routine]:
            rows.append([1.0 if j == i else 0.0 for j in range(len(routines))] + [x])
            pre.append(x)
            post.append(y)
    X, y = np.array(rows), np.array(post, dtype=float)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    residuals = y - X @ coef
    df = len(y) - X.shape[1]
    s2 = residuals @ residuals / df
    cov = s2 * np.linalg.inv(X.T @ X)
    usual = float(np.mean(pre))
    t = scipy_stats.t.ppf(0.975, df)
    out = {}
    for i, routine in enumerate(routines):
        c = np.zeros(X.shape[1])
        c[i], c[-1] = 1.0, usual
        adjusted = c @ coef - usual
        half = t * np.sqrt(c @ cov @ c)
        out[routine] = (adjusted, adjusted - half, adjusted + half)
    return out, usual, coef[-1]


def raw_interval(pairs):
    d = np.array([y - x for x, y in pairs], dtype=float)
    half = scipy_stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return d.mean(), d.mean() - half, d.mean() + half


def get(client, who, query=""):
    r = client.get(f"/api/insights/what-helps{query}", headers=who["headers"])
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_allowing_for_the_start_flips_the_ranking(client, alice):
    add_sessions(alice["user"]["id"], SESSIONS)
    body = get(client, alice)
    rows = {r["routine"]: r for r in body["routines"]}

    raw_order = sorted(("box", "cyclic-sighing", "resonance"), key=lambda k: -rows[k]["raw"]["mean"])
    assert raw_order[0] == "box" and raw_order[-1] == "cyclic-sighing"
    ranked = [r["routine"] for r in body["routines"] if r["rank"] is not None]
    assert ranked[0] == "cyclic-sighing"
    assert ranked.index("cyclic-sighing") < ranked.index("box")
    assert rows["cyclic-sighing"]["adjusted"]["mean"] > rows["box"]["adjusted"]["mean"]


def test_numbers_match_an_independent_least_squares_fit(client, alice):
    add_sessions(alice["user"]["id"], SESSIONS)
    body = get(client, alice)
    expected, usual, _slope = independent_fit(SESSIONS)
    assert body["sessions"] == sum(len(p) for p in SESSIONS.values())
    assert body["usual_start"] == pytest.approx(usual, abs=0.005)
    for row in body["routines"]:
        adjusted, lo, hi = expected[row["routine"]]
        assert row["adjusted"]["mean"] == pytest.approx(adjusted, abs=0.005)
        assert row["adjusted"]["ci95"] == pytest.approx([lo, hi], abs=0.005)
        mean, rlo, rhi = raw_interval(SESSIONS[row["routine"]])
        assert row["raw"]["mean"] == pytest.approx(mean, abs=0.005)
        assert row["raw"]["ci95"] == pytest.approx([rlo, rhi], abs=0.005)
        assert row["n"] == len(SESSIONS[row["routine"]])


def test_the_adjusted_figures_agree_with_the_insights_page(client, alice):
    """The same fit as stats.adjusted_means (the insights recommendation), so both agree."""
    groups = {}
    for routine, pairs in SESSIONS.items():
        x = [p for p, _ in pairs]
        d = [q - p for p, q in pairs]
        groups[routine] = GroupSums(len(x), sum(x), sum(d), sum(v * v for v in x), sum(a * b for a, b in zip(x, d)))
    from_stats = adjusted_means(groups)
    add_sessions(alice["user"]["id"], SESSIONS)
    for row in get(client, alice)["routines"]:
        assert row["adjusted"]["mean"] == pytest.approx(from_stats[row["routine"]], abs=0.005)


def test_only_routines_with_three_sessions_are_ranked(client, alice):
    add_sessions(alice["user"]["id"], SESSIONS)
    rows = get(client, alice)["routines"]
    humming = next(r for r in rows if r["routine"] == "humming")
    assert humming["rank"] is None and humming["verdict"] == "too_few"
    assert "1 more session" in humming["words"]
    assert rows[-1]["routine"] == "humming"  # ranked ones first
    assert sorted(r["rank"] for r in rows if r["rank"]) == [1, 2, 3]


def test_other_people_and_unrated_sessions_do_not_count(client, alice, bob):
    add_sessions(alice["user"]["id"], SESSIONS)
    add_sessions(bob["user"]["id"], {"box": [(1, 9)] * 5})
    db.session.add(PracticeSession(uuid=uuid.uuid4(), user_id=alice["user"]["id"], routine="box",
                                   started_at=NOW, pre_mood=1, post_mood=None))
    db.session.commit()
    rows = {r["routine"]: r for r in get(client, alice)["routines"]}
    assert rows["box"]["n"] == len(SESSIONS["box"])
    assert get(client, bob)["routines"][0]["n"] == 5


def test_days_limits_the_window(client, alice):
    add_sessions(alice["user"]["id"], {"box": [(4, 6)] * 3}, start=datetime.now(timezone.utc))
    add_sessions(alice["user"]["id"], {"resonance": [(4, 6)] * 3}, start=datetime.now(timezone.utc) - timedelta(days=60))
    assert {r["routine"] for r in get(client, alice, "?days=30")["routines"]} == {"box"}
    assert {r["routine"] for r in get(client, alice)["routines"]} == {"box", "resonance"}
    assert client.get("/api/insights/what-helps?days=3", headers=alice["headers"]).status_code == 422


def test_no_sessions_yet(client, alice):
    body = get(client, alice)
    assert body["routines"] == [] and body["sessions"] == 0 and body["usual_start"] is None
    assert "at least 3 sessions" in body["summary"]


def test_words_never_claim_a_treatment(client, alice):
    add_sessions(alice["user"]["id"], SESSIONS)
    body = get(client, alice)
    texts = [body["summary"], body["method"]] + [r["words"] for r in body["routines"]]
    for text in texts:
        lowered = text.lower()
        assert "cure" not in lowered and "treats" not in lowered and "proves" not in lowered


# --- the verdict and the fit's edge cases ----------------------------------------------------

@pytest.mark.parametrize(
    "n, effect, expected",
    [
        (2, what_helps.Effect(3.0, (2.0, 4.0)), "too_few"),
        (3, what_helps.Effect(0.5, None), "not_sure"),
        (5, what_helps.Effect(0.4, (-0.2, 1.0)), "not_sure"),
        (5, what_helps.Effect(0.4, (0.1, 0.7)), "likely_helps_a_little"),
        (5, what_helps.Effect(1.5, (0.6, 2.4)), "likely_helps"),
        (5, what_helps.Effect(-0.8, (-1.2, -0.4)), "likely_not_helping"),
    ],
)
def test_verdicts_follow_the_interval(n, effect, expected):
    assert what_helps.verdict(n, effect) == expected


def test_without_spread_in_the_start_the_raw_means_stand():
    groups = {"a": MeasureSums(n=3, sum_d=6, sum_d2=14, sum_x=9, sum_x2=27, sum_xd=18),  # pre 3,3,3; d 1,2,3
              "b": MeasureSums(n=2, sum_d=-2, sum_d2=2, sum_x=10, sum_x2=50, sum_xd=-10)}  # pre 5,5; d −1,−1
    model = what_helps.fit(groups)
    assert model.slope == 0 and model.df == 3
    a = what_helps.adjusted_effect(groups["a"], model)
    assert a.mean == pytest.approx(2.0)
    half = scipy_stats.t.ppf(0.975, 3) * np.sqrt((2 / 3) / 3)  # s² = (2 + 0) / 3
    assert a.ci95 == pytest.approx((2.0 - half, 2.0 + half))


def test_a_single_session_has_no_interval():
    groups = {"a": MeasureSums(n=1, sum_d=2, sum_d2=4, sum_x=3, sum_x2=9, sum_xd=6)}
    effect = what_helps.adjusted_effect(groups["a"], what_helps.fit(groups))
    assert effect.mean == 2 and effect.ci95 is None


# --- surprise me ----------------------------------------------------------------------------

def _user(alice) -> User:
    return db.session.get(User, alice["user"]["id"])


def test_surprise_is_uniform_over_distinct_favourites(client, alice):
    user = _user(alice)
    rng = random.Random(20261123)
    favourites = ["box", "resonance", "box", "humming", "box"]  # box named thrice still counts once
    draws = Counter(what_helps.pick_surprise(user, favourites, rng)["routine"] for _ in range(3000))
    assert set(draws) == {"box", "resonance", "humming"}
    chi2 = sum((count - 1000) ** 2 / 1000 for count in draws.values())
    assert chi2 < 13.8  # χ² with 2 degrees of freedom, p = 0.001


def test_surprise_never_picks_a_routine_screening_does_not_allow(client, alice):
    body = client.post("/api/insights/surprise", json={"favourites": ["cold-plunge", "box"]}, headers=alice["headers"]).get_json()
    assert body["routine"] == "box" and body["chosen_from"] == ["box"]
    assert body["left_out"][0]["slug"] == "cold-plunge" and body["left_out"][0]["reason"]


def test_surprise_without_favourites_uses_the_three_most_practised(client, alice):
    add_sessions(alice["user"]["id"], {"box": [(5, 5)] * 5, "resonance": [(5, 5)] * 4,
                                       "humming": [(5, 5)] * 3, "4-7-8": [(5, 5)] * 1})
    r = client.post("/api/insights/surprise", json={}, headers=alice["headers"])
    assert r.status_code == 200
    body = r.get_json()
    assert body["source"] == "most_used"
    assert body["chosen_from"] == ["box", "resonance", "humming"]
    assert body["routine"] in body["chosen_from"]
    assert body["name"]


def test_surprise_with_nothing_to_choose_from(client, alice):
    body = client.post("/api/insights/surprise", json={}, headers=alice["headers"]).get_json()
    assert body["routine"] is None and body["chosen_from"] == [] and body["message"]


@pytest.mark.shared_app
@pytest.mark.parametrize(
    "body",
    [{"favourites": []}, {"favourites": ["no-such-routine"]}, {"favourites": ["box"] * 21}, {"favourites": "box"}, {"pick": "box"}],
)
def test_surprise_refuses_odd_favourites(client, alice, body):
    r = client.post("/api/insights/surprise", json=body, headers=alice["headers"])
    assert r.status_code == 422, r.get_json()


def test_surprise_and_what_helps_need_a_login(client):
    assert client.get("/api/insights/what-helps").status_code == 401
    assert client.post("/api/insights/surprise", json={}).status_code == 401


def test_a_routine_the_screening_refuses_is_shown_but_never_ranked(client, alice):
    add_sessions(alice["user"]["id"], {**SESSIONS, "cold-plunge": [(3, 9), (4, 9), (5, 10)]})
    before = {r["routine"]: r for r in get(client, alice)["routines"]}
    # Not answered yet: cold-plunge requires screening, so it is held back even with the best lift.
    assert before["cold-plunge"]["rank"] is None and before["cold-plunge"]["blocked"]
    assert before["cyclic-sighing"]["rank"] == 1
    yes = {k: k == "pregnancy" for k in ("heart_condition", "arrhythmia", "high_blood_pressure", "pregnancy",
                                         "epilepsy", "raynauds", "respiratory", "panic_disorder")}
    client.put("/api/me/screening", json={"answers": {**yes, "pregnancy": False}}, headers=alice["headers"])
    body = get(client, alice)
    assert body["routines"][0]["routine"] == "cold-plunge" and body["routines"][0]["rank"] == 1
    client.put("/api/me/screening", json={"answers": yes}, headers=alice["headers"])
    body = get(client, alice)
    plunge = next(r for r in body["routines"] if r["routine"] == "cold-plunge")
    assert plunge["rank"] is None and "pregnant" in plunge["blocked"]
    assert body["routines"][-1]["routine"] == "cold-plunge"
    assert "Cold" not in body["summary"]
