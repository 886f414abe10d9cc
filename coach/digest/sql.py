"""The weekly summary's own bit of SQL that SQLite and PostgreSQL spell differently (the
shared ones, epoch seconds and a table of per-user constants, are in coach/dialect.py)."""
from __future__ import annotations

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class cold_seconds(FunctionElement):
    """`details.cold_seconds` of a session when it holds a number, else NULL: a stray string
    then counts as absent instead of failing the whole batch's query."""

    type = Float()
    inherit_cache = True


@compiles(cold_seconds, "sqlite")
def _cold_sqlite(element, compiler, **kw):
    col = compiler.process(element.clauses, **kw)
    return (
        f"(CASE WHEN json_type({col}, '$.cold_seconds') IN ('integer', 'real') "
        f"THEN json_extract({col}, '$.cold_seconds') END)"
    )


@compiles(cold_seconds, "postgresql")
def _cold_pg(element, compiler, **kw):
    col = f"CAST({compiler.process(element.clauses, **kw)} AS JSON)"
    return (
        f"(CASE WHEN json_typeof({col} -> 'cold_seconds') = 'number' "
        f"THEN CAST({col} ->> 'cold_seconds' AS DOUBLE PRECISION) END)"
    )
