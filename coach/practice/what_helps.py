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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from fractions import Fraction

from babel.numbers import format_decimal
from sqlalchemy import func, select

from ..extensions import db
from ..i18n import DEFAULT as DEFAULT_LANGUAGE
from ..i18n import N_, NP_, translate, translate_plural
from ..models import PracticeSession, User
from ..routines import screening
from ..routines.service import get_routine
from .stats import MeanCI, mean_ci_from_sums, t_quantile
from .days import routine_sums
from .sums import COUNTED, MeasureSums

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


@dataclass(frozen=True)
class Ranked:
    """One routine's place in the ranking: rank None below MIN_SESSIONS or when refused."""

    routine: str
    sums: MeasureSums
    effect: Effect
    blocked: str | None
    rank: int | None


def rank(groups: dict[str, MeasureSums], blocked: Callable[[str], str | None]) -> tuple[Fit | None, list[Ranked]]:
    """The one rule of "what helps": every routine with a rated session in the common-slope
    fit, ranked by the adjusted change when rated ≥ MIN_SESSIONS times and not refused by
    the screening (`blocked(slug)` gives the reason or None). Ranked first, then the rest."""
    groups = {slug: g for slug, g in groups.items() if g.n > 0}
    model = fit(groups)
    rows = [(slug, g, adjusted_effect(g, model), blocked(slug)) for slug, g in groups.items()]
    # A routine the screening now refuses is shown (it is the person's own history) but
    # never ranked, so it is never put forward as a suggestion.
    rankable = sorted(
        (r for r in rows if r[1].n >= MIN_SESSIONS and r[3] is None), key=lambda r: (-r[2].mean, -r[1].n, r[0])
    )
    ranked = [Ranked(slug, g, effect, reason, i) for i, (slug, g, effect, reason) in enumerate(rankable, start=1)]
    done = {r.routine for r in ranked}
    rest = sorted((r for r in rows if r[0] not in done), key=lambda r: (r[3] is not None, -r[1].n, r[0]))
    return model, ranked + [Ranked(slug, g, effect, reason, None) for slug, g, effect, reason in rest]


def what_helps(user: User, now: datetime, days: int | None = None, language: str = DEFAULT_LANGUAGE) -> dict:
    """Per routine: raw and start-adjusted mood change, ranked when rated ≥ 3 times (and
    allowed by the screening); names and words in `language`.

    `days` limits it to sessions started in the last `days` days; None means all of them.
    """
    start = now - timedelta(days=days) if days else EARLIEST
    model, rows, names = rank_user(user, start, now, language=language)
    out = []
    for r in rows:
        key = verdict(r.sums.n, r.effect)
        g = r.sums
        out.append(
            {
                "routine": r.routine,
                "name": names[r.routine],
                "n": g.n,
                "mean_pre": round(g.sum_x / g.n, 2),
                "raw": mean_ci_from_sums(g.n, g.sum_d, g.sum_d2).as_dict(),
                "adjusted": r.effect.as_dict(),
                "verdict": key,
                "words": _words(key, g.n, language),
                "rank": r.rank,
                "blocked": r.blocked,
            }
        )
    return {
        "sessions": model.n if model else 0,
        "usual_start": None if model is None else round(model.mean_pre, 2),
        "routines": out,
        "summary": _summary([row for row in out if row["rank"] is not None], language),
        "method": translate(language, METHOD),
    }


def rank_user(
    user: User, start: datetime, now: datetime, known: dict[str, dict | None] | None = None, checked: bool = False,
    language: str = DEFAULT_LANGUAGE,
) -> tuple[Fit | None, list[Ranked], dict[str, str]]:
    """`rank` over the user's sessions started in [start, now + 1 day) (phone clocks run a
    little ahead), with the user's screening deciding what is refused; and the routines' names
    (and the screening's reasons) in `language`.
    `known`: routines the caller has looked up already (slug → get_routine's answer, in `language`)."""
    zones = {user.id: user.timezone}
    sums = routine_sums([user.id], start, now + timedelta(days=1), zones, ratings=("mood",), checked=checked)[user.id]
    known = known or {}
    routines = {s.routine: known[s.routine] if s.routine in known else get_routine(user, s.routine, language) for s in sums}
    answers = screening.answers_of(user)
    model, rows = rank(
        {s.routine: s.measures["mood"] for s in sums},
        lambda slug: screening.verdict(routines[slug], answers, language) if routines.get(slug) else None,
    )
    return model, rows, {slug: routine_name(slug, routine) for slug, routine in routines.items()}


def routine_name(slug: str, routine: dict | None) -> str:
    return routine["name"] if routine else slug  # a routine since deleted keeps its slug


# --- the recommendation: what Home and the weekly summary say ------------------------------

NOT_ENOUGH = N_(
    "Not enough ratings yet to say what helps you. Rate how you feel before and after a few "
    "sessions, and this will start to show which routines seem to lift your mood."
)
NO_SESSIONS = N_(
    "No sessions in this period yet. Whenever you are ready, a few minutes of slow breathing "
    "is a gentle place to start."
)
NO_LIFT = N_(
    "So far none of your routines shows a lift in mood on average. That is common in the first "
    "weeks: slow breathing often feels calmer only after several days of practice. Keep rating "
    "and this will become clearer."
)
HEDGE = {
    "low": N_("That rests on few sessions or varies a lot, so it could still be chance: take it as a hint, not a finding."),
    "moderate": N_("That is a fairly steady pattern so far; it describes how you felt, not proof of what caused it."),
    "high": N_("That has held up across many sessions; it describes how you felt, not a medical effect."),
}


def confidence(delta: MeanCI) -> str:
    """How sure the pattern is: low with fewer than 5 rated sessions or an interval that
    includes no change; high only with 15 or more and an interval clear of zero."""
    if delta.n < 5 or delta.ci95 is None or delta.ci95[0] <= 0:
        return "low"
    return "high" if delta.n >= 15 else "moderate"


def recommendation(rows: list[Ranked], names: dict[str, str], any_sessions: bool, language: str = DEFAULT_LANGUAGE) -> dict:
    """The routine `rank` put first, in plain words, never claiming more than the numbers
    show: {routine (None when nothing points anywhere), text, confidence, based_on}. How sure
    is judged on the adjusted change, the figure the ranking used. `text` in `language`
    (`names` are in it already)."""
    ranked = [r for r in rows if r.rank is not None]
    if not ranked:
        return {"routine": None, "text": translate(language, NOT_ENOUGH if any_sessions else NO_SESSIONS), "confidence": "none", "based_on": 0}
    best = ranked[0]
    g = best.sums
    raw = mean_ci_from_sums(g.n, g.sum_d, g.sum_d2)
    if best.effect.mean <= 0 or raw.mean <= 0:
        return {"routine": None, "text": translate(language, NO_LIFT), "confidence": "low", "based_on": sum(r.sums.n for r in ranked)}
    level = confidence(MeanCI(g.n, best.effect.mean, best.effect.ci95))
    name = names.get(best.routine, best.routine)
    values = {"routine": name, "delta": format_decimal(round(raw.mean, 1), "0.0", locale=language), "n": g.n}
    if len(ranked) > 1:
        found = translate(
            language,
            "After %(routine)s your mood was on average %(delta)s points higher than before (%(n)s rated sessions)"
            " — the biggest lift of the routines you rated, allowing for how you felt beforehand.",
            **values,
        )
    else:
        found = translate(
            language, "After %(routine)s your mood was on average %(delta)s points higher than before (%(n)s rated sessions).", **values
        )
    text = f"{found} {translate(language, HEDGE[level])}"
    return {"routine": best.routine, "text": text, "confidence": level, "based_on": g.n}


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
        .where(PracticeSession.user_id == user.id, COUNTED)
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
