"""Which days a weekly summary covers, in the user's own zone.

A summary covers one calendar week, Monday 00:00 to the next Monday 00:00 local time:
- sent Friday, Saturday or Sunday (the default is Sunday 18:00): the week that is ending,
  counted up to the moment it is made;
- sent Monday to Thursday: the week that has just ended, in full.
So a Sunday-evening summary is about "this week" and a Monday-morning one about "last week",
as a reader would expect. The comparison is always with the week before the one covered.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..timeutil import local_date, local_to_utc

CURRENT_WEEK_FROM_WEEKDAY = 4  # Friday
MIDNIGHT = time(0, 0)


@dataclass(frozen=True)
class Period:
    monday: date  # the first local day covered
    ending: bool  # True: the week is not over yet at `as_of` ("this week")
    prev_start: datetime  # UTC: the week before starts here
    start: datetime  # UTC: the covered week starts here …
    end: datetime  # … and is counted up to here (its end, or `as_of` when earlier)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def covered_monday(planned_at: datetime, tz: ZoneInfo) -> date:
    """The Monday of the week a summary planned at `planned_at` covers (see above)."""
    send_day = local_date(planned_at, tz)
    monday = monday_of(send_day)
    return monday if send_day.weekday() >= CURRENT_WEEK_FROM_WEEKDAY else monday - timedelta(days=7)


def period_for(monday: date, tz: ZoneInfo, as_of: datetime) -> Period:
    """The local week starting on `monday`, counted up to `as_of`."""
    start = local_to_utc(monday, MIDNIGHT, tz)
    end = local_to_utc(monday + timedelta(days=7), MIDNIGHT, tz)
    return Period(
        monday=monday,
        ending=as_of < end,
        prev_start=local_to_utc(monday - timedelta(days=7), MIDNIGHT, tz),
        start=start,
        end=min(end, as_of),
    )
