"""PostgreSQL for the tests and benchmarks: the test server's URL (COACH_TEST_POSTGRES_URL,
unset: the PostgreSQL runs are skipped) and a database of one's own, made on that server and
dropped after: the test run's, the migration check's, the crash and two-scheduler tests',
the benchmarks'."""
from __future__ import annotations

import os
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("COACH_TEST_POSTGRES_URL")
PG_SKIP_REASON = "COACH_TEST_POSTGRES_URL is not set: the PostgreSQL runs are skipped"


def private_database(server_url: str, prefix: str) -> tuple[str, Callable[[], None]]:
    """(url, drop) of a new, empty database `<prefix>_<random>` on `server_url`'s server."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(server_url).set(database=name).render_as_string(hide_password=False), drop


def private_postgres_database(prefix: str = "coach_crash") -> tuple[str, Callable[[], None]]:
    """(url, drop) for a database of this test's own; skips without PostgreSQL."""
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    return private_database(PG_URL, prefix)
