"""Planning the resonance routine at a person's own breathing rate.

The rule, in tenths of a second (the phase grid):
1. the breath period 60 / bpm is rounded half-up to 0.1 s;
2. the inhale is 40 % of that period (inhale:exhale 4:6), rounded half-up to 0.1 s
   (never a tie: 4 × a whole number of tenths is even, a tie would need it odd);
3. the exhale is the rest, so inhale + exhale is exactly the rounded period: within 0.05 s
   of 60 / bpm, as close as a 0.1 s grid allows.
Cycles: the session is about ten minutes, i.e. bpm × 10 breaths rounded half-up.
At 6.0 → 4.0 s + 6.0 s × 60; at 5.5 → 4.4 s + 6.5 s × 55 (10.9 s vs 10.909…).
The bpm is read as the decimal a person typed (5.5, not its binary float), so ties round
the way a person expects.
"""
from __future__ import annotations

from fractions import Fraction
from math import floor

from .schema import total_seconds

DEFAULT_BPM = 6.0
MIN_BPM, MAX_BPM = 4.0, 7.5  # what PATCH /api/me allows
INHALE_SHARE = Fraction(4, 10)
SESSION_MINUTES = 10


def _half_up(x: Fraction) -> int:
    return floor(x + Fraction(1, 2))


def resonance_plan(bpm: float | None) -> tuple[float, float, int]:
    """(inhale seconds, exhale seconds, cycles) for a rate in breaths a minute."""
    if bpm is None:
        bpm = DEFAULT_BPM
    bpm = min(max(float(bpm), MIN_BPM), MAX_BPM)
    rate = Fraction(repr(bpm))
    period_tenths = _half_up(Fraction(600) / rate)
    inhale_tenths = _half_up(period_tenths * INHALE_SHARE)
    exhale_tenths = period_tenths - inhale_tenths
    cycles = _half_up(rate * SESSION_MINUTES)
    return inhale_tenths / 10, exhale_tenths / 10, cycles


def plan_resonance(routine: dict, bpm: float | None) -> dict:
    """The resonance routine re-timed at `bpm`; cues and texts are kept. Returns a new dict."""
    inhale, exhale, cycles = resonance_plan(bpm)
    seconds = {"inhale": inhale, "exhale": exhale}
    planned = dict(routine)
    planned["phases"] = [{**p, "seconds": seconds[p["action"]]} for p in routine["phases"]]
    planned["cycles"] = cycles
    planned["total_seconds"] = total_seconds(planned["phases"], cycles)
    return planned
