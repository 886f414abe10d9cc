"""The resonance finder: RMSSD and heart-rate swing checked against hrv-analysis on synthetic
RR series with a known rhythm, the choice of the best rate, and the API around it.

hrv-analysis (a test-only dependency) gives RMSSD directly. It has no per-breath swing, so the
swing is checked in two independent ways: the breath windows are cut here with numpy
(cumulative sum + searchsorted) and each window's max − min heart rate comes from
hrv-analysis's own `max_hr` / `min_hr` (60000 / RR); and against the amplitude the series
was built with (a sampled sine's swing is just under twice its amplitude).
"""
from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hrvanalysis import get_time_domain_features

from coach.practice import resonance
from tests.helpers.accounts import signup

RATES = (6.5, 6.0, 5.5, 5.0, 4.5)
# Heart-rate swing amplitude (beats a minute) per breathing rate: largest at 5.5.
AMPLITUDE = {6.5: 3.0, 6.0: 4.5, 5.5: 9.0, 5.0: 5.0, 4.5: 3.5}


def synthetic_rr(bpm: float, amplitude: float, seconds: float = 120.0, mean_hr: float = 65.0, jitter_ms: float = 0.0, seed: int = 0) -> list[float]:
    """Beat by beat: HR(t) = mean_hr + amplitude · sin(2π · bpm/60 · t); RR = 60000 / HR(t)."""
    rng = random.Random(seed)
    rr, t = [], 0.0
    while t < seconds * 1000:
        heart_rate = mean_hr + amplitude * math.sin(2 * math.pi * bpm / 60 * t / 1000 + 0.7)
        interval = 60000 / heart_rate + (rng.uniform(-jitter_ms, jitter_ms) if jitter_ms else 0.0)
        rr.append(round(interval, 3))
        t += interval
    return rr


def swing_by_numpy_and_hrvanalysis(rr: list[float], bpm: float) -> tuple[float, int]:
    """Independent: windows by numpy, max/min heart rate per window by hrv-analysis."""
    beat_times = np.cumsum(np.asarray(rr, dtype=float))
    window = 60000.0 / bpm
    full_windows = int(beat_times[-1] // window)  # windows that end before the last beat
    edges = np.searchsorted(beat_times, np.arange(full_windows + 1) * window, side="left")
    swings = []
    for w in range(full_windows):
        chunk = list(rr[edges[w] : edges[w + 1]])
        if len(chunk) >= 2:
            features = get_time_domain_features(chunk)
            swings.append(features["max_hr"] - features["min_hr"])
    return float(np.mean(swings)), len(swings)


def finder_steps(with_rr=True, jitter_ms=4.0):
    ratings = {6.5: (6, 7), 6.0: (7, 7), 5.5: (6, 5), 5.0: (5, 5), 4.5: (4, 3)}
    steps = []
    for i, bpm in enumerate(RATES):
        step = {"bpm": bpm, "calm": ratings[bpm][0], "comfort": ratings[bpm][1]}
        if with_rr:
            step["rr_ms"] = synthetic_rr(bpm, AMPLITUDE[bpm], jitter_ms=jitter_ms, seed=i)
        steps.append(step)
    return steps


# --- the maths ---------------------------------------------------------------------------

@pytest.mark.parametrize("bpm", RATES)
def test_rmssd_matches_hrv_analysis(bpm):
    rr = synthetic_rr(bpm, AMPLITUDE[bpm], jitter_ms=6.0, seed=int(bpm * 10))
    expected = get_time_domain_features(rr)["rmssd"]
    assert resonance.rmssd(rr) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("bpm", RATES)
def test_swing_matches_an_independent_windowing(bpm):
    rr = synthetic_rr(bpm, AMPLITUDE[bpm], jitter_ms=4.0, seed=int(bpm * 10))
    expected, windows = swing_by_numpy_and_hrvanalysis(rr, bpm)
    swing, breaths = resonance.hr_swing(rr, bpm)
    assert breaths == windows >= int(2 * bpm) - 1
    assert swing == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("bpm", RATES)
def test_swing_is_the_built_in_peak_to_trough(bpm):
    """No jitter: the swing is 2 × amplitude, less what sampling a sine at the beats misses."""
    amplitude = AMPLITUDE[bpm]
    swing, breaths = resonance.hr_swing(synthetic_rr(bpm, amplitude), bpm)
    assert breaths >= int(2 * bpm) - 1  # two minutes of breaths, the last one perhaps cut short
    assert 2 * amplitude * 0.9 <= swing <= 2 * amplitude + 1e-9


def test_hand_worked_windows():
    """6 breaths a minute → 10 s windows; beats at 1, 2, … s; a beat exactly on a boundary opens
    the next window; the unfinished last window does not count."""
    rr = [1000.0] * 25
    rr[3] = 800.0  # t = 3.8 s: heart rate 75 in window 1 (0–10 s)
    rr[14] = 1250.0  # t = 14.8 s: heart rate 48 in window 2 (10–20 s)
    # window 1 (beats up to t < 10 s): rates 60 and 75 → 15; window 2: 60 and 48 → 12.
    swings = resonance.breath_swings(rr, 6.0)
    assert swings == pytest.approx([15.0, 12.0])
    assert resonance.rmssd([800.0, 1000.0, 900.0]) == pytest.approx(math.sqrt((200**2 + 100**2) / 2))


def test_no_full_breath_gives_no_swing():
    assert resonance.hr_swing([900.0] * 5, 6.0) == (None, 0)
    assert resonance.rmssd([900.0]) is None


def test_best_rate_is_the_largest_swing_when_every_step_has_rr():
    results, best, basis = resonance.analyse(finder_steps())
    assert (best, basis) == (5.5, "hr_swing")
    swings = {r.bpm: r.hr_swing_bpm for r in results}
    assert max(swings, key=swings.get) == 5.5
    # The ratings would have chosen 6.0 (7 + 7): the heart decides when it was measured.
    assert max(results, key=lambda r: r.calm + r.comfort).bpm == 6.0


def test_best_rate_by_ratings_without_rr():
    _, best, basis = resonance.analyse(finder_steps(with_rr=False))
    assert (best, basis) == (6.0, "ratings")


def test_ratings_decide_when_some_steps_lack_rr():
    steps = finder_steps()
    del steps[0]["rr_ms"]
    results, best, basis = resonance.analyse(steps)
    assert (best, basis) == (6.0, "ratings")
    assert results[0].hr_swing_bpm is None and results[2].hr_swing_bpm is not None


def test_ties_go_to_the_rate_nearer_six_then_the_slower():
    steps = [{"bpm": b, "calm": 5, "comfort": 5} for b in (7.0, 6.5, 5.5, 4.5)]
    assert resonance.analyse(steps)[1] == 5.5  # 6.5 and 5.5 are as near to 6.0: the slower
    steps = [{"bpm": b, "calm": 5, "comfort": 5} for b in (7.0, 6.5, 4.5)]
    assert resonance.analyse(steps)[1] == 6.5


# --- the API -----------------------------------------------------------------------------

def test_post_assessment_reports_each_step_and_the_best_rate(client, alice):
    steps = finder_steps()
    r = client.post("/api/resonance/assessments", json={"steps": steps}, headers=alice["headers"])
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["best_bpm"] == 5.5 and body["basis"] == "hr_swing"
    assert body["created_at"].endswith("+00:00")
    for sent, got in zip(steps, body["steps"]):
        assert got["bpm"] == sent["bpm"]
        assert got["score"] == (sent["calm"] + sent["comfort"]) / 2
        expected_swing, breaths = swing_by_numpy_and_hrvanalysis(sent["rr_ms"], sent["bpm"])
        assert got["hr_swing_bpm"] == pytest.approx(expected_swing, abs=0.006)
        assert got["breaths"] == breaths
        assert got["rmssd_ms"] == pytest.approx(get_time_domain_features(sent["rr_ms"])["rmssd"], abs=0.051)
        assert "rr_ms" not in got  # the raw intervals are not kept

    # The user then confirms the rate as their own.
    r = client.patch("/api/me", json={"resonance_bpm": body["best_bpm"]}, headers=alice["headers"])
    assert r.status_code == 200 and r.get_json()["resonance_bpm"] == 5.5


def test_ratings_only_assessment(client, alice):
    r = client.post("/api/resonance/assessments", json={"steps": finder_steps(with_rr=False)}, headers=alice["headers"])
    assert r.status_code == 201
    body = r.get_json()
    assert (body["best_bpm"], body["basis"]) == (6.0, "ratings")
    assert all(s["hr_swing_bpm"] is None and s["rmssd_ms"] is None for s in body["steps"])


def _one(**changes):
    step = {"bpm": 6.0, "calm": 5, "comfort": 5, "rr_ms": [900.0] * 20}
    step.update(changes)
    return step


@pytest.mark.shared_app
@pytest.mark.parametrize(
    "body, field",
    [
        ({"steps": []}, "steps"),
        ({"steps": [_one(bpm=4.0 + i * 0.5) for i in range(11)]}, "steps"),
        ({"steps": [_one(bpm=4.4)]}, "steps"),
        ({"steps": [_one(bpm=7.1)]}, "steps"),
        ({"steps": [_one(bpm=5.55)]}, "steps"),
        ({"steps": [_one(bpm="5.5")]}, "steps"),
        ({"steps": [_one(calm=11)]}, "steps"),
        ({"steps": [_one(comfort=-1)]}, "steps"),
        ({"steps": [_one(calm=5.5)]}, "steps"),
        ({"steps": [_one(rr_ms=[900.0, 249.0])]}, "steps"),
        ({"steps": [_one(rr_ms=[900.0, 2001.0])]}, "steps"),
        ({"steps": [_one(rr_ms=[900.0])]}, "steps"),
        ({"steps": [_one(rr_ms=[900.0] * 2001)]}, "steps"),
        ({"steps": [_one(rr_ms=[900.0, "900"])]}, "steps"),
        ({"steps": [_one(), _one()]}, "steps"),  # the same rate twice
        ({"steps": [_one(heart="strong")]}, "steps"),
        ({"steps": [_one()], "extra": 1}, "extra"),
        ({}, "steps"),
    ],
)
def test_invalid_assessments_are_refused_and_nothing_is_stored(client, alice, body, field):
    r = client.post("/api/resonance/assessments", json=body, headers=alice["headers"])
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["errors"]
    assert client.get("/api/resonance/assessments", headers=alice["headers"]).get_json()["assessments"] == []


def test_a_nan_rate_is_refused(client, alice):
    r = client.post(
        "/api/resonance/assessments",
        data='{"steps": [{"bpm": NaN, "calm": 5, "comfort": 5}]}',
        content_type="application/json",
        headers=alice["headers"],
    )
    assert r.status_code in (400, 422)


def test_the_largest_allowed_body_fits(client, alice):
    rr = [round(700 + (j % 17) * 7.5, 3) for j in range(2000)]
    steps = [_one(bpm=round(4.5 + i * 0.2, 1), rr_ms=rr) for i in range(10)]
    r = client.post("/api/resonance/assessments", json={"steps": steps}, headers=alice["headers"])
    assert r.status_code == 201, r.get_json()
    assert len(r.get_json()["steps"]) == 10


def test_assessments_are_private_and_listed_newest_first(client, alice, bob):
    ids = []
    for bpm in (6.0, 5.0):
        r = client.post("/api/resonance/assessments", json={"steps": [_one(bpm=bpm)]}, headers=alice["headers"])
        ids.append(r.get_json()["id"])
    listed = client.get("/api/resonance/assessments", headers=alice["headers"]).get_json()["assessments"]
    assert [a["id"] for a in listed] == ids[::-1]
    assert client.get(f"/api/resonance/assessments/{ids[0]}", headers=alice["headers"]).get_json()["best_bpm"] == 6.0

    assert client.get("/api/resonance/assessments", headers=bob["headers"]).get_json()["assessments"] == []
    r = client.get(f"/api/resonance/assessments/{ids[0]}", headers=bob["headers"])
    assert r.status_code == 404 and r.get_json()["code"] == 404
    assert client.get("/api/resonance/assessments/999999", headers=alice["headers"]).status_code == 404


def test_assessments_need_a_login(client):
    assert client.get("/api/resonance/assessments").status_code == 401
    assert client.post("/api/resonance/assessments", json={"steps": [_one()]}).status_code == 401


def test_erasing_the_account_erases_its_assessments(client, app):
    from sqlalchemy import func, select

    from coach.extensions import db
    from coach.models import ResonanceAssessment

    carol = signup(client)
    client.post("/api/resonance/assessments", json={"steps": [_one()]}, headers=carol["headers"])
    assert db.session.scalar(select(func.count()).select_from(ResonanceAssessment)) == 1
    r = client.delete("/api/me", json={"password": carol["password"]}, headers=carol["headers"])
    assert r.status_code == 204
    assert db.session.scalar(select(func.count()).select_from(ResonanceAssessment)) == 0
