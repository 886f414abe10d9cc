"""The built-in catalogue: honest texts, safety cautions, screening data, resonance planning,
and start-up refusing a broken built-in. No database needed (except to build an app)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from coach.routines import catalogue
from coach.routines.catalogue import BUILTIN_SLUGS, CatalogueError, builtin, load_catalogue
from coach.routines.planning import plan_resonance, resonance_plan
from tests.helpers.apps import make_app

CONTRACT_SLUGS = {
    "resonance", "extended-exhale", "box", "4-7-8", "cyclic-sighing",
    "humming", "power-breathing", "cold-face", "cold-shower", "cold-plunge",
}
ACTIONS = {"inhale", "hold", "exhale", "hold_empty", "sigh_inhale", "cold", "rest", "prepare"}
SLOW_BREATHING = {"resonance", "extended-exhale", "box", "4-7-8", "humming"}
ALL = [builtin(slug) for slug in BUILTIN_SLUGS]


def by_slug(slug):
    return next(r for r in ALL if r["slug"] == slug)


def texts(routine):
    return [routine["name"], routine["goal"], routine["summary"], routine["evidence"], *routine["cautions"],
            *(p["cue"] for p in routine["phases"]), *(b["reason"] for b in routine["blocked_by"])]


def test_the_contracts_slugs_are_all_there():
    assert CONTRACT_SLUGS <= set(BUILTIN_SLUGS)
    assert all(r["builtin"] is True for r in ALL)


@pytest.mark.parametrize("routine", ALL, ids=lambda r: r["slug"])
def test_every_builtin_cites_evidence_and_carries_cautions(routine):
    assert re.search(r"\((?:[^()]*?)(19|20)\d\d\b", routine["evidence"]), "evidence needs a citation with a year"
    assert routine["cautions"] and all(c.strip() for c in routine["cautions"])
    assert routine["summary"].strip() and routine["goal"].strip()
    assert {p["action"] for p in routine["phases"]} <= ACTIONS


@pytest.mark.parametrize("routine", ALL, ids=lambda r: r["slug"])
def test_no_builtin_promises_a_treatment_or_cure(routine):
    for text in texts(routine):
        lowered = text.lower()
        assert not re.search(r"\bcures?\b|\btreats?\b|\btreating\b|\bheals?\b", lowered), text
        # "treatment" may only appear as what it is not
        for match in re.finditer(r"treatment", lowered):
            assert "not a treatment" in lowered[max(0, match.start() - 8): match.end()], text


@pytest.mark.parametrize("routine", ALL, ids=lambda r: r["slug"])
def test_total_seconds_is_phases_times_cycles(routine):
    tenths = sum(round(p["seconds"] * 10) for p in routine["phases"])
    assert routine["total_seconds"] == pytest.approx(tenths * routine["cycles"] / 10)
    assert routine["total_seconds"] <= 3600


def test_breath_hold_routines_warn_about_water_and_driving():
    holding = [r for r in ALL if {p["action"] for p in r["phases"]} & {"hold", "hold_empty"}]
    assert {"box", "4-7-8", "power-breathing"} <= {r["slug"] for r in holding}
    for routine in holding:
        warning = [c for c in routine["cautions"] if "water" in c and "driving" in c]
        assert warning, routine["slug"]
        assert "seated or lying down" in warning[0]


def test_cold_routines_say_never_combine_breath_holds_with_cold_water():
    cold = [r for r in ALL if r["kind"] in ("cold", "combined")]
    assert {r["slug"] for r in cold} >= {"cold-face", "cold-shower", "cold-plunge"}
    for routine in cold:
        assert any("breath holds" in c.lower() and "cold water" in c.lower() for c in routine["cautions"]), routine["slug"]
        # and none of them asks for a breath hold
        assert not {p["action"] for p in routine["phases"]} & {"hold", "hold_empty"}
    assert any("cold shower or plunge" in c for c in by_slug("power-breathing")["cautions"])


@pytest.mark.parametrize("slug", sorted(SLOW_BREATHING))
def test_slow_breathing_routines_coach_against_over_breathing(slug):
    cautions = " ".join(by_slug(slug)["cautions"]).lower()
    assert "small" in cautions and "light-headed" in cautions and "breathe smaller" in cautions
    assert "less relaxing" in cautions


def test_humming_is_honest_that_vagal_evidence_is_thin():
    assert "thin" in by_slug("humming")["evidence"]


def test_cold_face_uses_cold_water_without_a_breath_hold():
    face = by_slug("cold-face")
    assert "10–15 °C" in face["summary"]
    assert "Hayashi" in face["evidence"] and "1997" in face["evidence"]
    assert [p["action"] for p in face["phases"]][0] == "prepare"
    assert "cold" in {p["action"] for p in face["phases"]} and "rest" in {p["action"] for p in face["phases"]}
    assert any("not hold your breath" in c for c in face["cautions"])


def test_cyclic_sighing_is_a_double_inhale_and_a_long_exhale():
    actions = [p["action"] for p in by_slug("cyclic-sighing")["phases"]]
    assert actions == ["inhale", "hold", "sigh_inhale", "exhale"]
    phases = by_slug("cyclic-sighing")["phases"]
    assert phases[3]["seconds"] >= 3 and phases[3]["seconds"] > phases[0]["seconds"] + phases[2]["seconds"]
    assert "Balban" in by_slug("cyclic-sighing")["evidence"]


def test_extended_exhale_breathes_out_at_least_1_2_times_longer_at_about_six_a_minute():
    inhale, exhale = (p["seconds"] for p in by_slug("extended-exhale")["phases"])
    assert exhale / inhale >= 1.2
    assert 60 / (inhale + exhale) == pytest.approx(6.0, abs=0.5)


def test_power_breathing_is_rounds_with_an_open_ended_retention():
    routine = by_slug("power-breathing")
    retention = [p for p in routine["phases"] if p["action"] == "hold_empty"]
    assert len(retention) == 1 and retention[0]["open_ended"] is True and retention[0]["seconds"] > 0
    assert routine["phases"][-2]["action"] == "hold"  # the recovery breath hold
    assert routine["cycles"] >= 2  # rounds: one retention_seconds entry each
    assert sum(p["action"] == "inhale" for p in routine["phases"]) >= 10


def test_screening_required_and_what_blocks_what():
    assert {r["slug"] for r in ALL if r["requires_screening"]} == {"power-breathing", "cold-plunge"}

    def blockers(slug):
        return {b["answer"] for b in by_slug(slug)["blocked_by"]}

    assert {"heart_condition", "arrhythmia", "high_blood_pressure", "raynauds"} <= blockers("cold-plunge")
    assert {"epilepsy", "pregnancy", "panic_disorder", "respiratory"} <= blockers("power-breathing")
    assert "raynauds" in blockers("cold-shower")
    assert blockers("resonance") == set()
    for routine in ALL:
        for block in routine["blocked_by"]:
            assert "doctor" in block["reason"] or "leave this one out" in block["reason"]


def test_builtin_returns_a_copy():
    routine = builtin("box")
    routine["phases"].clear()
    routine["cautions"].append("changed")
    assert builtin("box")["phases"] and "changed" not in builtin("box")["cautions"]
    assert builtin("no-such-routine") is None


# --- resonance planning ----------------------------------------------------------------

# Worked by hand: 60/bpm to 0.1 s (half up), inhale 40 % of that (half up), exhale the rest.
HAND_WORKED = {
    6.0: (4.0, 6.0),
    5.5: (4.4, 6.5),   # 10.909… → 10.9; 4.36 → 4.4
    4.5: (5.3, 8.0),   # 13.333… → 13.3; 5.32 → 5.3
    7.0: (3.4, 5.2),   # 8.571… → 8.6; 3.44 → 3.4
    6.5: (3.7, 5.5),   # 9.230… → 9.2; 3.68 → 3.7
    4.0: (6.0, 9.0),
    7.5: (3.2, 4.8),
}


def independent_plan(bpm: float):
    """The same rule in integer tenths, written without the app's code."""
    b = round(bpm * 10)  # breaths per 10 minutes = cycles of a ten-minute session
    period = (2 * 6000 + b) // (2 * b)  # 6000 / b rounded half up, in tenths of a second
    inhale = (4 * period + 5) // 10  # 40 % rounded half up
    return inhale / 10, (period - inhale) / 10, b


@pytest.mark.parametrize("bpm", [4.0, 4.5, 4.6, 4.8, 5.0, 5.3, 5.5, 5.7, 6.0, 6.1, 6.5, 7.0, 7.3, 7.5])
def test_resonance_plan_matches_independent_arithmetic(bpm):
    inhale, exhale, cycles = resonance_plan(bpm)
    assert (inhale, exhale, cycles) == independent_plan(bpm)
    assert abs(inhale + exhale - 60 / bpm) <= 0.05 + 1e-9  # as close as a 0.1 s grid allows
    assert inhale / (inhale + exhale) == pytest.approx(0.4, abs=0.01)
    assert abs(cycles * (inhale + exhale) - 600) <= 60 / bpm / 2 + 0.05 * cycles  # about ten minutes
    if bpm in HAND_WORKED:
        assert (inhale, exhale) == HAND_WORKED[bpm]


def test_resonance_plan_defaults_to_six_and_keeps_the_cues():
    assert resonance_plan(None) == (4.0, 6.0, 60)
    planned = plan_resonance(builtin("resonance"), 5.5)
    assert [p["seconds"] for p in planned["phases"]] == [4.4, 6.5]
    assert [p["cue"] for p in planned["phases"]] == [p["cue"] for p in builtin("resonance")["phases"]]
    assert planned["cycles"] == 55 and planned["total_seconds"] == pytest.approx(55 * 10.9)
    # the stored data is the 6.0 plan
    assert [p["seconds"] for p in builtin("resonance")["phases"]] == [4.0, 6.0]
    assert builtin("resonance")["cycles"] == 60


# --- start-up validation -----------------------------------------------------------------

def raw_data():
    return json.loads(Path(catalogue.DATA).read_text(encoding="utf-8"))


def write(tmp_path, data) -> Path:
    path = tmp_path / "builtin.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def routine_in(data, slug):
    return next(r for r in data["routines"] if r["slug"] == slug)


def test_the_shipped_file_loads():
    assert set(load_catalogue()) == set(BUILTIN_SLUGS)


@pytest.fixture
def broken(tmp_path, monkeypatch):
    """Point the catalogue at a copy of the data that a test breaks; restored afterwards."""
    data = raw_data()

    def use():
        monkeypatch.setattr(catalogue, "DATA", write(tmp_path, data))

    return data, use


def test_app_does_not_start_with_a_phase_too_short(broken, tmp_path):
    data, use = broken
    routine_in(data, "box")["phases"][1]["seconds"] = 0.4
    use()
    with pytest.raises(CatalogueError, match=r"'box'.*seconds"):
        make_app(f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path)
    assert [p["seconds"] for p in builtin("box")["phases"]] == [4.0, 4.0, 4.0, 4.0]  # the good catalogue stays


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda d: routine_in(d, "humming").__setitem__("evidence", "Some people like it."), r"'humming'.*evidence"),
        (lambda d: routine_in(d, "box")["phases"][0].__setitem__("action", "breathe"), r"'box'.*action"),
        (lambda d: routine_in(d, "4-7-8").__setitem__("mood_boost", True), r"'4-7-8'.*mood_boost"),
        (lambda d: routine_in(d, "cold-plunge").__setitem__("blocked_by", []), r"'cold-plunge'.*blocked_by"),
        (lambda d: routine_in(d, "cold-face")["phases"].append({"action": "hold", "seconds": 20}), r"'cold-face'.*Breath holds and cold water"),
        (lambda d: d["routines"].append(dict(routine_in(d, "box"))), r"'box' appears twice"),
        (lambda d: d["routines"].remove(routine_in(d, "humming")), r"missing: humming"),
        (lambda d: d["standard_cautions"].pop("cold"), r"standard_cautions"),
        (lambda d: routine_in(d, "resonance")["phases"].append({"action": "hold", "seconds": 1}), r"'resonance'"),
    ],
    ids=["no-citation", "bad-action", "unknown-field", "screening-without-blocks", "hold-in-cold",
         "duplicate", "missing", "standard-caution", "resonance-shape"],
)
def test_app_does_not_start_with_a_broken_builtin(broken, tmp_path, breakage, message):
    data, use = broken
    breakage(data)
    use()
    with pytest.raises(CatalogueError, match=message):
        make_app(f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path)


def test_app_does_not_start_with_unreadable_data(tmp_path, monkeypatch):
    path = tmp_path / "builtin.json"
    path.write_text("{not json", encoding="utf-8")
    monkeypatch.setattr(catalogue, "DATA", path)
    with pytest.raises(CatalogueError, match="cannot be read"):
        make_app(f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path)
