"""Per-routine sufficient statistics of a user's sessions (count, seconds, and for each rating
n, Σd, Σd², Σx, Σx², Σxd with x = before and d = after − before): what the insights, what
helps me and the weekly summary compute every figure from. One GROUP BY for one user or a
batch."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, false, func, select

from ..extensions import db
from ..models import PracticeSession
from .stats import GroupSums, MeanCI, mean_ci_from_sums

PS = PracticeSession
RATINGS = ("mood", "anxiety", "energy")
# The sessions every figure counts: not the short ones (under a minute, api.md), which are
# kept and listed only. Every statement that counts sessions filters on it.
COUNTED = PS.short == false()


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





def routine_sums(user_ids: Iterable[int], start: datetime, end: datetime | None = None) -> dict[int, list[RoutineSums]]:
    """Per user and routine: sessions, seconds practised and rating-change sums for sessions
    with start ≤ started_at < end. One query for any number of users (the digest batches them)."""
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    columns = [PS.user_id, PS.routine, func.count(PS.id), func.sum(PS.duration_seconds)]
    for name in RATINGS:
        columns += measure_columns(name)
    stmt = select(*columns).where(PS.user_id.in_(user_ids), PS.started_at >= start, COUNTED)
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


