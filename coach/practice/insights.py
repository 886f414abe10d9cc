"""Insights: totals, streak, per-routine change in ratings, weekly buckets, a careful
recommendation and the care signal.

The database does the summing: one GROUP BY (user, routine) gives each routine's sufficient
statistics (sums.py); local wall-clock time is computed in SQL (local_days.py), so one GROUP
BY gives the weekly buckets. The streak, the care rule and the recommendation are the rules
the weekly summary uses too (streak.py, care.py, what_helps.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select

from ..extensions import db
from ..i18n import DEFAULT as DEFAULT_LANGUAGE
from ..models import PracticeSession, User, UTCDateTime
from ..routines.service import get_routine
from ..timeutil import iso_week_key, local_to_utc, zone
from .local_days import day_number
from .stats import adjusted_means
from . import care, streak, what_helps
from . import days as per_day
from .days import routine_sums
from .sums import COUNTED, RATINGS, MeasureSums, RoutineSums, measure_columns

PS = PracticeSession
UTC = timezone.utc


# --- weekly buckets in the user's own zone ------------------------------------------------

@dataclass(frozen=True)
class Bucket:
    key: str  # e.g. "2026-W48"
    first_day: date  # local Monday
    sessions: int
    seconds: int
    mood_n: int
    mood_sum: int

    @property
    def mood_delta_mean(self) -> float | None:
        return self.mood_sum / self.mood_n if self.mood_n else None


def week_bounds(tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[str, date, datetime, datetime]]:
    """(ISO week key, local Monday, UTC start, UTC end) of every local ISO week that overlaps
    [start, end). Bounds come from the zone rules, so a DST week is 167 or 169 hours long."""
    first = start.astimezone(tz).date()
    monday = first - timedelta(days=first.weekday())
    weeks = []
    lo = local_to_utc(monday, time(0), tz)
    while lo < end:
        following = monday + timedelta(days=7)
        hi = local_to_utc(following, time(0), tz)
        weeks.append((iso_week_key(monday), monday, lo, hi))
        monday, lo = following, hi
    return weeks


_D = PS.post_mood - PS.pre_mood
# The start's own (cut) day of the weekly figures: built once, run with its bounds.
_CUT_DAY = select(func.count(PS.id), func.sum(PS.duration_seconds), func.count(_D), func.sum(_D)).where(
    PS.user_id == bindparam("user_id"),
    PS.started_at >= bindparam("start", type_=UTCDateTime()),
    PS.started_at < bindparam("end", type_=UTCDateTime()),
    COUNTED,
)


def weekly(user: User, start: datetime, end: datetime, checked: bool = False) -> list[Bucket]:
    """Every local ISO week overlapping [start, end), oldest first, with the sessions that
    started in it since `start`: count, seconds, mean mood change. Weeks without sessions
    are included with zeros, so a chart has no holes."""
    tz = zone(user.timezone)
    first_day = start.astimezone(tz).date()
    first_monday = first_day - timedelta(days=first_day.weekday())
    # The Mondays whose local midnight comes before `end`: every one up to end's local date,
    # and that date's own when it is a Monday already begun.
    last_day = end.astimezone(tz).date()
    mondays = [first_monday + timedelta(days=7 * i) for i in range((last_day - first_monday).days // 7 + 1)]
    if mondays and mondays[-1] == last_day and local_to_utc(last_day, time(0), tz) >= end:
        mondays.pop()
    if not mondays:
        return []
    # Whole local days after the start's own one from the per-day sums (their cost follows
    # days, not sessions); the start's own day, cut by `start`, from its sessions: week 0.
    monday_number = day_number(first_monday)
    found: dict[int, list[int]] = {}
    wanted = ("sessions", "seconds", "mood_n", "mood_sum_d")
    for index, *values in per_day.week_sums(user, day_number(first_day) + 1, monday_number, wanted, checked=checked):
        week = found.setdefault(int(index), [0, 0, 0, 0])
        for i, v in enumerate(values):
            week[i] += int(v or 0)
    next_midnight = local_to_utc(first_day + timedelta(days=1), time(0), tz)
    cut = db.session.execute(_CUT_DAY, {"user_id": user.id, "start": start, "end": next_midnight}).one()
    week = found.setdefault(0, [0, 0, 0, 0])
    for i, v in enumerate(cut):
        week[i] += int(v or 0)
    buckets = []
    for i, monday in enumerate(mondays):
        n, seconds, mood_n, mood_sum = found.get(i, (0, 0, 0, 0))
        buckets.append(Bucket(iso_week_key(monday), monday, int(n), int(seconds or 0), int(mood_n or 0), int(mood_sum or 0)))
    return buckets


# --- streak and care: one rule each, shared with the weekly summary -------------------------

def streak_days(user: User, now: datetime) -> int:
    return streak.streaks({user.id: user.timezone}, now)[user.id]


# --- the whole page -----------------------------------------------------------------------

def summary(user: User, now: datetime, days: int = 90, language: str = DEFAULT_LANGUAGE) -> dict:
    """GET /api/insights: the last `days` days (sessions started since now − days); names
    and sentences in `language`."""
    start = now - timedelta(days=days)
    end = now + timedelta(days=1)  # sessions may be stamped a little ahead of the server clock
    zones = {user.id: user.timezone}
    per_day.fresh(zones)  # once for the page: every read below finds the per-day sums complete
    sums = routine_sums([user.id], start, end, zones, checked=True)[user.id]
    adjusted = {name: adjusted_means({s.routine: s.measures[name].group() for s in sums}) for name in RATINGS}
    routines = {s.routine: get_routine(user, s.routine, language) for s in sums}  # looked up once for the page
    names = {slug: what_helps.routine_name(slug, routine) for slug, routine in routines.items()}

    rows = []
    for s in sums:
        row = {"routine": s.routine, "name": names[s.routine], "n": s.sessions, "minutes": round(s.seconds / 60, 1)}
        for name in RATINGS:
            row[name] = s.measures[name].delta()
        row["adjusted"] = {name: adjusted[name][s.routine] for name in RATINGS}
        rows.append(row)
    rows.sort(key=lambda r: (-r["n"], r["routine"]))

    total_sessions = sum(s.sessions for s in sums)
    by_routine = []
    for r in rows:
        item = {"routine": r["routine"], "name": r["name"], "n": r["n"], "minutes": r["minutes"]}
        for name in RATINGS:
            delta = r[name].as_dict()
            adj = r["adjusted"][name]
            delta["adjusted_mean"] = None if adj is None else round(adj, 2)
            item[f"{name}_delta"] = delta
        by_routine.append(item)

    return {
        "days": days,
        "totals": {
            "sessions": total_sessions,
            "minutes": round(sum(s.seconds for s in sums) / 60, 1),
            "streak_days": streak.streaks({user.id: user.timezone}, now, checked=True)[user.id],
        },
        "by_routine": by_routine,
        "weekly": [
            {
                "week": b.key,
                "starts_on": b.first_day,
                "sessions": b.sessions,
                "minutes": round(b.seconds / 60, 1),
                "mood_delta_mean": None if b.mood_delta_mean is None else round(b.mood_delta_mean, 2),
            }
            for b in weekly(user, start, now + timedelta(microseconds=1), checked=True)  # weeks up to and including now
        ],
        # One rule decides "what helps" wherever it is shown (api.md): the routine what-helps
        # ranks first, over all the user's sessions, whatever this page's window.
        "recommendation": _recommendation(user, now, total_sessions, routines, language),
        "care": care.care(user.id, language),
    }


def _recommendation(
    user: User, now: datetime, sessions_in_window: int, routines: dict[str, dict | None], language: str
) -> dict:
    _, rows, names = what_helps.rank_user(user, what_helps.EARLIEST, now, routines, checked=True, language=language)
    return what_helps.recommendation(rows, names, any_sessions=sessions_in_window > 0, language=language)


__all__ = [
    "Bucket",
    "MeasureSums",
    "RoutineSums",
    "measure_columns",
    "routine_sums",
    "streak_days",
    "summary",
    "week_bounds",
    "weekly",
]
