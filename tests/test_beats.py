"""Beat cleaning (coach.practice.beats) on RR series with known ectopic, missed and extra beats,
checked against the series before the artefacts went in and against hrv-analysis's own cleaning
(`remove_ectopic_beats` + `interpolate_nan_values`, an independent implementation); and the
finder's figures and choice of rate once the beats are cleaned (the defect of issue 16: three
premature beats chose 6.5 instead of 5.5)."""
from __future__ import annotations

import random

import pytest
from hrvanalysis import get_time_domain_features, interpolate_nan_values, remove_ectopic_beats

from coach.practice import beats, resonance
from tests.test_resonance import RATES, synthetic_rr


def premature(rr: list[float], at: int, early: float = 0.66) -> list[float]:
    """A premature beat at `at`: a short interval, then the compensatory pause (same total time)."""
    rr = list(rr)
    short = rr[at] * early
    rr[at + 1] += rr[at] - short
    rr[at] = short
    return rr


def missed(rr: list[float], at: int) -> list[float]:
    """The beat ending interval `at` went unseen: two intervals read as one."""
    return rr[:at] + [rr[at] + rr[at + 1]] + rr[at + 2:]


def extra(rr: list[float], at: int, share: float = 0.4) -> list[float]:
    """A false beat inside interval `at` (a camera's dicrotic notch, a strap's tremor)."""
    return rr[:at] + [rr[at] * share, rr[at] * (1 - share)] + rr[at + 1:]


def hrv_analysis_cleaned(rr: list[float]) -> list[float]:
    """hrv-analysis: Karlsson's rule (20 % from the mean of the two neighbours), then interpolation."""
    return interpolate_nan_values(remove_ectopic_beats(rr, method="karlsson", verbose=False))


def the_issue_steps() -> list[dict]:
    """Five 2-minute steps, the swing largest at 5.5; three premature beats in the 6.5 step."""
    amplitude = {6.5: 7.0, 6.0: 5.0, 5.5: 9.0, 5.0: 6.0, 4.5: 4.0}
    steps = []
    for i, bpm in enumerate(RATES):
        rr = synthetic_rr(bpm, amplitude[bpm], jitter_ms=45.0, seed=i + 3, mean_hr=62.0)
        if bpm == 6.5:
            for at in (25, 61, 97):
                rr = premature(rr, at)
        steps.append({"bpm": bpm, "calm": 5, "comfort": 5, "rr_ms": rr})
    return steps


# --- the cleaning itself -------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("bpm, amplitude", [(6.5, 4.0), (5.5, 12.0), (4.5, 9.0)])
def test_premature_beats_are_found_and_rmssd_comes_back(bpm, amplitude, seed):
    true = synthetic_rr(bpm, amplitude, jitter_ms=25.0, seed=seed, mean_hr=70.0)
    rng = random.Random(seed)
    places = sorted(rng.sample(range(5, len(true) - 5, 10), 3))
    rr = true
    for at in places:
        rr = premature(rr, at, early=rng.uniform(0.6, 0.78))
    cleaned = beats.clean(rr)
    assert (cleaned.ectopic, cleaned.corrected) == (3, 3)
    assert len(cleaned.rr_ms) == len(true)
    true_rmssd = resonance.rmssd(true)
    assert resonance.rmssd(rr) > 1.8 * true_rmssd  # what the uncleaned figure would be
    assert resonance.rmssd(cleaned.rr_ms) == pytest.approx(true_rmssd, rel=0.06)
    assert resonance.rmssd(cleaned.rr_ms) == pytest.approx(resonance.rmssd(hrv_analysis_cleaned(rr)), rel=0.06)
    # Only the two intervals of each pair changed, the rest are as received.
    changed = [i for i, (a, b) in enumerate(zip(rr, cleaned.rr_ms)) if a != b]
    assert changed == [i for at in places for i in (at, at + 1)]


def test_a_missed_beat_is_split_and_an_extra_beat_joined():
    true = synthetic_rr(6.0, 6.0, jitter_ms=15.0, seed=7)
    rr = extra(missed(true, 40), 90)
    cleaned = beats.clean(rr)
    assert (cleaned.missed, cleaned.extra, cleaned.ectopic, cleaned.corrected) == (1, 1, 0, 2)
    assert len(cleaned.rr_ms) == len(true)
    assert cleaned.rr_ms[40] == cleaned.rr_ms[41] == pytest.approx((true[40] + true[41]) / 2)
    assert cleaned.rr_ms[90] == pytest.approx(true[90])
    assert sum(cleaned.rr_ms) == pytest.approx(sum(true))  # the step keeps its length in time
    assert resonance.rmssd(cleaned.rr_ms) == pytest.approx(resonance.rmssd(true), rel=0.08)


@pytest.mark.parametrize("seed", range(6))
def test_slow_breathing_swings_and_noise_are_not_artefacts(seed):
    """A heart at resonance swings 20+ beats a minute within a breath, smoothly: nothing to clean."""
    for bpm, amplitude in ((4.5, 2.0), (5.5, 14.0), (5.0, 20.0), (6.5, 7.0)):
        rr = synthetic_rr(bpm, amplitude, jitter_ms=30.0, seed=seed, mean_hr=75.0)
        cleaned = beats.clean(rr)
        assert cleaned.corrected == 0 and cleaned.rr_ms == rr and cleaned.reliable


def test_a_steady_series_and_tiny_series_pass_untouched():
    assert beats.clean([900.0] * 30).corrected == 0
    assert beats.clean([900.0, 905.0]).rr_ms == [900.0, 905.0]


def test_more_than_five_percent_corrected_is_unreliable():
    true = synthetic_rr(5.5, 8.0, jitter_ms=20.0, seed=1)  # 2 minutes: about 130 beats
    six = true
    for at in range(8, 128, 20):
        six = premature(six, at)
    assert beats.clean(six).corrected == 6 and beats.clean(six).reliable  # 6 of ~130: under 5 %
    eight = six
    for at in (18, 38):
        eight = premature(eight, at)
    assert beats.clean(eight).corrected == 8 and not beats.clean(eight).reliable


# --- the finder with cleaned beats ---------------------------------------------------------

def test_three_premature_beats_no_longer_choose_the_rate():
    """Issue 16: the premature beats raised the 6.5 step's RMSSD about 2.5-fold and its swing
    above 5.5's; cleaned, the figures are the true ones and 5.5 wins."""
    steps = the_issue_steps()
    true = synthetic_rr(6.5, 7.0, jitter_ms=45.0, seed=3, mean_hr=62.0)
    assert resonance.rmssd(steps[0]["rr_ms"]) > 2.2 * resonance.rmssd(true)  # ~140 against ~61
    results, best, basis = resonance.analyse(steps)
    assert (best, basis) == (5.5, "hr_swing")
    first = results[0]
    assert first.corrected_beats == 3 and first.reliable
    assert first.rmssd_ms == pytest.approx(resonance.rmssd(true), rel=0.05)
    assert first.rmssd_ms == pytest.approx(get_time_domain_features(hrv_analysis_cleaned(steps[0]["rr_ms"]))["rmssd"], rel=0.05)
    assert first.hr_swing_bpm == pytest.approx(resonance.hr_swing(true, 6.5)[0], rel=0.05)
    assert all(r.corrected_beats == 0 for r in results[1:])


def test_an_unreliable_step_never_wins():
    steps = the_issue_steps()
    # 5.5 swings most, but a tenth of its beats are premature: the figures are not to be trusted.
    for at in range(5, 120, 11):
        steps[2]["rr_ms"] = premature(steps[2]["rr_ms"], at)
    results, best, basis = resonance.analyse(steps)
    assert not results[2].reliable and results[2].corrected_beats >= 10
    assert results[2].hr_swing_bpm is not None  # still shown
    assert basis == "hr_swing" and best == max((r for r in results if r.reliable), key=lambda r: r.hr_swing_bpm).bpm
    assert best != 5.5


def test_when_no_step_is_reliable_the_ratings_decide():
    steps = []
    for b, c in ((6.0, 4), (5.0, 8)):
        rr = synthetic_rr(b, 6.0, jitter_ms=20.0, seed=int(b))
        for at in range(4, len(rr) - 2, 12):  # one beat in twelve premature
            rr = premature(rr, at)
        steps.append({"bpm": b, "calm": c, "comfort": c, "rr_ms": rr})
    results, best, basis = resonance.analyse(steps)
    assert not any(r.reliable for r in results)
    assert (best, basis) == (5.0, "ratings")


def test_the_api_reports_corrections_and_the_source(client, alice):
    steps = the_issue_steps()
    for step in steps:
        step["source"] = "camera"
    r = client.post("/api/resonance/assessments", json={"steps": steps}, headers=alice["headers"])
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["best_bpm"] == 5.5
    first = body["steps"][0]
    assert (first["source"], first["corrected_beats"], first["reliable"]) == ("camera", 3, True)
    assert first["beats"] == len(steps[0]["rr_ms"])
    assert first["mean_hr_bpm"] == pytest.approx(62.0, abs=1.0)
    # Ratings only: no source, nothing corrected.
    r = client.post("/api/resonance/assessments", json={"steps": [{"bpm": 6.0, "calm": 5, "comfort": 5}]}, headers=alice["headers"])
    step = r.get_json()["steps"][0]
    assert (step["source"], step["corrected_beats"], step["reliable"], step["beats"]) == (None, 0, None, 0)
    # A strap is the default source for RR intervals sent without one.
    r = client.post("/api/resonance/assessments", json={"steps": [{"bpm": 6.0, "calm": 5, "comfort": 5, "rr_ms": [900.0] * 30}]}, headers=alice["headers"])
    assert r.get_json()["steps"][0]["source"] == "strap"


def test_an_unknown_source_or_a_source_without_beats_is_refused(client, alice):
    for step in ({"bpm": 6.0, "calm": 5, "comfort": 5, "rr_ms": [900.0] * 30, "source": "watch"},
                 {"bpm": 6.0, "calm": 5, "comfort": 5, "source": "camera"}):
        r = client.post("/api/resonance/assessments", json={"steps": [step]}, headers=alice["headers"])
        assert r.status_code == 422 and "steps" in r.get_json()["errors"], r.get_json()
    assert client.get("/api/resonance/assessments", headers=alice["headers"]).get_json()["assessments"] == []


def test_openapi_documents_the_new_fields(client):
    spec = client.get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    step_in = next(s for n, s in schemas.items() if n.startswith("ResonanceStepIn"))
    assert step_in["properties"]["source"]["enum"] == ["strap", "camera"]
    step_out = next(s for n, s in schemas.items() if n.startswith("ResonanceStep") and not n.startswith("ResonanceStepIn"))
    for name in ("source", "corrected_beats", "reliable", "beats", "mean_hr_bpm"):
        assert step_out["properties"][name].get("description"), name


def test_a_step_too_short_for_a_breath_neither_wins_nor_stops_the_swing_deciding():
    """A camera pace that lost half its signal may hold less than one full breath: it has no
    swing, but the other recorded paces still compare by theirs."""
    steps = the_issue_steps()
    steps[0]["rr_ms"] = steps[0]["rr_ms"][:8]  # 6.5 a minute: 9.2 s a breath, ~7.7 s recorded
    results, best, basis = resonance.analyse(steps)
    assert results[0].hr_swing_bpm is None and results[0].source == "strap"
    assert (best, basis) == (5.5, "hr_swing")
