"""Statements both databases have but SQLAlchemy spells per dialect."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import BigInteger, Integer, Table, column, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.sql.selectable import CTE

from .extensions import db
from .models import UTCDateTime


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


class epoch_seconds(FunctionElement):
    """Whole seconds since 1970-01-01 UTC of a UTCDateTime column (integer arithmetic, so a
    local day boundary never slips by a rounding error)."""

    type = BigInteger()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    # UTCDateTime keeps naive UTC text ('YYYY-MM-DD HH:MM:SS.ffffff') on SQLite, which
    # strftime reads as UTC but rounds to milliseconds (23:59:59.9999 would become the next
    # day): cut the fraction off first, so this floors like the PostgreSQL spelling.
    return f"CAST(strftime('%s', substr({compiler.process(element.clauses, **kw)}, 1, 19)) AS INTEGER)"


@compiles(epoch_seconds, "postgresql")
def _epoch_pg(element, compiler, **kw):
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


# --- a table of per-user constants, as one parameter ----------------------------------------
# Each user of a batch has their own week bounds (their zone). They travel as one JSON array
# that the database unpacks (json_each / json_array_elements): the statement text stays the
# same for every batch, so SQLAlchemy compiles it once, where a VALUES list of 500 rows with
# 2,000 bound parameters would be compiled again for each batch (~0.2 s each time).

KINDS = {"int": ("integer", Integer), "instant": ("timestamptz", UTCDateTime)}


def _json_value(value, dialect: str):
    if isinstance(value, datetime):
        value = value.astimezone(timezone.utc)
        # On SQLite the text must sort like UTCDateTime's stored text (naive UTC).
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else value.isoformat()
    return value


def json_table(name: str, columns: list[tuple[str, str]], dialect: str) -> CTE:
    """A CTE `name(columns…)` whose rows come as the parameter `<name>_rows` at execution
    (json_payload): a statement built on it can be built once and run with any rows."""
    if dialect == "sqlite":
        select_list = ", ".join(f"json_extract(value, '$[{i}]') AS {col}" for i, (col, _) in enumerate(columns))
        sql = f"SELECT {select_list} FROM json_each(:{name}_rows)"
    else:
        select_list = ", ".join(
            f"CAST(e ->> {i} AS {KINDS[kind][0]}) AS {col}" for i, (col, kind) in enumerate(columns)
        )
        sql = f"SELECT {select_list} FROM json_array_elements(CAST(:{name}_rows AS JSON)) AS e"
    typed = [column(col, KINDS[kind][1]) for col, kind in columns]
    return text(sql).columns(*typed).cte(name)


def json_payload(rows: list[tuple], dialect: str) -> str:
    """The value of a json_table's parameter holding `rows`."""
    return json.dumps([[_json_value(v, dialect) for v in row] for row in rows], separators=(",", ":"))


def json_rows(name: str, columns: list[tuple[str, str]], rows: list[tuple], dialect: str) -> CTE:
    """A CTE `name(columns…)` holding `rows`; `columns` are (name, "int" | "instant")."""
    table = json_table(name, columns, dialect)
    return table.element.bindparams(**{f"{name}_rows": json_payload(rows, dialect)}).cte(name)
