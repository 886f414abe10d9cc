"""A PostgreSQL database of one's own, made on the test server and dropped after: the test
run's, the migration check's, the crash and two-scheduler tests', the benchmarks'."""
from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


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
