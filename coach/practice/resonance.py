"""The resonance finder: which breathing rate makes the heart-rate swing largest.

Protocol (Shaffer & Meehan 2020, describing Lehrer's): pace several rates between 4.5 and
7.0 breaths a minute for a minute or two each, rate calm and comfort after each, and record
RR intervals from a heart-rate strap or the phone's camera. At a person's resonance rate the
heart-rate swing with each breath grows several-fold (Vaschillo et al. 2002), so when every
step was recorded the rate with the largest swing wins (among the steps that count: reliable,
and at least one full breath long); otherwise the rate that felt best.

Per step:
- `hr_swing_bpm`: mean peak-to-trough heart-rate swing per breath. Each RR interval gives an
  instantaneous heart rate 60000 / RR (beats a minute), placed at the beat that ends it
  (the cumulative sum of the RR intervals). The recording is cut into windows of one breath
  (60 / bpm seconds) from its first beat; in every *full* window with at least two beats
  the swing is max − min; the step's value is their mean. The windows are not aligned to
  the breath (the app does not know its phase), but a window one breath long holds one
  peak and one trough wherever it starts.
- `rmssd_ms`: the root mean square of successive RR differences, the usual vagal marker.

Both come from the *cleaned* series (coach.practice.beats): ectopic, missed and extra beats
are corrected first, whether the intervals came from a chest strap or the phone's camera, and
each step says how many were (`corrected_beats`). A step with more than 5 % corrected is
unreliable: shown, but never the best rate. Values outside 250–2000 ms are refused at the
door. Raw RR intervals are not stored, only what is computed from them.

A camera's pulse-rate variability approximates, and does not equal, ECG heart-rate variability
(Plews et al. 2017): the figures compare paces for one person, they are no clinical number.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from ..extensions import db
from ..models import ResonanceAssessment, User
from . import beats

MIN_BPM, MAX_BPM = 4.5, 7.0
CENTRE_BPM = 6.0  # ties go to the rate closer to the usual 6 breaths a minute
MAX_STEPS = 10
MIN_RR_MS, MAX_RR_MS = 250, 2000  # 30–240 beats a minute
MAX_RR_PER_STEP = 2000  # ~25 minutes at 80 beats a minute; a step lasts 1–2 minutes
MAX_LISTED = 50
SOURCES = ("strap", "camera")


def bpm_problem(bpm: float) -> str | None:
    """Why `bpm` cannot be a finder step's pace (outside 4.5–7.0, or finer than a tenth of a
    breath), or None when it can."""
    if not MIN_BPM <= bpm <= MAX_BPM:  # first: a huge value would overflow the quantize below
        return f"Must be greater than or equal to {MIN_BPM} and less than or equal to {MAX_BPM}."
    exact = Decimal(repr(bpm))
    if exact != exact.quantize(Decimal("0.1")):
        return "Use at most one decimal place, e.g. 5.5."
    return None


class InvalidAssessment(Exception):
    """The steps are well-formed one by one but not together; `errors` maps fields to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class StepResult:
    bpm: float
    calm: int
    comfort: int
    score: float  # the mean of calm and comfort, 0–10
    hr_swing_bpm: float | None
    rmssd_ms: float | None
    breaths: int  # full breath windows the swing was averaged over (0 without RR data)
    source: str | None = None  # "strap" or "camera"; None without RR data
    beats: int = 0  # RR intervals received
    corrected_beats: int = 0  # ectopic, missed or extra beats corrected
    reliable: bool | None = None  # None without RR data
    mean_hr_bpm: float | None = None  # from the cleaned series

    @property
    def counts(self) -> bool:
        """May this step's swing decide the best rate?"""
        return self.hr_swing_bpm is not None and bool(self.reliable)

    def as_dict(self) -> dict:
        return {
            "bpm": self.bpm,
            "calm": self.calm,
            "comfort": self.comfort,
            "score": self.score,
            "hr_swing_bpm": self.hr_swing_bpm,
            "rmssd_ms": self.rmssd_ms,
            "breaths": self.breaths,
            "source": self.source,
            "beats": self.beats,
            "corrected_beats": self.corrected_beats,
            "reliable": self.reliable,
            "mean_hr_bpm": self.mean_hr_bpm,
        }


def rmssd(rr_ms: list[float]) -> float | None:
    """Root mean square of successive differences (ms); None with fewer than two intervals."""
    if len(rr_ms) < 2:
        return None
    squares = [(b - a) ** 2 for a, b in zip(rr_ms, rr_ms[1:])]
    return math.sqrt(math.fsum(squares) / len(squares))


def breath_swings(rr_ms: list[float], bpm: float) -> list[float]:
    """max − min instantaneous heart rate in each full breath window (see the module doc)."""
    window_ms = 60000.0 / bpm
    swings: list[float] = []
    elapsed = 0.0
    window, highest, lowest, beats = 0, -math.inf, math.inf, 0
    for rr in rr_ms:
        elapsed += rr
        index = int(elapsed // window_ms)
        if index != window:
            if beats >= 2:
                swings.append(highest - lowest)
            window, highest, lowest, beats = index, -math.inf, math.inf, 0
        heart_rate = 60000.0 / rr
        highest, lowest, beats = max(highest, heart_rate), min(lowest, heart_rate), beats + 1
    # The window still open at the end is never full: the recording stopped inside it.
    return swings


def hr_swing(rr_ms: list[float], bpm: float) -> tuple[float | None, int]:
    """(mean swing per breath in beats a minute, number of breaths) — (None, 0) if no full breath."""
    swings = breath_swings(rr_ms, bpm)
    if not swings:
        return None, 0
    return math.fsum(swings) / len(swings), len(swings)


def analyse_step(step: dict) -> StepResult:
    bpm = float(step["bpm"])
    common = {"bpm": bpm, "calm": step["calm"], "comfort": step["comfort"], "score": (step["calm"] + step["comfort"]) / 2}
    if not step.get("rr_ms"):
        return StepResult(**common, hr_swing_bpm=None, rmssd_ms=None, breaths=0)
    cleaned = beats.clean(step["rr_ms"])
    rr = cleaned.rr_ms
    swing, breaths = hr_swing(rr, bpm)
    variability = rmssd(rr)
    return StepResult(
        **common,
        hr_swing_bpm=None if swing is None else round(swing, 2),
        rmssd_ms=None if variability is None else round(variability, 1),
        breaths=breaths,
        source=step.get("source", "strap"),
        beats=cleaned.received,
        corrected_beats=cleaned.corrected,
        reliable=cleaned.reliable,
        mean_hr_bpm=round(60000.0 * len(rr) / math.fsum(rr), 1),
    )


def _tie_break(result: StepResult) -> tuple[float, float]:
    # Closer to 6.0 first; between two equally close, the slower rate (adults' resonance
    # rates lie between about 4.5 and 6.5, centred below 6).
    return (abs(result.bpm - CENTRE_BPM), result.bpm)


def choose_best(results: list[StepResult]) -> tuple[float, str]:
    """(best bpm, basis): by heart-rate swing when every step was recorded (the largest swing of
    the steps that count: reliable, with at least one full breath; no other step wins), else by
    calm + comfort."""
    measured = [r for r in results if r.counts]
    if measured and all(r.source is not None for r in results):
        best = min(measured, key=lambda r: (-r.hr_swing_bpm, *_tie_break(r)))
        return best.bpm, "hr_swing"
    best = min(results, key=lambda r: (-(r.calm + r.comfort), *_tie_break(r)))
    return best.bpm, "ratings"


def analyse(steps: list[dict]) -> tuple[list[StepResult], float, str]:
    """Every step's figures, the best rate and what it was chosen by (pure; no database)."""
    errors: dict[str, list[str]] = {}
    rates = [_decimal(s["bpm"]) for s in steps]
    if len(rates) != len(set(rates)):
        errors["steps"] = ["Each breathing rate may appear only once."]
    if any("source" in s and not s.get("rr_ms") for s in steps):
        errors.setdefault("steps", []).append("A source names where RR intervals came from: send it with rr_ms.")
    if errors:
        raise InvalidAssessment(errors)
    results = [analyse_step(s) for s in steps]
    best_bpm, basis = choose_best(results)
    return results, best_bpm, basis


def _decimal(bpm: float) -> Decimal:
    return Decimal(repr(float(bpm)))


def create_assessment(user: User, steps: list[dict], now: datetime) -> ResonanceAssessment:
    """Analyse and store one finder run; validated before anything is written."""
    results, best_bpm, basis = analyse(steps)
    assessment = ResonanceAssessment(
        user_id=user.id,
        steps=[r.as_dict() for r in results],
        best_bpm=best_bpm,
        basis=basis,
        created_at=now,
    )
    db.session.add(assessment)
    db.session.commit()
    return assessment


def list_assessments(user: User, limit: int = MAX_LISTED) -> list[ResonanceAssessment]:
    """The user's own finder runs, newest first."""
    return list(
        db.session.scalars(
            select(ResonanceAssessment)
            .where(ResonanceAssessment.user_id == user.id)
            .order_by(ResonanceAssessment.created_at.desc(), ResonanceAssessment.id.desc())
            .limit(limit)
        )
    )


def get_assessment(user: User, assessment_id: int) -> ResonanceAssessment | None:
    """One of the user's own runs; None for an unknown id or someone else's."""
    return db.session.scalar(
        select(ResonanceAssessment).where(
            ResonanceAssessment.id == assessment_id, ResonanceAssessment.user_id == user.id
        )
    )
