"""When a user's weekly summary is next due, planned in their zone by the time rules."""
from __future__ import annotations

from datetime import datetime

from ..models import User
from ..timeutil import next_weekly, parse_hhmm, zone


def plan_digest(user: User, now: datetime) -> None:
    """Set `user.digest_next_at` to the next chosen weekday and local time after `now`
    (None while the digest is off)."""
    if not user.digest_enabled:
        user.digest_next_at = None
        return
    user.digest_next_at = next_weekly(
        now, parse_hhmm(user.digest_local_time), [user.digest_weekday], zone(user.timezone)
    )
