"""The care rule (api.md): mood rated 2 or lower in 3 of the last 5 rated sessions (short ones
never count), the mood
being the after rating when given, else the before one. Then the app and the weekly summary
offer supportive words and where to find help, never a diagnosis. One function for one user
or a batch; however long the history, each user costs an index walk of a few rows."""
from __future__ import annotations

import functools
from collections.abc import Iterable

from sqlalchemy import case, func, select

from .. import dialect
from ..extensions import db
from ..i18n import DEFAULT as DEFAULT_LANGUAGE
from ..i18n import N_, translate
from ..models import PracticeSession
from .sums import COUNTED

PS = PracticeSession
LOW_MOOD = 2
WINDOW = 5
COUNT = 3
REASON = N_(
    "Your mood has been low in several of your recent sessions. That happens, and you do not "
    "have to carry it alone: talking with someone you trust, your doctor or a support line can help."
)


def low_moods(user_ids: Iterable[int]) -> dict[int, bool]:
    """{user_id: whether the care rule holds}: one statement for the batch."""
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    out = {uid: False for uid in user_ids}
    rows = {"ids_rows": dialect.json_payload([(uid,) for uid in user_ids], dialect.name())}
    for user_id, low in db.session.execute(_statement(dialect.name()), rows):
        out[user_id] = int(low or 0) >= COUNT
    return out


@functools.cache
def _statement(kind: str):
    """Built once per database kind: per user, how many of the last WINDOW rated moods were low."""
    mood = func.coalesce(PS.post_mood, PS.pre_mood)
    ids = dialect.json_table("ids", [("user_id", "int")], kind)

    def nth_newest(k: int):  # the k-th newest rated mood (0 = the last): an index walk
        return (
            select(mood)
            .where(PS.user_id == ids.c.user_id, mood.is_not(None), COUNTED)
            .order_by(PS.started_at.desc(), PS.id.desc())
            .limit(1)
            .offset(k)
            .scalar_subquery()
        )

    low = sum(case((nth_newest(k) <= LOW_MOOD, 1), else_=0) for k in range(WINDOW))
    return select(ids.c.user_id, low)


def care(user_id: int, language: str = DEFAULT_LANGUAGE) -> dict:
    """The answer GET /api/insights carries: {show, reason}, the reason in `language`."""
    show = low_moods([user_id])[user_id]
    return {"show": show, "reason": translate(language, REASON) if show else None}
