"""GET /api/digest/preview: the summary of the week in progress, as the email shows it."""
from __future__ import annotations

from datetime import datetime

from flask import current_app

from ..models import User
from ..timeutil import local_date, zone
from .content import RoutineBook
from .gather import Target, gather
from .period import monday_of
from .render import Composer, Recipient


def preview_html(user: User, now: datetime) -> str:
    """This week so far (local Monday 00:00 to `now`) compared with last week, rendered by
    the same code and templates as the email."""
    monday = monday_of(local_date(now, zone(user.timezone)))
    week = gather([Target(user.id, user.timezone, monday)], now)[user.id]
    composer = Composer(current_app._get_current_object())
    return composer.html(composer.view(Recipient.of(user), week, RoutineBook()))
