"""The two bits of SQL that SQLite and PostgreSQL spell differently."""
from __future__ import annotations

from sqlalchemy import BigInteger, Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


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
