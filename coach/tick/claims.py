"""Claim, lease, record: the one way the tick's steps take work from the database
(design.md, The scheduler: the database is the queue). The reminders step and the digests
step each describe their queue with a `Queue` and use it the same way:

1. claim: one UPDATE moves the due rows' instant to a lease instant (`LEASE` ahead on the
   tick's clock, this batch's own: coach.tick.lease), keeps the occurrence being sent in
   the `planned` column, and RETURNs the rows. On PostgreSQL its subquery is
   `SELECT … FOR UPDATE SKIP LOCKED`, so concurrent scheduler processes each take other
   rows; on SQLite the statement is a compare-and-set (`due <= now` is checked again under
   SQLite's single writer lock). Committed at once: other processes see the lease, not a
   due row.
2. record: each occurrence's delivery row goes in under its unique key with
   `ON CONFLICT DO NOTHING` (`record_once`) BEFORE anything is sent; a row that did not go in
   belongs to an occurrence handled (or being handled) already.
3. write back: a claimed row is re-planned or backed off only while it still holds this
   batch's lease (`Queue.held`), so an edit made through the API meanwhile wins.

A lease that runs out with its work unfinished means the process holding it died (a live
one stops sending before its lease ends), and a later tick claims those rows again.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Row, Table, any_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql

from .. import dialect
from ..dialect import insert
from ..extensions import db
from .lease import TickClock, lease_from, stopping

LEASE = timedelta(minutes=5)
# Every claimed row leaves the due set (re-planned, leased or backed off to a later
# instant), so a step's batches end; this cap only guards against a planning bug.
MAX_BATCHES = 100_000


def among(column, ids: Iterable) -> ColumnElement[bool]:
    """`column IN ids`; on PostgreSQL `= ANY(array)`: one parameter instead of hundreds, so
    the driver does not parse a new statement for every batch."""
    if dialect.name() == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=postgresql.ARRAY(column.type)))
    return column.in_(list(ids))


@dataclass(frozen=True)
class Queue:
    """A table used as a queue: a row is due once its `due` instant has come; `planned`
    keeps the occurrence being sent while `due` holds a lease or a back-off."""

    table: Table
    due: str
    planned: str
    ready: tuple[ColumnElement[bool], ...] = ()  # what else a due row must satisfy
    tiebreak: tuple = ()  # order among rows due at the same instant

    def claim(self, now: datetime, clock_now: datetime, limit: int, returning: Sequence) -> tuple[list[Row], datetime]:
        """Lease up to `limit` due rows (the longest due first); returns (rows, lease)."""
        t = self.table
        due, planned = t.c[self.due], t.c[self.planned]
        lease = lease_from(clock_now, LEASE)
        oldest = select(t.c.id).where(due <= now, *self.ready).order_by(due, *self.tiebreak).limit(limit)
        if dialect.name() == "postgresql":
            oldest = oldest.with_for_update(skip_locked=True)
        rows = db.session.execute(
            update(t)
            .where(t.c.id.in_(oldest), due <= now)
            .values({due: lease, planned: func.coalesce(planned, due)})
            .returning(*returning)
        ).all()
        db.session.commit()
        return rows, lease

    def batches(self, now: datetime, clock: TickClock, limit: int, returning: Sequence) -> Iterator[tuple[list[Row], datetime]]:
        """Claimed batches, one at a time, until none is due or the process is asked to stop
        (SIGTERM: the batch being handled is finished, no other is claimed)."""
        for _ in range(MAX_BATCHES):
            if stopping.is_set():
                return
            rows, lease = self.claim(now, clock(), limit, returning)
            if not rows:
                return
            yield rows, lease

    def held(self, lease: datetime) -> ColumnElement[bool]:
        """The row still holds this batch's lease: the condition of every write back."""
        return self.table.c[self.due] == lease


def record_once(table: Table, unique: Sequence[str], rows: list[dict], returning: Sequence) -> list[Row]:
    """Insert delivery rows, one per occurrence under the `unique` key, in one executemany;
    returns `returning` of the rows that went in. A row that did not go in already exists:
    that occurrence was recorded before, by this process or another."""
    if not rows:
        return []
    stmt = insert(table).on_conflict_do_nothing(index_elements=list(unique)).returning(*returning)
    return db.session.execute(stmt, rows).all()
