"""Statements both databases have but SQLAlchemy spells per dialect."""
from __future__ import annotations

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from .extensions import db


def name() -> str:
    """"postgresql" or "sqlite": the database the current session is bound to."""
    return db.session.get_bind().dialect.name


def insert(table: Table, dialect: str | None = None) -> Insert:
    """INSERT with `on_conflict_do_nothing` / `on_conflict_do_update` for `dialect` (by
    default the bound database)."""
    return (postgresql if (dialect or name()) == "postgresql" else sqlite).insert(table)


def lock_row(table: Table, row_id: int) -> None:
    """Hold the row with primary key `row_id` until the transaction ends, so what is counted
    after this stays true until the caller's insert commits (the per-account caps): PostgreSQL
    locks the row (SELECT … FOR UPDATE); SQLite has no row locks, so a no-op UPDATE takes the
    database's one write lock, which it keeps until commit (so: a table with no `onupdate`
    column, which that UPDATE would fire)."""
    (key,) = table.primary_key.columns
    if name() == "postgresql":
        db.session.execute(select(key).where(key == row_id).with_for_update())
    else:
        db.session.execute(update(table).where(key == row_id).values({key.name: key}))
