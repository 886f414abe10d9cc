"""The time rules (design.md, Time): instants are UTC, plans are made in the user's zone.

A local time that does not exist (spring forward) fires at the first valid minute after
the gap; one that occurs twice (fall back) fires once, at its first occurrence (fold=0).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

UTC = timezone.utc


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_valid_zone(name: str) -> bool:
    """An IANA zone name that this machine's tz database knows."""
    if not isinstance(name, str) or name not in _zone_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_hhmm(value: str) -> time:
    """'07:30' → time(7, 30); raises ValueError for anything else."""
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        raise ValueError("expected HH:MM")
    hours, minutes = value[:2], value[3:]
    if not (hours.isdigit() and minutes.isdigit()):
        raise ValueError("expected HH:MM")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError("hours 00–23 and minutes 00–59")
    return time(h, m)


def _exists(naive: datetime, tz: ZoneInfo) -> bool:
    aware = naive.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive


def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `tz`, by the gap and fold rules."""
    naive = datetime.combine(day, at)
    # In a gap, step a minute at a time to its end (gaps are at most a few hours).
    for _ in range(24 * 60):
        if _exists(naive, tz):
            return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
        naive = (naive + timedelta(minutes=1)).replace(second=0, microsecond=0)
    raise ValueError("no valid local time found")  # pragma: no cover - no zone has such a gap


def next_weekly(after: datetime, at: time, weekdays: list[int] | set[int], tz: ZoneInfo) -> datetime | None:
    """The first instant strictly after `after` that falls at local `at` on one of `weekdays`.

    `weekdays` uses 0 = Monday … 6 = Sunday, like `date.weekday()`.
    """
    days = set(weekdays)
    if not days:
        return None
    start = after.astimezone(tz).date() - timedelta(days=1)
    for offset in range(0, 10):
        day = start + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        candidate = local_to_utc(day, at, tz)
        if candidate > after:
            return candidate
    return None  # pragma: no cover - ten days always hold a chosen weekday


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def iso_week_key(day: date) -> str:
    """'2026-W48' for the ISO week that holds `day`."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_instant(value: str) -> datetime:
    """An RFC 3339 instant with an offset (a trailing Z allowed) → aware UTC datetime."""
    parsed = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("the instant needs an offset, e.g. 2026-11-23T07:30:00Z")
    return parsed.astimezone(UTC)
