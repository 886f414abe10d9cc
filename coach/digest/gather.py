"""The figures of many users' weeks, summed by the database in a few statements per batch.

Each user has their own week (their zone, their send day), so the per-user bounds travel
into the query as a small table (sql.json_rows) joined to the sessions; the database then
groups by user and routine. A batch costs a fixed number of statements however many users,
routines or sessions it holds: one for both weeks by routine, the streaks and the care rule
as the app counts them (practice.streak, practice.care), one for the all-time mood sums "what helps" ranks, and one for the names of custom
routines when there are any.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, select

from .. import dialect
from ..extensions import db
from ..models import CustomRoutine, PracticeSession
from ..practice import care, streak
from ..practice.days import routine_sums
from ..practice.sums import COUNTED, RATINGS, MeasureSums, measure_columns
from ..practice.what_helps import EARLIEST
from ..routines.catalogue import BUILTIN_SLUGS
from ..timeutil import zone
from .period import Period, period_for
from .sql import cold_seconds


@dataclass(frozen=True)
class Target:
    user_id: int
    timezone: str
    monday: date  # the local Monday of the week to cover (period.covered_monday)


@dataclass
class RoutineWeek:
    """One routine in the covered week."""

    slug: str
    sessions: int = 0
    seconds: int = 0
    measures: dict[str, MeasureSums] = field(default_factory=dict)  # rating → sums of post − pre
    cold_counted: int = 0  # sessions with details.cold_seconds …
    cold_counted_positive: int = 0
    cold_counted_seconds: float = 0.0
    cycles_without_cold: int = 0  # … and, for the others, completed cycles to count by phases
    runs_without_cycles: int = 0  # sessions with neither: one full run of the routine


@dataclass
class WeekFigures:
    period: Period
    routines: dict[str, RoutineWeek] = field(default_factory=dict)
    prev_sessions: int = 0
    prev_seconds: int = 0
    streak_days: int = 0
    low_mood: bool = False
    custom_routines: dict[str, dict] = field(default_factory=dict)  # slug → definition
    # Mood sums per routine over all the user's sessions: what "what helps me" ranks, so the
    # summary names the routine the app names (what_helps.rank).
    helps: dict[str, MeasureSums] = field(default_factory=dict)

    @property
    def sessions(self) -> int:
        return sum(r.sessions for r in self.routines.values())

    @property
    def seconds(self) -> int:
        return sum(r.seconds for r in self.routines.values())


def gather(targets: list[Target], as_of: datetime) -> dict[int, WeekFigures]:
    """Every target's week, counted up to `as_of`."""
    if not targets:
        return {}
    periods: dict[tuple[str, date], Period] = {}
    figures: dict[int, WeekFigures] = {}
    for t in targets:
        key = (t.timezone, t.monday)
        if key not in periods:
            periods[key] = period_for(t.monday, zone(t.timezone), as_of)
        figures[t.user_id] = WeekFigures(period=periods[key])
    _by_routine(figures)
    for user_id, days in streak.streaks({t.user_id: t.timezone for t in targets}, as_of).items():
        figures[user_id].streak_days = days
    for user_id, low in care.low_moods(figures).items():
        figures[user_id].low_mood = low
    _helps(figures, as_of)
    _custom_names(figures)
    return figures


def _by_routine(figures: dict[int, WeekFigures]) -> None:
    """Both weeks, grouped by user, routine and which week: one statement."""
    win = dialect.json_rows(
        "win",
        [("user_id", "int"), ("prev_start", "instant"), ("week_start", "instant"), ("week_end", "instant")],
        [(uid, f.period.prev_start, f.period.start, f.period.end) for uid, f in figures.items()],
        dialect.name(),
    )
    s = PracticeSession
    this_week = case((s.started_at >= win.c.week_start, 1), else_=0)
    cold = cold_seconds(s.details)
    measures = [c for name in RATINGS for c in measure_columns(name)]
    stmt = (
        select(
            s.user_id,
            s.routine,
            this_week.label("this_week"),
            func.count(),
            func.sum(s.duration_seconds),
            *measures,
            func.count(cold),
            func.sum(case((cold > 0, 1), else_=0)),
            func.sum(cold),
            func.sum(case((cold.is_(None), s.completed_cycles))),
            func.sum(case((and_(cold.is_(None), s.completed_cycles.is_(None)), 1), else_=0)),
        )
        .join(win, win.c.user_id == s.user_id)
        .where(s.started_at >= win.c.prev_start, s.started_at < win.c.week_end, COUNTED)
        .group_by(s.user_id, s.routine, this_week)
    )
    width = len(measures) // len(RATINGS)
    for row in db.session.execute(stmt):
        user_id, slug, is_this_week, n, seconds, *rest = row
        f = figures[user_id]
        if not is_this_week:
            f.prev_sessions += n
            f.prev_seconds += int(seconds or 0)
            continue
        r = RoutineWeek(slug=slug, sessions=n, seconds=int(seconds or 0))
        for i, name in enumerate(RATINGS):
            r.measures[name] = MeasureSums(*(int(v or 0) for v in rest[i * width : (i + 1) * width]))
        n_cold, n_cold_positive, cold_sum, cycles, no_cycles = rest[len(measures) :]
        r.cold_counted, r.cold_counted_positive = int(n_cold), int(n_cold_positive or 0)
        r.cold_counted_seconds = float(cold_sum or 0)
        r.cycles_without_cold, r.runs_without_cycles = int(cycles or 0), int(no_cycles or 0)
        f.routines[slug] = r


def _helps(figures: dict[int, WeekFigures], as_of: datetime) -> None:
    """All-time mood sums per routine for the batch: one statement."""
    for user_id, sums in routine_sums(list(figures), EARLIEST, as_of + timedelta(days=1), ratings=("mood",)).items():
        figures[user_id].helps = {s.routine: s.measures["mood"] for s in sums if s.measures["mood"].n > 0}


def _custom_names(figures: dict[int, WeekFigures]) -> None:
    """Definitions of the custom routines the batch's weeks mention: at most one statement."""
    wanted = {
        (uid, slug) for uid, f in figures.items() for slug in (*f.routines, *f.helps) if slug not in BUILTIN_SLUGS
    }
    if not wanted:
        return
    stmt = select(CustomRoutine.user_id, CustomRoutine.slug, CustomRoutine.definition).where(
        CustomRoutine.user_id.in_(sorted({uid for uid, _ in wanted})),
        CustomRoutine.slug.in_(sorted({slug for _, slug in wanted})),
    )
    for user_id, slug, definition in db.session.execute(stmt):
        if (user_id, slug) in wanted:
            figures[user_id].custom_routines[slug] = definition or {}
