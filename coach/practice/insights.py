"""Insights: totals, streak, per-routine change in ratings, weekly buckets, a careful
recommendation and the care signal.

The database does the summing: one GROUP BY (user, routine) gives each routine's sufficient
statistics (n, Σd, Σd², and Σ of the starting rating for the fair comparison); local wall-clock
time is computed in SQL (epoch + the zone's offset for that stretch of the year), so one
GROUP BY gives the weekly buckets and one SELECT DISTINCT the local days of the streak.
Python only walks routines, weeks and streak days, never every session.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from sqlalchemy import BigInteger, case, cast, desc, extract, func, literal, select

from .. import dialect
from ..extensions import db
from ..i18n import DEFAULT as DEFAULT_LANGUAGE
from ..i18n import N_, translate
from ..models import PracticeSession, User, UTCDateTime
from ..timeutil import iso_week_key, local_to_utc, zone
from .stats import GroupSums, MeanCI, adjusted_means, mean_ci_from_sums

PS = PracticeSession
UTC = timezone.utc
RATINGS = ("mood", "anxiety", "energy")
# Ratings after which the front end offers supportive words (api.md, care).
CARE_LOW_MOOD = 2
CARE_WINDOW = 5
CARE_COUNT = 3


# --- per-routine sums, for one user or a batch (the weekly digest) ------------------------

@dataclass(frozen=True)
class MeasureSums:
    """Sums over the sessions that have both a before and an after rating of one measure;
    d = after − before, x = before."""

    n: int = 0
    sum_d: int = 0
    sum_d2: int = 0
    sum_x: int = 0
    sum_x2: int = 0
    sum_xd: int = 0

    def delta(self) -> MeanCI:
        return mean_ci_from_sums(self.n, self.sum_d, self.sum_d2)

    def group(self) -> GroupSums:
        return GroupSums(self.n, self.sum_x, self.sum_d, self.sum_x2, self.sum_xd)


@dataclass(frozen=True)
class RoutineSums:
    user_id: int
    routine: str
    sessions: int
    seconds: int
    measures: dict[str, MeasureSums] = field(default_factory=dict)


def measure_columns(name: str) -> list:
    """The six aggregate columns of MeasureSums for rating `name`, in its field order (for
    any GROUP BY over practice_sessions, e.g. the digest's)."""
    pre, post = getattr(PS, f"pre_{name}"), getattr(PS, f"post_{name}")
    d = post - pre  # NULL unless both ratings are there
    paired = d.is_not(None)
    return [
        func.count(d),
        func.sum(d),
        func.sum(d * d),
        func.sum(case((paired, pre))),
        func.sum(case((paired, pre * pre))),
        func.sum(pre * d),
    ]


_measure_columns = measure_columns  # the name the digest imported first


def routine_sums(user_ids: Iterable[int], start: datetime, end: datetime | None = None) -> dict[int, list[RoutineSums]]:
    """Per user and routine: sessions, seconds practised and rating-change sums for sessions
    with start ≤ started_at < end. One query for any number of users (the digest batches them)."""
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    columns = [PS.user_id, PS.routine, func.count(PS.id), func.sum(PS.duration_seconds)]
    for name in RATINGS:
        columns += measure_columns(name)
    stmt = select(*columns).where(PS.user_id.in_(user_ids), PS.started_at >= start)
    if end is not None:
        stmt = stmt.where(PS.started_at < end)
    stmt = stmt.group_by(PS.user_id, PS.routine)
    out: dict[int, list[RoutineSums]] = {uid: [] for uid in user_ids}
    for row in db.session.execute(stmt):
        user_id, routine, n, seconds, *rest = row
        measures = {}
        for i, name in enumerate(RATINGS):
            chunk = [int(v or 0) for v in rest[i * 6 : i * 6 + 6]]
            measures[name] = MeasureSums(*chunk)
        out[user_id].append(RoutineSums(user_id, routine, int(n), int(seconds or 0), measures))
    return out


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


# --- local time in SQL -------------------------------------------------------------------
# A zone's UTC offset is constant between its transitions (a couple a year), so the local
# wall-clock time of a stored UTC instant is `epoch seconds + the offset of its segment`:
# a CASE over the few transitions in the window. Weeks and days are then plain integer
# divisions the database can GROUP BY on SQLite and PostgreSQL alike.

EPOCH = date(1970, 1, 1)
DAY = 86_400
WEEK = 7 * DAY


@lru_cache(maxsize=256)
def _offset_changes(tz_name: str, first: date, last: date) -> tuple[tuple[datetime, ...], tuple[int, ...]]:
    """(changes, offsets): the UTC instants in [first, last] (UTC days) where the zone's
    offset changes, and the offsets in seconds: offsets[0] before changes[0], offsets[i + 1]
    from changes[i]. Found by sampling every day and bisecting to the second, so two
    transitions less than a day apart would be missed; no zone has those."""
    tz = zone(tz_name)

    def offset(t: datetime) -> int:
        return int(t.astimezone(tz).utcoffset().total_seconds())

    t = datetime.combine(first, time(0), UTC)
    stop = datetime.combine(last, time(0), UTC) + timedelta(days=1)
    current = offset(t)
    changes, offsets = [], [current]
    while t < stop:
        following = min(t + timedelta(days=1), stop)
        new = offset(following)
        if new != current:
            lo, hi = int(t.timestamp()), int(following.timestamp())  # offset(lo) old, offset(hi) new
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(datetime.fromtimestamp(mid, UTC)) == current:
                    lo = mid
                else:
                    hi = mid
            changes.append(datetime.fromtimestamp(hi, UTC))
            offsets.append(new)
            current = new
        t = following
    return tuple(changes), tuple(offsets)


offset_changes = _offset_changes  # public name; the digest's period bounds use it too


def local_seconds(tz_name: str, first: datetime, last: datetime):
    """SQL: seconds since 1970-01-01 00:00 of the *local* wall-clock time of
    practice_sessions.started_at in `tz_name`, correct for rows started in [first, last]."""
    changes, offsets = _offset_changes(tz_name, first.date() - timedelta(days=1), last.date() + timedelta(days=1))
    if dialect.name() == "sqlite":
        # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC text. SQLite rounds to milliseconds, so
        # 23:59:59.9999 would become the next day: cut the fraction off first (floor).
        epoch = cast(func.strftime("%s", func.substr(PS.started_at, 1, 19)), BigInteger)
    else:
        epoch = cast(func.floor(extract("epoch", PS.started_at)), BigInteger)
    if not changes:
        return epoch + offsets[0]
    offset = case(
        *[(PS.started_at < literal(change, UTCDateTime()), offsets[i]) for i, change in enumerate(changes)],
        else_=offsets[-1],
    )
    return epoch + offset


def weekly(user: User, start: datetime, end: datetime) -> list[Bucket]:
    """Every local ISO week overlapping [start, end), oldest first, with the sessions that
    started in it since `start`: count, seconds, mean mood change. Weeks without sessions
    are included with zeros, so a chart has no holes. One GROUP BY in SQL."""
    tz = zone(user.timezone)
    first_day = start.astimezone(tz).date()
    first_monday = first_day - timedelta(days=first_day.weekday())
    mondays = []
    monday = first_monday
    while local_to_utc(monday, time(0), tz) < end:
        mondays.append(monday)
        monday += timedelta(days=7)
    if not mondays:
        return []
    base = (first_monday - EPOCH).days * DAY  # local midnight of the first Monday, in local seconds
    # Sessions may be stamped up to a day after `end`; the window must cover them too.
    week = ((local_seconds(user.timezone, start, end + timedelta(days=2)) - base) // WEEK).label("week")
    d = PS.post_mood - PS.pre_mood
    stmt = (
        select(week, func.count(PS.id), func.sum(PS.duration_seconds), func.count(d), func.sum(d))
        .where(PS.user_id == user.id, PS.started_at >= start)
        .group_by("week")
    )
    found = {int(row[0]): row[1:] for row in db.session.execute(stmt)}
    buckets = []
    for i, monday in enumerate(mondays):
        n, seconds, mood_n, mood_sum = found.get(i, (0, 0, 0, 0))
        buckets.append(Bucket(iso_week_key(monday), monday, int(n), int(seconds or 0), int(mood_n or 0), int(mood_sum or 0)))
    return buckets


# --- streak and care ----------------------------------------------------------------------

STREAK_WINDOWS = (64, 512, 4096)  # days looked back before reading the whole history


def streak_days(user: User, now: datetime) -> int:
    """Consecutive local days (in the user's zone) with at least one session, ending today or
    yesterday. The database lists the distinct local days, newest first; the window grows
    only when the streak reaches its start."""
    tz = zone(user.timezone)
    today = (now.astimezone(tz).date() - EPOCH).days
    for days in (*STREAK_WINDOWS, None):
        since = now - timedelta(days=days) if days is not None else _first_session(user)
        if since is None:
            return 0
        since_day = (since.astimezone(tz).date() - EPOCH).days  # only partly inside the window
        local_day = (local_seconds(user.timezone, since, now + timedelta(days=2)) // DAY).label("day")
        stmt = (
            select(local_day)
            .where(PS.user_id == user.id, PS.started_at >= since)
            .distinct()
            .order_by(desc("day"))
        )
        streak, expected = 0, None
        for (day,) in db.session.execute(stmt):
            day = min(int(day), today)  # a clock a little ahead counts as today
            if expected is None:
                if day < today - 1:
                    return 0
                expected, streak = day, 1
            elif day == expected - 1:
                expected, streak = day, streak + 1
            elif day != expected:
                return streak
        # No gap inside the window: done, unless the streak may go on before it.
        if days is None or expected is None or expected > since_day + 1:
            return streak
    return streak  # pragma: no cover - the last window is the whole history


def _first_session(user: User) -> datetime | None:
    return db.session.scalar(select(func.min(PS.started_at)).where(PS.user_id == user.id))


CARE_REASON = N_(
    "Your mood has been low in several of your recent sessions. That happens, and you do not "
    "have to carry it alone: talking with someone you trust, your doctor or a support line can help."
)


def care(user: User, language: str = DEFAULT_LANGUAGE) -> dict:
    """show: mood (after if rated, else before) was 2 or lower in 3 of the last 5 rated sessions."""
    mood = func.coalesce(PS.post_mood, PS.pre_mood)
    stmt = (
        select(mood)
        .where(PS.user_id == user.id, mood.is_not(None))
        .order_by(PS.started_at.desc(), PS.id.desc())
        .limit(CARE_WINDOW)
    )
    low = sum(1 for value in db.session.scalars(stmt) if value <= CARE_LOW_MOOD)
    show = low >= CARE_COUNT
    return {"show": show, "reason": translate(language, CARE_REASON) if show else None}


# --- the recommendation -------------------------------------------------------------------

def _names(user: User, slugs: Iterable[str], language: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    from ..routines.service import get_routine

    names = {}
    for slug in slugs:
        routine = get_routine(user, slug, language)
        names[slug] = routine["name"] if routine else slug
    return names


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


def recommend(rows: list[dict], names: dict[str, str], total_sessions: int, language: str = DEFAULT_LANGUAGE) -> dict:
    """Pick the routine after which mood rose most, allowing for the starting rating, and
    say how sure that is in plain words. Never claims more than the numbers show.

    rows: [{"routine": slug, "mood": MeanCI of the mood change, "mood_adjusted": float | None}]
    (the digest builds the same rows for one week); names: slug → display name.
    Answers {routine (None when nothing points anywhere), text, confidence, based_on};
    `text` in `language` (names are given in it already).
    """
    candidates = [r for r in rows if r["mood"].n >= 2]
    if not candidates:
        return {"routine": None, "text": translate(language, NO_SESSIONS if total_sessions == 0 else NOT_ENOUGH), "confidence": "none", "based_on": 0}
    best = max(candidates, key=lambda r: (r["mood_adjusted"], r["mood"].n))
    delta: MeanCI = best["mood"]
    if best["mood_adjusted"] <= 0 or delta.mean <= 0:
        return {"routine": None, "text": translate(language, NO_LIFT), "confidence": "low", "based_on": sum(r["mood"].n for r in candidates)}
    level = confidence(delta)
    name = names.get(best["routine"], best["routine"])
    values = {"routine": name, "delta": format_decimal(round(delta.mean, 1), "0.0", locale=language), "n": delta.n}
    if len(candidates) > 1:
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
    return {"routine": best["routine"], "text": text, "confidence": level, "based_on": delta.n}


# --- the whole page -----------------------------------------------------------------------

def _startable(user: User, rows: list[dict]) -> list[dict]:
    """The rows a recommendation may name: routines that still exist and that the user's
    screening allows (a blocked routine is never suggested)."""
    from ..routines.screening import check
    from ..routines.service import get_routine

    def allowed(slug: str) -> bool:
        routine = get_routine(user, slug)
        return routine is not None and check(user, routine) is None

    return [r for r in rows if allowed(r["routine"])]


def summary(user: User, now: datetime, days: int = 90, language: str = DEFAULT_LANGUAGE) -> dict:
    """GET /api/insights: the last `days` days (sessions started since now − days); names
    and sentences in `language`."""
    start = now - timedelta(days=days)
    end = now + timedelta(days=1)  # sessions may be stamped a little ahead of the server clock
    sums = routine_sums([user.id], start, end)[user.id]
    adjusted = {name: adjusted_means({s.routine: s.measures[name].group() for s in sums}) for name in RATINGS}
    names = _names(user, [s.routine for s in sums], language)

    rows = []
    for s in sums:
        row = {"routine": s.routine, "name": names[s.routine], "n": s.sessions, "minutes": round(s.seconds / 60, 1)}
        for name in RATINGS:
            row[name] = s.measures[name].delta()
        row["adjusted"] = {name: adjusted[name][s.routine] for name in RATINGS}
        row["mood_adjusted"] = row["adjusted"]["mood"]  # what `recommend` ranks by
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
            "streak_days": streak_days(user, now),
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
            for b in weekly(user, start, now + timedelta(microseconds=1))  # weeks up to and including now
        ],
        "recommendation": recommend(_startable(user, rows), names, total_sessions, language),
        "care": care(user, language),
    }


__all__ = [
    "Bucket",
    "MeasureSums",
    "RoutineSums",
    "care",
    "confidence",
    "local_seconds",
    "measure_columns",
    "offset_changes",
    "recommend",
    "routine_sums",
    "streak_days",
    "summary",
    "week_bounds",
    "weekly",
]
