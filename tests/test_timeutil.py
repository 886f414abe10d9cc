"""The time rules: gaps fire at the first valid minute after, folds fire once (first)."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from coach.timeutil import iso_week_key, local_to_utc, next_weekly, parse_hhmm, parse_instant

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_plain_day():
    assert local_to_utc(date(2026, 7, 1), time(7, 30), BERLIN) == utc(2026, 7, 1, 5, 30)
    assert local_to_utc(date(2026, 1, 5), time(7, 30), BERLIN) == utc(2026, 1, 5, 6, 30)


def test_spring_forward_gap_fires_at_the_first_valid_minute_after():
    # New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
    assert local_to_utc(date(2026, 3, 8), time(2, 30), NY) == utc(2026, 3, 8, 7, 0)
    # Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
    assert local_to_utc(date(2026, 3, 29), time(2, 15), BERLIN) == utc(2026, 3, 29, 1, 0)


def test_fall_back_fold_fires_at_the_first_occurrence():
    # New York, 2026-11-01: 01:30 happens at 05:30 UTC (EDT) and 06:30 UTC (EST).
    assert local_to_utc(date(2026, 11, 1), time(1, 30), NY) == utc(2026, 11, 1, 5, 30)
    # Berlin, 2026-10-25: 02:30 happens at 00:30 UTC (CEST) and 01:30 UTC (CET).
    assert local_to_utc(date(2026, 10, 25), time(2, 30), BERLIN) == utc(2026, 10, 25, 0, 30)


def test_next_weekly_fires_once_on_a_fold_day():
    first = next_weekly(utc(2026, 11, 1, 0, 0), time(1, 30), range(7), NY)
    assert first == utc(2026, 11, 1, 5, 30)
    # Just after it fired, the next one is the following day, not the repeated 01:30.
    assert next_weekly(first, time(1, 30), range(7), NY) == utc(2026, 11, 2, 6, 30)


def test_next_weekly_respects_weekdays_and_is_strictly_after():
    monday_0730 = utc(2026, 11, 23, 6, 30)  # Monday 07:30 in Berlin
    assert next_weekly(utc(2026, 11, 23, 0, 0), time(7, 30), [0], BERLIN) == monday_0730
    assert next_weekly(monday_0730, time(7, 30), [0], BERLIN) == utc(2026, 11, 30, 6, 30)
    # Weekdays only: from Friday evening the next is Monday.
    assert next_weekly(utc(2026, 11, 27, 20, 0), time(7, 30), [0, 1, 2, 3, 4], BERLIN) == utc(2026, 11, 30, 6, 30)
    assert next_weekly(utc(2026, 11, 27, 20, 0), time(7, 30), [], BERLIN) is None


def test_next_weekly_near_the_date_line():
    tokyo = ZoneInfo("Asia/Tokyo")
    # Sunday 18:00 in Tokyo is Sunday 09:00 UTC.
    assert next_weekly(utc(2026, 11, 28, 23, 0), time(18, 0), [6], tokyo) == utc(2026, 11, 29, 9, 0)
    samoa = ZoneInfo("Pacific/Kiritimati")  # UTC+14
    assert next_weekly(utc(2026, 11, 22, 11, 0), time(7, 0), [0], samoa) == utc(2026, 11, 22, 17, 0)


@pytest.mark.parametrize("bad", ["7:30", "24:00", "12:60", "ab:cd", "", "07:30:00", None, 730])
def test_parse_hhmm_rejects(bad):
    with pytest.raises(ValueError):
        parse_hhmm(bad)


def test_parse_instant_needs_an_offset():
    assert parse_instant("2026-11-23T07:30:00Z") == utc(2026, 11, 23, 7, 30)
    assert parse_instant("2026-11-23T08:30:00+01:00") == utc(2026, 11, 23, 7, 30)
    with pytest.raises(ValueError):
        parse_instant("2026-11-23T07:30:00")


def test_iso_week_key_at_year_boundaries():
    assert iso_week_key(date(2026, 11, 23)) == "2026-W48"
    assert iso_week_key(date(2027, 1, 1)) == "2026-W53"
    assert iso_week_key(date(2024, 12, 30)) == "2025-W01"
