"""Per-routine sufficient statistics of a user's sessions (count, seconds, and for each rating
n, Σd, Σd², Σx, Σx², Σxd with x = before and d = after − before): what the insights, what
helps me and the weekly summary compute every figure from. One GROUP BY for one user or a
batch."""
from __future__ import annotations

from dataclasses import astuple, dataclass, field

from sqlalchemy import case, false, func

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





def columns() -> list:
    """count, seconds and the 18 rating sums of MeasureSums, for any GROUP BY over sessions."""
    out = [func.count(PS.id), func.coalesce(func.sum(PS.duration_seconds), 0)]
    for name in RATINGS:
        out += [func.coalesce(c, 0) for c in measure_columns(name)]
    return out


def from_row(user_id: int, routine: str, values) -> RoutineSums:
    """A RoutineSums from the values `columns()` (or practice_days' sums) give, in order."""
    n, seconds, *rest = values
    measures = {name: MeasureSums(*(int(v or 0) for v in rest[i * 6 : i * 6 + 6])) for i, name in enumerate(RATINGS)}
    return RoutineSums(user_id, routine, int(n or 0), int(seconds or 0), measures)


def add(a: RoutineSums, b: RoutineSums) -> RoutineSums:
    measures = {
        name: MeasureSums(*(x + y for x, y in zip(astuple(a.measures[name]), astuple(b.measures[name])))) for name in RATINGS
    }
    return RoutineSums(a.user_id, a.routine, a.sessions + b.sessions, a.seconds + b.seconds, measures)
