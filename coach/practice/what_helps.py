""""What helps me": which routines lift this person's mood, allowing for how they started.

Ratings that start low tend to rise on the next rating anyway (regression to the mean), so a
routine used mostly on bad days looks better than it is on the raw mean. The fair figure is
the change *at the person's usual starting mood*: a per-user regression of the change
(post − pre) on the starting rating with one intercept per routine (an analysis of
covariance with a common slope), fitted on ALL the user's sessions rated before and after:

    change = α_routine + β · pre + noise,      adjusted_routine = α_routine + β · mean(pre)

Its 95 % interval uses the fit's residual variance with N − k − 1 degrees of freedom:
SE² = s² · (1/n + (mean_pre_routine − mean_pre)² / Sxx_within), with the t quantile from
`stats`. (Regressing post instead of the change on pre gives the same adjusted figures;
the slope is then 1 + β.) Only routines with at least 3 rated sessions are ranked, and the
words never claim more than the interval allows: these are the person's own ratings, not a
measure of any medical effect.

The same sufficient statistics as the insights page (one GROUP BY in SQL), so both agree.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from fractions import Fraction

from sqlalchemy import func, select

from ..extensions import db
from ..i18n import DEFAULT as DEFAULT_LANGUAGE
from ..i18n import N_, NP_, translate, translate_plural
from ..models import PracticeSession, User
from .insights import MeasureSums, routine_sums
from .stats import mean_ci_from_sums, t_quantile

MIN_SESSIONS = 3  # ranked only from this many rated sessions
CLEAR_LIFT = 1.0  # points on the 0–10 scale; below it a reliable lift is "a little"
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)  # before any session
MOST_USED = 3  # "surprise me" without favourites picks among this many most-used routines
MAX_FAVOURITES = 20

VERDICTS = {  # too_few: singular and plural, by how many sessions are missing (_words)
    "too_few": NP_(
        "Not enough yet: rate your mood before and after %(num)d more session of it.",
        "Not enough yet: rate your mood before and after %(num)d more sessions of it.",
    ),
    "not_sure": N_("Not sure yet: the change so far could be chance."),
    "likely_helps_a_little": N_("Likely helps a little: your mood tended to rise somewhat after it."),
    "likely_helps": N_("Likely helps: your mood tended to rise after it."),
    "likely_not_helping": N_("Your mood tended to be a little lower after it than before; perhaps try another routine."),
}
METHOD = N_(
    "Change in mood from before to after, allowing for how you felt beforehand: a low start "
    "tends to rise anyway, so each routine is compared at your usual starting mood. Based on "
    "your own ratings; it shows what went with feeling better for you, not a medical effect."
)


@dataclass(frozen=True)
class Effect:
    mean: float | None
    ci95: tuple[float, float] | None

    def as_dict(self) -> dict:
        return {
            "mean": None if self.mean is None else round(self.mean, 2),
            "ci95": None if self.ci95 is None else [round(self.ci95[0], 2), round(self.ci95[1], 2)],
        }


@dataclass(frozen=True)
class Fit:
    """The common-slope fit over every rated session of one person."""

    n: int
    groups: int
    slope: float  # β, of the change on the starting rating
    mean_pre: float  # the usual starting rating (over all rated sessions)
    sxx: Fraction  # within-routine spread of the starting ratings
    residual_variance: float | None  # s², None without degrees of freedom left
    df: int


def fit(groups: dict[str, MeasureSums]) -> Fit | None:
    """The common-slope regression from per-routine sums (exact: ratings are integers)."""
    used = {k: g for k, g in groups.items() if g.n > 0}
    n = sum(g.n for g in used.values())
    if n == 0:
        return None
    sxx = sxd = sdd = Fraction(0)
    for g in used.values():
        sxx += g.sum_x2 - Fraction(g.sum_x * g.sum_x, g.n)
        sxd += g.sum_xd - Fraction(g.sum_x * g.sum_d, g.n)
        sdd += g.sum_d2 - Fraction(g.sum_d * g.sum_d, g.n)
    mean_pre = Fraction(sum(g.sum_x for g in used.values()), n)
    if sxx > 0:
        slope, df = sxd / sxx, n - len(used) - 1
        sse = sdd - slope * sxd
    else:  # every routine was always started from one rating: no slope to learn
        slope, df = Fraction(0), n - len(used)
        sse = sdd
    variance = float(sse) / df if df > 0 else None
    return Fit(n, len(used), float(slope), float(mean_pre), sxx, variance, df)


def adjusted_effect(g: MeasureSums, model: Fit) -> Effect:
    """A routine's mean change at the person's usual starting mood, with its 95 % interval."""
    if g.n == 0:
        return Effect(None, None)
    mean_pre_g = g.sum_x / g.n
    mean = g.sum_d / g.n - model.slope * (mean_pre_g - model.mean_pre)
    if model.residual_variance is None:
        return Effect(mean, None)
    leverage = 1 / g.n
    if model.sxx > 0:
        leverage += (mean_pre_g - model.mean_pre) ** 2 / float(model.sxx)
    half = t_quantile(0.975, model.df) * math.sqrt(model.residual_variance * leverage)
    return Effect(mean, (mean - half, mean + half))


def verdict(n: int, effect: Effect) -> str:
    if n < MIN_SESSIONS:
        return "too_few"
    if effect.ci95 is None:
        return "not_sure"
    low, high = effect.ci95
    if low > 0:
        return "likely_helps" if effect.mean >= CLEAR_LIFT else "likely_helps_a_little"
    if high < 0:
        return "likely_not_helping"
    return "not_sure"


def _words(key: str, n: int, language: str) -> str:
    if key == "too_few":
        singular, plural = VERDICTS[key]
        return translate_plural(language, singular, plural, MIN_SESSIONS - n)
    return translate(language, VERDICTS[key])


def _describe(user: User, slugs, language: str) -> dict[str, tuple[str, str | None]]:
    """{slug: (name, reason the screening refuses it or None)}; a routine since deleted keeps
    its slug as name."""
    from ..routines import screening
    from ..routines.service import get_routine

    out = {}
    answers = screening.answers_of(user)
    for slug in slugs:
        routine = get_routine(user, slug, language)
        out[slug] = (routine["name"], screening.verdict(routine, answers, language)) if routine else (slug, None)
    return out


def what_helps(user: User, now: datetime, days: int | None = None, language: str = DEFAULT_LANGUAGE) -> dict:
    """Per routine: raw and start-adjusted mood change, ranked when rated ≥ 3 times (and
    allowed by the screening); names and words in `language`.

    `days` limits it to sessions started in the last `days` days; None means all of them.
    """
    start = now - timedelta(days=days) if days else EARLIEST
    sums = routine_sums([user.id], start, now + timedelta(days=1))[user.id]
    groups = {s.routine: s.measures["mood"] for s in sums if s.measures["mood"].n > 0}
    model = fit(groups)
    described = _describe(user, groups, language)
    rows = []
    for slug, g in groups.items():
        effect = adjusted_effect(g, model)
        key = verdict(g.n, effect)
        rows.append(
            {
                "routine": slug,
                "name": described[slug][0],
                "n": g.n,
                "mean_pre": round(g.sum_x / g.n, 2),
                "raw": mean_ci_from_sums(g.n, g.sum_d, g.sum_d2).as_dict(),
                "adjusted": effect.as_dict(),
                "_adjusted": effect.mean,
                "verdict": key,
                "words": _words(key, g.n, language),
                "rank": None,
                "blocked": described[slug][1],
            }
        )
    # A routine the screening now refuses is shown (it is the person's own history) but
    # never ranked, so it is never put forward as a suggestion.
    rankable = [r for r in rows if r["n"] >= MIN_SESSIONS and r["blocked"] is None]
    ranked = sorted(rankable, key=lambda r: (-r["_adjusted"], -r["n"], r["routine"]))
    for position, row in enumerate(ranked, start=1):
        row["rank"] = position
    unranked = sorted((r for r in rows if r["rank"] is None), key=lambda r: (r["blocked"] is not None, -r["n"], r["routine"]))
    for row in rows:
        del row["_adjusted"]
    return {
        "sessions": model.n if model else 0,
        "usual_start": None if model is None else round(model.mean_pre, 2),
        "routines": ranked + unranked,
        "summary": _summary(ranked, language),
        "method": translate(language, METHOD),
    }


def _summary(ranked: list[dict], language: str) -> str:
    if not ranked:
        return translate(
            language,
            "Rate your mood before and after at least %(n)s sessions of a routine, "
            "and this will start to show which routines seem to lift it for you.",
            n=MIN_SESSIONS,
        )
    best = ranked[0]
    if best["verdict"] in ("likely_helps", "likely_helps_a_little"):
        if len(ranked) > 1:
            return translate(
                language,
                "So far %(routine)s goes with the biggest lift in your mood of the routines you rated, allowing "
                "for how you felt beforehand. It describes your ratings, not a proven effect.",
                routine=best["name"],
            )
        return translate(
            language,
            "So far %(routine)s goes with the biggest lift in your mood, allowing "
            "for how you felt beforehand. It describes your ratings, not a proven effect.",
            routine=best["name"],
        )
    return translate(
        language,
        "No routine stands out yet: the changes so far could be chance. Keep rating before "
        "and after; a clearer picture usually needs a couple of weeks.",
    )


# --- "surprise me": a fair pick -----------------------------------------------------------

class InvalidFavourites(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def most_used(user: User, limit: int = MOST_USED) -> list[str]:
    """The user's most practised routines (most sessions first, then by slug)."""
    count = func.count(PracticeSession.id)
    rows = db.session.execute(
        select(PracticeSession.routine, count)
        .where(PracticeSession.user_id == user.id)
        .group_by(PracticeSession.routine)
        .order_by(count.desc(), PracticeSession.routine)
        .limit(limit * 4)  # a few spare, in case some are gone or not allowed
    )
    return [slug for slug, _ in rows]


def pick_surprise(user: User, favourites: list[str] | None, rng: random.Random, language: str = DEFAULT_LANGUAGE) -> dict:
    """Pick one routine uniformly at random among the user's favourites (given by the client)
    or, without them, among their MOST_USED most practised routines. Each distinct routine
    has the same chance, so that over time every favourite is tried about equally often
    whatever the mood of the day: the fair way to compare them. Routines the screening does
    not allow are never picked."""
    from ..routines import screening
    from ..routines.service import get_routine

    if favourites is not None:
        slugs = list(dict.fromkeys(favourites))
        routines = {slug: get_routine(user, slug, language) for slug in slugs}
        unknown = [slug for slug, r in routines.items() if r is None]
        if unknown:
            raise InvalidFavourites({"favourites": [f"There is no routine called “{slug}”." for slug in unknown]})
        source = "favourites"
    else:
        slugs, routines = [], {}
        for slug in most_used(user):
            routine = get_routine(user, slug, language)
            if routine is not None:
                routines[slug] = routine
                slugs.append(slug)
        source = "most_used"
    allowed, left_out = [], []
    for slug in slugs:
        reason = screening.verdict(routines[slug], screening.answers_of(user), language)
        if reason is None:
            allowed.append(slug)
        else:
            left_out.append({"slug": slug, "reason": reason})
    if source == "most_used":
        allowed = allowed[:MOST_USED]
    chosen = rng.choice(allowed) if allowed else None
    return {
        "routine": chosen,
        "name": routines[chosen]["name"] if chosen else None,
        "chosen_from": allowed,
        "source": source,
        "left_out": left_out,
        "message": None if chosen else translate(
            language, "Nothing to choose from yet: name a few favourite routines, or practise a few first."
        ),
    }
