"""Statements both databases have but SQLAlchemy spells per dialect."""
from __future__ import annotations

from sqlalchemy import Table
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
