"""What a weekly summary says: the figures of one week turned into short, plain sentences.

Warm, short and honest (evidence.md): numbers as they are, how sure a change is, a routine
named as the one that helped most only when the ratings clearly show it, no promise of a
treatment, and, when recent moods were low, a gentle word on where to find help instead of
cheering.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from babel.dates import format_date
from babel.numbers import get_decimal_symbol

from ..i18n import DEFAULT as DEFAULT_LANGUAGE
from ..i18n import N_, translate, translate_plural
from ..practice import what_helps
from ..practice.care import REASON as CARE_REASON
from ..practice.stats import MeanCI
from ..practice.what_helps import confidence
from ..routines import catalogue, screening
from .gather import RATINGS, RoutineWeek, WeekFigures

MINUS = "\u2212"
RATING_LABELS = {"mood": N_("Mood"), "anxiety": N_("Anxiety"), "energy": N_("Energy")}
# Which way a change is welcome, for the words only (the numbers are shown as they are).
GOOD_DIRECTION = {"mood": 1, "anxiety": -1, "energy": 1}

SUGGESTIONS = {
    "care": N_(
        "Next week, go gently: a few minutes of slow breathing with a long, easy exhale, only "
        "when it feels good. Practice is optional; looking after yourself is not."
    ),
    "start": N_(
        "Try one short session next week: five minutes of slow breathing, with the exhale a "
        "little longer than the inhale, is a gentle way to begin."
    ),
    "rate": N_(
        "Rate how you feel before and after a few sessions next week. It lets this summary show "
        "what helps you, and in a large app study people who checked in on their mood went on "
        "to practise more."
    ),
    "keep": N_("Keep %(name)s in your week: so far it is the one your ratings favour."),
    "regular": N_(
        "Aim for a few minutes on most days rather than a long session now and then: the 2023 "
        "study of cyclic sighing (Balban et al.) used five minutes a day."
    ),
    "rhythm": N_("Keep the rhythm going: a short session at the same time each day makes it easy."),
    "sighing": N_(
        "Try cyclic sighing for five minutes on a few days: in a 2023 study it lifted mood the "
        "most of the breathing patterns compared (Balban et al.)."
    ),
}
NOT_CLEAR_YET = N_(
    "It is too early to say which routine helps you most: this week's ratings do not show a "
    "clear lift yet. A few more rated sessions will tell more."
)
# Said after practice.care.REASON in the email.
CARE_NOW = N_(
    "If you are in danger or thinking about harming yourself, call your local emergency "
    "number or a crisis line now."
)
FINE_PRINT = N_(
    "Changes compare your ratings just before and just after each session. They describe how "
    "you felt, not proof of what caused it, and ratings that start low tend to rise anyway. "
    "The coach is a practice aid, not a treatment."
)


# --- formatting ----------------------------------------------------------------------------

def duration(seconds: float) -> str:
    """'45 s' under a minute (never '0 min' for a short cold dip), '4 min 30 s' under ten,
    then whole minutes, then hours."""
    s = int(seconds + 0.5)
    if s == 0:
        return "0 min"
    if s < 60:
        return f"{s} s"
    if s < 600:
        m, rest = divmod(s, 60)
        return f"{m} min {rest} s" if rest else f"{m} min"
    minutes = int(s / 60 + 0.5)
    if minutes < 60:
        return f"{minutes} min"
    h, m = divmod(minutes, 60)
    return f"{h} h {m:02d} min" if m else f"{h} h"


def signed(x: float, language: str = DEFAULT_LANGUAGE) -> str:
    """'+1.2', '−0.5', '0.0' (a real minus sign); the decimal sign of `language` (de: '+1,2')."""
    text = f"{x:+.1f}"
    if text in ("+0.0", "-0.0"):
        text = "0.0"
    return text.replace("-", MINUS).replace(".", get_decimal_symbol(language))


# (day, day and month, day month year) as each language writes a date range's parts (CLDR
# patterns, month names from Babel): "23–29 November 2026", "23.–29. November 2026", …
DATE_PATTERNS = {
    "en": ("d", "d MMMM", "d MMMM y"),
    "de": ("d.", "d. MMMM", "d. MMMM y"),
    "es": ("d", "d 'de' MMMM", "d 'de' MMMM 'de' y"),
    "fr": ("d", "d MMMM", "d MMMM y"),
}


def date_range(first: date, last: date, language: str = DEFAULT_LANGUAGE) -> str:
    day, day_month, full = DATE_PATTERNS.get(language, DATE_PATTERNS[DEFAULT_LANGUAGE])
    end = format_date(last, full, locale=language)
    if first.year != last.year:
        return f"{format_date(first, full, locale=language)} – {end}"
    if first.month != last.month:
        return f"{format_date(first, day_month, locale=language)} – {end}"
    return f"{format_date(first, day, locale=language)}–{end}"


def bar(value: float, largest: float) -> int:
    """A bar's width in percent; a small but non-zero value still shows a sliver."""
    if value <= 0 or largest <= 0:
        return 0
    return max(2, round(100 * value / largest))


# --- routines: names and cold phases -------------------------------------------------------

@dataclass(frozen=True)
class RoutineInfo:
    name: str
    cold_per_cycle: float  # seconds of `cold` phases in one cycle
    cycles: int


class RoutineBook:
    """Routine names and cold phases for a batch, each built-in looked up once."""

    def __init__(self):
        self._builtins: dict[str, RoutineInfo | None] = {}

    @staticmethod
    def _info(slug: str, routine: dict | None) -> RoutineInfo:
        if not routine:
            return RoutineInfo(name=slug.replace("-", " ").capitalize(), cold_per_cycle=0.0, cycles=1)
        phases = routine.get("phases") or []
        cold = sum(float(p.get("seconds") or 0) for p in phases if p.get("action") == "cold")
        return RoutineInfo(name=routine.get("name") or slug, cold_per_cycle=cold, cycles=int(routine.get("cycles") or 1))

    @staticmethod
    def refusal(slug: str, custom: dict[str, dict], answers: dict[str, bool] | None) -> str | None:
        """Why the person's screening now refuses this routine, or None: a refused routine is
        never named as the one to keep (as in what-helps-me), however well it went."""
        routine = {**custom[slug], "slug": slug, "builtin": False} if slug in custom else {"slug": slug}
        return screening.verdict(routine, answers)

    @classmethod
    def refused(cls, slug: str, custom: dict[str, dict], answers: dict[str, bool] | None) -> bool:
        return cls.refusal(slug, custom, answers) is not None

    def info(self, slug: str, custom: dict[str, dict]) -> RoutineInfo:
        if slug in custom:
            return self._info(slug, custom[slug])
        if slug not in self._builtins:
            routine = catalogue.builtin(slug)
            self._builtins[slug] = self._info(slug, routine) if routine else None
        return self._builtins[slug] or self._info(slug, None)

    def name(self, slug: str, custom: dict[str, dict], language: str) -> str:
        """A built-in's name in `language`; a custom routine's as its owner wrote it."""
        name = self.info(slug, custom).name
        return name if slug in custom else translate(language, name)


# --- the view a template renders -------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    label: str
    n: int
    mean: str
    interval: str | None  # "+0.4 to +2.0"
    verdict: str  # how sure, in words


@dataclass(frozen=True)
class RoutineLine:
    name: str
    sessions: int
    time: str
    bar: int
    changes: list[Change]


@dataclass
class DigestView:
    subject: str
    headline: str
    period: str  # "23–29 November 2026"
    period_name: str  # "this week" / "last week"
    sessions: int
    time: str
    prev_sessions: int
    prev_time: str
    bar_this: int
    bar_prev: int
    streak: str | None
    routines: list[RoutineLine]
    best: str | None  # the routine that helped most, when the ratings clearly show it
    not_clear: str | None
    cold: str | None
    suggestion: str
    care: str | None
    app_url: str
    unsubscribe_url: str
    fine_print: str = FINE_PRINT
    language: str = DEFAULT_LANGUAGE  # what the templates write their own words in


def how_sure(name: str, ci: MeanCI, language: str = DEFAULT_LANGUAGE) -> Change:
    """The change in one rating and how sure it is, in words, by the app's own bar
    (what_helps.confidence: fewer than 5 sessions, or an interval that includes no change, is
    never called sure; 15 or more with a clear interval is)."""
    label = translate(language, RATING_LABELS[name])
    if ci.n == 1:
        return Change(label, 1, signed(ci.mean, language), None, translate(language, "one rating: too few to tell"))
    lo, hi = ci.ci95
    interval = translate(language, "%(low)s to %(high)s", low=signed(lo, language), high=signed(hi, language))
    if lo <= 0 <= hi:
        return Change(label, ci.n, signed(ci.mean, language), interval, translate(language, "could be chance so far"))
    sign = 1 if lo > 0 else -1  # judge the change as a rise in the direction it went
    level = confidence(MeanCI(ci.n, sign * ci.mean, tuple(sorted((sign * lo, sign * hi)))))
    better = (sign > 0) == (GOOD_DIRECTION[name] > 0)
    verdict = {
        ("low", True): N_("pointing to better, but too few sessions to be sure"),
        ("low", False): N_("pointing to worse, but too few sessions to be sure"),
        ("moderate", True): N_("a fairly steady change for the better"),
        ("moderate", False): N_("a fairly steady change for the worse"),
        ("high", True): N_("a clear change for the better"),
        ("high", False): N_("a clear change for the worse"),
    }[level, better]
    return Change(label, ci.n, signed(ci.mean, language), interval, translate(language, verdict))


def _routine_line(r: RoutineWeek, info: RoutineInfo, largest: int, language: str) -> RoutineLine:
    changes = [how_sure(name, r.measures[name].delta(), language) for name in RATINGS if r.measures[name].n > 0]
    return RoutineLine(info.name, r.sessions, duration(r.seconds), bar(r.seconds, largest), changes)


def _cold(figures: WeekFigures, infos: dict[str, RoutineInfo], language: str) -> str | None:
    sessions, seconds = 0, 0.0
    for slug, r in figures.routines.items():
        info = infos[slug]
        sessions += r.cold_counted_positive
        seconds += r.cold_counted_seconds
        if info.cold_per_cycle > 0:
            sessions += r.sessions - r.cold_counted
            seconds += info.cold_per_cycle * (r.cycles_without_cold + info.cycles * r.runs_without_cycles)
    if sessions == 0:
        return None
    return translate(
        language,
        "%(sessions)s, %(time)s in the cold in total.",
        sessions=translate_plural(language, "%(num)d cold session", "%(num)d cold sessions", sessions),
        time=duration(seconds),
    )


def _best(figures: WeekFigures, book: RoutineBook, answers, language: str) -> tuple[str | None, str | None, str | None]:
    """(sentence naming the routine that helped most, 'not clear yet' sentence, its slug).

    The one rule of "what helps" (what_helps.rank over all the person's rated sessions, as the
    app's Home and "What helps me" show it) picks the routine and words it; the summary repeats
    it only when the ratings clearly support it (above 'low' confidence). Said only in a week
    with rated sessions; a routine the screening now refuses is never the pick."""
    if not any(r.measures["mood"].n for r in figures.routines.values()):
        return None, None, None
    _, rows = what_helps.rank(figures.helps, lambda slug: book.refusal(slug, figures.custom_routines, answers))
    names = {r.routine: book.name(r.routine, figures.custom_routines, language) for r in rows if r.rank == 1}
    pick = what_helps.recommendation(rows, names, any_sessions=figures.sessions > 0, language=language)
    if pick["routine"] is None or pick["confidence"] == "low":
        return None, translate(language, NOT_CLEAR_YET), None
    return pick["text"], None, pick["routine"]


def _suggestion(figures: WeekFigures, best_slug: str | None, best_name: str | None, care: bool, language: str) -> str:
    text, values = _suggestion_text(figures, best_slug, best_name, care)
    return translate(language, text, **values)


def _suggestion_text(figures: WeekFigures, best_slug: str | None, best_name: str | None, care: bool) -> tuple[str, dict]:
    if care:
        return SUGGESTIONS["care"], {}
    if figures.sessions == 0:
        return SUGGESTIONS["start"], {}
    if not any(r.measures["mood"].n for r in figures.routines.values()):
        return SUGGESTIONS["rate"], {}
    if best_slug:
        return SUGGESTIONS["keep"], {"name": best_name}
    if figures.sessions < figures.prev_sessions:
        return SUGGESTIONS["regular"], {}
    if figures.streak_days >= 3:
        return SUGGESTIONS["rhythm"], {}
    if "cyclic-sighing" not in figures.routines:
        return SUGGESTIONS["sighing"], {}
    return SUGGESTIONS["regular"], {}


def _sessions(n: int, language: str) -> str:
    return translate_plural(language, "%(num)d session", "%(num)d sessions", n)


def _headline(figures: WeekFigures, period_name: str, care: bool, language: str) -> str:
    n, before = figures.sessions, figures.prev_sessions
    if n == 0:
        return translate(language, "A quiet week: no sessions %(period)s.", period=period_name)
    text = translate(
        language, "%(sessions)s %(period)s, %(time)s in all.", sessions=_sessions(n, language), period=period_name,
        time=duration(figures.seconds),
    )  # fmt: skip
    if n > before and not care:
        text += " " + translate(language, "That is %(n)s more than the week before.", n=n - before)
    return text


def _streak(figures: WeekFigures, language: str) -> str | None:
    days = figures.streak_days
    if days < 2:
        return None
    return translate_plural(language, "%(num)d day in a row", "%(num)d days in a row", days)


def build_view(
    figures: WeekFigures,
    book: RoutineBook,
    *,
    answers: dict[str, bool] | None,
    app_url: str,
    unsubscribe_url: str,
    language: str = DEFAULT_LANGUAGE,
) -> DigestView:
    """`answers`: the person's screening answers (screening.answers_of), or None; every
    text in `language` (the person's own)."""
    infos = {slug: book.info(slug, figures.custom_routines) for slug in figures.routines}
    # A built-in's name in the language (a custom routine's is its owner's own words).
    infos = {
        slug: info if slug in figures.custom_routines else replace(info, name=translate(language, info.name))
        for slug, info in infos.items()
    }
    period_name = translate(language, "this week") if figures.period.ending else translate(language, "last week")
    care = figures.low_mood
    largest = max((r.seconds for r in figures.routines.values()), default=0)
    routines = sorted(figures.routines.values(), key=lambda r: (-r.sessions, -r.seconds, infos[r.slug].name))
    best, not_clear, best_slug = _best(figures, book, answers, language)
    week_max = max(figures.seconds, figures.prev_seconds)
    subject = (
        translate(language, "Your week: %(sessions)s, %(time)s", sessions=_sessions(figures.sessions, language), time=duration(figures.seconds))
        if figures.sessions
        else translate(language, "Your week: a quiet one")
    )
    return DigestView(
        subject=subject,
        headline=_headline(figures, period_name, care, language),
        period=date_range(figures.period.monday, figures.period.sunday, language),
        period_name=period_name,
        sessions=figures.sessions,
        time=duration(figures.seconds),
        prev_sessions=figures.prev_sessions,
        prev_time=duration(figures.prev_seconds),
        bar_this=bar(figures.seconds, week_max),
        bar_prev=bar(figures.prev_seconds, week_max),
        streak=_streak(figures, language),
        routines=[_routine_line(r, infos[r.slug], largest, language) for r in routines],
        best=best,
        not_clear=not_clear,
        cold=_cold(figures, infos, language),
        suggestion=_suggestion(
            figures, best_slug, best_slug and book.name(best_slug, figures.custom_routines, language), care, language
        ),
        care=f"{translate(language, CARE_REASON)} {translate(language, CARE_NOW)}" if care else None,
        app_url=app_url,
        unsubscribe_url=unsubscribe_url,
        fine_print=translate(language, FINE_PRINT),
        language=language,
    )
