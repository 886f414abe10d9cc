"""Per-day sums of each user's sessions, so that insights and "what helps me" cost what the
number of days and routines costs, not the number of sessions (issue 13).

practice_days holds, per user, routine and local day (in the zone practice_day_state names),
the count, seconds and rating sums of the counted (not short) sessions: the same integers
sums.columns() gives over the sessions, so every figure computed from them is exactly the
one computed from the sessions. A window [start, end) is read as its whole local days from
practice_days plus the sessions of the two days it cuts (at most a couple of days' sessions).

Kept in the write's transaction: sessions.save and sessions.remove lock the user's state row,
then add the new session's share and take away the old one's. The sums are rebuilt from the
sessions (once, one GROUP BY) at the next read when they are missing or counted in another
zone (the user moved), or after a write that did not keep them: any ORM flush or statement
that touches practice_sessions without saying it keeps them (seeds, tests, scripts) marks
them stale, so they can never silently disagree with the sessions.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta

from sqlalchemy import Integer, and_, bindparam, delete, event, func, literal, or_, select, union_all, update
from sqlalchemy.orm import Session

from .. import dialect
from ..extensions import db
from ..models import PracticeBlock, PracticeDay, PracticeDayState, PracticeSession, User, UTCDateTime
from ..models.practice import BLOCK_DAYS, SUM_COLUMNS
from ..timeutil import local_to_utc, zone
from .local_days import DAY, EPOCH, Window, local_day, segments, within
from .sums import COUNTED, RATINGS, RoutineSums, add, columns, from_row

PS = PracticeSession
PD = PracticeDay.__table__
PB = PracticeBlock.__table__
NO_END = 2**30  # a day number after any session (and inside a 32-bit integer)
STATE = PracticeDayState.__table__
KEPT = "practice_days_kept"  # execution option: this write keeps practice_days itself


# --- one session's share -------------------------------------------------------------------

def local_day_of(instant: datetime, tz_name: str) -> int:
    """The local day number of `instant`, as local_days.local_day computes it in SQL (whole
    epoch seconds plus the offset in force at that instant)."""
    offset = int(instant.astimezone(zone(tz_name)).utcoffset().total_seconds())
    return (math.floor(instant.timestamp()) + offset) // DAY


def share(values: Mapping) -> dict[str, int] | None:
    """What one session adds to its day (None for a short one, which counts nowhere)."""
    if values.get("short"):
        return None
    out = {"sessions": 1, "seconds": values.get("duration_seconds") or 0}
    for name in RATINGS:
        pre, post = values.get(f"pre_{name}"), values.get(f"post_{name}")
        paired = pre is not None and post is not None
        d = post - pre if paired else 0
        x = pre if paired else 0
        out.update({
            f"{name}_n": int(paired), f"{name}_sum_d": d, f"{name}_sum_d2": d * d,
            f"{name}_sum_x": x, f"{name}_sum_x2": x * x, f"{name}_sum_xd": x * d,
        })
    return out


# --- writes ----------------------------------------------------------------------------------

def lock(user: User) -> None:
    """Before a write to the user's sessions: take their state row for this transaction, so
    that writes and rebuilds of one user's sums never interleave, and build the sums first
    when they are missing or counted in another zone (then `record` keeps them)."""
    if _lock(user.id) != user.timezone:
        _rebuild(user.id, user.timezone)


@functools.cache
def _lock_statement(kind: str):
    stmt = dialect.insert(STATE, kind).values(user_id=bindparam("user_id"), timezone=None)
    # Updating the row to itself takes its lock (PostgreSQL) and answers the stored zone.
    return stmt.on_conflict_do_update(index_elements=["user_id"], set_={"timezone": STATE.c.timezone}).returning(
        STATE.c.timezone
    )


def _lock(user_id: int) -> str | None:
    """Take the user's state row (made when missing); the zone the sums are counted in, or
    None when they are not built. One statement."""
    return db.session.execute(_lock_statement(dialect.name()), {"user_id": user_id}).scalar_one()


@functools.cache
def _add_statement(kind: str, table_name: str):
    """INSERT … ON CONFLICT DO UPDATE adding a row of sums to the day's (or block's)."""
    table, key = (PD, "day") if table_name == PD.name else (PB, "block")
    stmt = dialect.insert(table, kind)
    return stmt.on_conflict_do_update(
        index_elements=["user_id", key, "routine"], set_={n: table.c[n] + stmt.excluded[n] for n in SUM_COLUMNS}
    )


@functools.cache
def _drop_empty_statement(table_name: str):
    table, key = (PD, "day") if table_name == PD.name else (PB, "block")
    return delete(table).where(
        table.c.user_id == bindparam("user_id"), table.c[key] == bindparam("at"),
        table.c.routine == bindparam("routine"), table.c.sessions == 0,
    )


def record(user: User, before: Mapping | None, after: Mapping | None) -> None:
    """Move the user's sums (after `lock`) from a session as it was (`before`, None when new)
    to as it is (`after`, None when deleted)."""
    kind = dialect.name()
    for values, sign in ((before, -1), (after, 1)):
        part = share(values) if values is not None else None
        if part is None:
            continue
        day = local_day_of(values["started_at"], user.timezone)
        sums = {name: sign * part[name] for name in SUM_COLUMNS}
        for table, key, at in ((PD, "day", day), (PB, "block", day // BLOCK_DAYS)):
            row = {"user_id": user.id, key: at, "routine": values["routine"]}
            db.session.execute(_add_statement(kind, table.name), {**row, **sums})
            if sign < 0:  # a day (or block) left with no session is no practice
                db.session.execute(_drop_empty_statement(table.name), {"user_id": user.id, "at": at, "routine": values["routine"]})


def _forget(connection, user_ids: Iterable[int] | None) -> None:
    stmt = delete(STATE)
    if user_ids is not None:
        stmt = stmt.where(STATE.c.user_id.in_(sorted(set(user_ids))))
    connection.execute(stmt)


@event.listens_for(Session, "after_flush")
def _orm_writes(session, _context) -> None:
    """Sessions added, changed or deleted through the ORM (seeds, tests): their users' sums
    are rebuilt at the next read."""
    users = {obj.user_id for obj in (*session.new, *session.dirty, *session.deleted) if isinstance(obj, PracticeSession)}
    if users:
        _forget(session.connection(), users)


@event.listens_for(Session, "do_orm_execute")
def _statement_writes(state) -> None:
    """An INSERT, UPDATE or DELETE on practice_sessions that does not keep the sums itself:
    whose rows it touched is not known, so every user's sums are rebuilt at their next read."""
    if not (state.is_insert or state.is_update or state.is_delete) or state.execution_options.get(KEPT):
        return
    table = getattr(state.statement, "table", None)
    if table is not None and getattr(table, "name", None) == PS.__tablename__:
        _forget(state.session.connection(), None)


# --- reads -----------------------------------------------------------------------------------

# The reads' statements are built once per database kind; each call binds its users' rows
# (dialect.json_table), so a read costs its SQL, not the building and compiling of it.

@functools.cache
def _states(kind: str):
    users = dialect.json_table("users", [("user_id", "int")], kind)
    return select(STATE.c.user_id, STATE.c.timezone).join(users, users.c.user_id == STATE.c.user_id)


WHOLE = [("user_id", "int"), ("b1", "int"), ("b2", "int"), ("d1", "int"), ("d2", "int"), ("d3", "int"), ("d4", "int")]


def _pieces(first: int, last: int) -> tuple[int, int, int, int, int, int]:
    """Days first..last as whole blocks b1..b2 and the days d1..d2 and d3..d4 around them
    (each at most a block long; an empty range has its end before its start)."""
    b1, b2 = -(-first // BLOCK_DAYS), (last + 1) // BLOCK_DAYS - 1
    if b1 > b2:
        return 1, 0, first, last, 1, 0
    return b1, b2, first, b1 * BLOCK_DAYS - 1, (b2 + 1) * BLOCK_DAYS, last


@functools.cache
def _whole_days(kind: str, ratings: tuple[str, ...], one: bool):
    """The sums of whole days: their whole blocks and the days around them. For one user with
    plain parameters (key ranges the database reads directly), for a batch joined to a
    json_table of WHOLE."""
    wanted = [n for n in SUM_COLUMNS if n in ("sessions", "seconds") or n.split("_", 1)[0] in ratings]
    if one:
        w = {name: bindparam(name, type_=Integer) for name, _ in WHOLE}
        blocks = select(PB.c.user_id, PB.c.routine, *(PB.c[n] for n in wanted)).where(PB.c.user_id == w["user_id"])
        days = select(PD.c.user_id, PD.c.routine, *(PD.c[n] for n in wanted)).where(PD.c.user_id == w["user_id"])
    else:
        table = dialect.json_table("whole", WHOLE, kind)
        w = table.c
        blocks = select(PB.c.user_id, PB.c.routine, *(PB.c[n] for n in wanted)).join(table, w.user_id == PB.c.user_id)
        days = select(PD.c.user_id, PD.c.routine, *(PD.c[n] for n in wanted)).join(table, w.user_id == PD.c.user_id)
    blocks = blocks.where(PB.c.block >= w["b1"], PB.c.block <= w["b2"])
    days = days.where(or_(and_(PD.c.day >= w["d1"], PD.c.day <= w["d2"]), and_(PD.c.day >= w["d3"], PD.c.day <= w["d4"])))
    both = union_all(blocks, days).subquery("pieces")
    return (
        select(both.c.user_id, both.c.routine, *(func.sum(both.c[n]) if n in wanted else literal(0) for n in SUM_COLUMNS))
        .group_by(both.c.user_id, both.c.routine)
    )


@functools.cache
def _cut_days(kind: str, one: bool):
    """The sessions of the cut days. For one user, two plain ranges of the (user, started_at)
    index; for a batch, joined to a json_table of (user, from, to) and held to the batch's
    users by an IN list, so that PostgreSQL also reads them through that index."""
    stmt = select(PS.user_id, PS.routine, *columns()).where(COUNTED).group_by(PS.user_id, PS.routine)
    if one:
        instant = UTCDateTime()
        a1, b1, a2, b2 = (bindparam(name, type_=instant) for name in ("a1", "b1", "a2", "b2"))
        return stmt.where(
            PS.user_id == bindparam("user_id"),
            or_(and_(PS.started_at >= a1, PS.started_at < b1), and_(PS.started_at >= a2, PS.started_at < b2)),
        )
    cut = dialect.json_table("cut", [("user_id", "int"), ("cut_start", "instant"), ("cut_end", "instant")], kind)
    return stmt.join(
        cut, and_(cut.c.user_id == PS.user_id, PS.started_at >= cut.c.cut_start, PS.started_at < cut.c.cut_end)
    ).where(PS.user_id.in_(bindparam("ids", expanding=True)))


@functools.cache
def _weeks(kind: str, names: tuple[str, ...]):
    week = ((PD.c.day - bindparam("monday")) // 7).label("week")  # days ≥ monday: no negative to round
    return (
        select(week, *(func.sum(PD.c[name]) for name in names))
        .where(PD.c.user_id == bindparam("user_id"), PD.c.day >= bindparam("first_day"))
        .group_by(week)
    )


def rows_of(name: str, rows: list[tuple]) -> dict[str, str]:
    """The parameter that fills json_table `name` with `rows`."""
    return {f"{name}_rows": dialect.json_payload(rows, dialect.name())}


def fresh(zones: Mapping[int, str]) -> None:
    """Make the sums of these users ({user_id: zone}) complete in their zones, rebuilding the
    ones that are missing or counted in another zone (then committed)."""
    if not zones:
        return
    built = dict(db.session.execute(_states(dialect.name()), rows_of("users", [(uid,) for uid in zones])).all())
    stale = [uid for uid, tz in zones.items() if built.get(uid) != tz]
    for uid in stale:
        if _lock(uid) != zones[uid]:  # another request may have built them meanwhile
            _rebuild(uid, zones[uid])
    if stale:
        db.session.commit()


def _rebuild(user_id: int, tz_name: str) -> None:
    """The user's sums from their sessions, in `tz_name` (under the state row's lock)."""
    db.session.execute(delete(PD).where(PD.c.user_id == user_id))
    db.session.execute(delete(PB).where(PB.c.user_id == user_id))
    first, last = db.session.execute(
        select(func.min(PS.started_at), func.max(PS.started_at)).where(PS.user_id == user_id)
    ).one()
    if first is not None:
        seg = segments([Window(user_id, tz_name, first, last + timedelta(seconds=1))])
        day = local_day(seg, PS.started_at).label("day")
        rows = (
            select(PS.user_id, PS.routine, day, *columns())
            .join(seg, within(seg, PS.user_id, PS.started_at))
            .where(COUNTED)
            .group_by(PS.user_id, PS.routine, day)
        )
        db.session.execute(PD.insert().from_select(["user_id", "routine", "day", *SUM_COLUMNS], rows))
        block = (PD.c.day // BLOCK_DAYS).label("block")
        blocks = (
            select(PD.c.user_id, block, PD.c.routine, *(func.sum(PD.c[name]) for name in SUM_COLUMNS))
            .where(PD.c.user_id == user_id)
            .group_by(PD.c.user_id, block, PD.c.routine)
        )
        db.session.execute(PB.insert().from_select(["user_id", "block", "routine", *SUM_COLUMNS], blocks))
    db.session.execute(update(STATE).where(STATE.c.user_id == user_id).values(timezone=tz_name))


def zones_of(user_ids: Iterable[int]) -> dict[int, str]:
    return dict(db.session.execute(select(User.id, User.timezone).where(User.id.in_(list(user_ids)))).all())


def routine_sums(
    user_ids: Iterable[int],
    start: datetime,
    end: datetime | None = None,
    zones: Mapping[int, str] | None = None,
    ratings: tuple[str, ...] = RATINGS,
    checked: bool = False,
) -> dict[int, list[RoutineSums]]:
    """Per user and routine: sessions, seconds practised and rating-change sums of the counted
    sessions with start ≤ started_at < end (no end: all after start). One statement on the
    per-day sums and one on the sessions of the cut days, for any number of users. `zones`
    ({user_id: zone}) saves looking the users' zones up; the sums of ratings not in
    `ratings` are left at zero; `checked`: the caller has just made them `fresh`."""
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    zones = zones if zones is not None else zones_of(user_ids)
    if not checked:
        fresh(zones)
    whole, cut = [], []  # per user: (first whole day, last whole day); cut-day instants
    for uid, tz_name in zones.items():
        tz = zone(tz_name)
        first = local_day_of(start, tz_name) + 1  # the start's own day is cut (unless at midnight)
        first_at = local_to_utc(EPOCH + timedelta(days=first), time(0), tz)
        cut.append((uid, start, first_at if end is None else min(first_at, end)))
        if end is None:
            last, last_end = None, None
        else:
            last = local_day_of(end, tz_name) - 1
            last_end = local_to_utc(EPOCH + timedelta(days=last + 1), time(0), tz)
            cut.append((uid, max(last_end, first_at), end))
        whole.append((uid, *_pieces(first, last if last is not None else NO_END)))
    out: dict[int, dict[str, RoutineSums]] = {uid: {} for uid in user_ids}

    def merge(found: RoutineSums) -> None:
        have = out[found.user_id].get(found.routine)
        out[found.user_id][found.routine] = found if have is None else add(have, found)

    if len(whole) == 1:
        params = dict(zip((name for name, _ in WHOLE), whole[0]))
    else:
        params = rows_of("whole", whole)
    for user_id, routine, *values in db.session.execute(_whole_days(dialect.name(), ratings, len(whole) == 1), params):
        merge(from_row(user_id, routine, values))
    if len(zones) == 1:
        ranges = [(a, b) for _, a, b in cut] + [(start, start)]  # an empty second range when there is one
        (uid,) = zones
        params = {"user_id": uid, "a1": ranges[0][0], "b1": ranges[0][1], "a2": ranges[1][0], "b2": ranges[1][1]}
    else:
        params = {**rows_of("cut", cut), "ids": list(zones)}
    for user_id, routine, *values in db.session.execute(_cut_days(dialect.name(), len(zones) == 1), params):
        merge(from_row(user_id, routine, values))
    return {uid: [found[slug] for slug in sorted(found)] for uid, found in out.items()}


def week_sums(user: User, first_day: int, monday: int, columns_wanted: Iterable[str], checked: bool = False):
    """Rows (week, sums of `columns_wanted`) of the user's days from `first_day` on, by week
    counted from the local Monday day number `monday` (0 is its week)."""
    if not checked:
        fresh({user.id: user.timezone})
    stmt = _weeks(dialect.name(), tuple(columns_wanted))
    return db.session.execute(stmt, {"monday": monday, "user_id": user.id, "first_day": first_day}).all()


__all__ = ["KEPT", "week_sums", "fresh", "local_day_of", "lock", "record", "routine_sums", "share", "zones_of"]
