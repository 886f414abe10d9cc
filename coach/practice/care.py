"""The care rule (api.md): mood rated 2 or lower in 3 of the last 5 rated sessions (short ones
never count), the mood
being the after rating when given, else the before one. Then the app and the weekly summary
offer supportive words and where to find help, never a diagnosis. One function for one user
or a batch; however long the history, each user costs an index walk of a few rows."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import case, func, or_, select

from .. import dialect
from ..extensions import db
from ..models import PracticeSession
from .sums import COUNTED

PS = PracticeSession
LOW_MOOD = 2
WINDOW = 5
COUNT = 3
REASON = (
    "Your mood has been low in several of your recent sessions. That happens, and you do not "
    "have to carry it alone: talking with someone you trust, your doctor or a support line can help."
)


def low_moods(user_ids: Iterable[int]) -> dict[int, bool]:
    """{user_id: whether the care rule holds}: one statement for the batch."""
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    mood = func.coalesce(PS.post_mood, PS.pre_mood)
    ids = dialect.json_rows("ids", [("user_id", "int")], [(uid,) for uid in user_ids], dialect.name())
    # Where each user's last WINDOW rated sessions begin (NULL with fewer): an index walk.
    fifth = (
        select(PS.started_at)
        .where(PS.user_id == ids.c.user_id, mood.is_not(None), COUNTED)
        .order_by(PS.started_at.desc(), PS.id.desc())
        .limit(1)
        .offset(WINDOW - 1)
        .scalar_subquery()
    )
    horizon = select(ids.c.user_id, fifth.label("since")).cte("horizon")
    ranked = (
        select(
            PS.user_id,
            mood.label("mood"),
            func.row_number().over(partition_by=PS.user_id, order_by=(PS.started_at.desc(), PS.id.desc())).label("rn"),
        )
        .join(horizon, horizon.c.user_id == PS.user_id)
        .where(mood.is_not(None), COUNTED, or_(horizon.c.since.is_(None), PS.started_at >= horizon.c.since))
        .subquery("ranked")
    )
    stmt = (
        select(ranked.c.user_id, func.sum(case((ranked.c.mood <= LOW_MOOD, 1), else_=0)))
        .where(ranked.c.rn <= WINDOW)
        .group_by(ranked.c.user_id)
    )
    out = {uid: False for uid in user_ids}
    for user_id, low in db.session.execute(stmt):
        out[user_id] = int(low or 0) >= COUNT
    return out


def care(user_id: int) -> dict:
    """The answer GET /api/insights carries: {show, reason}."""
    show = low_moods([user_id])[user_id]
    return {"show": show, "reason": REASON if show else None}
