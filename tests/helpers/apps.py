"""Apps from the factory with the tests' configuration, and their databases made ready and
emptied again."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import text

from coach import create_app
from coach.extensions import db


def make_app(database_url: str, tmp_path, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "RATELIMIT_ENABLED": False,
        "COACH_PUBLIC_URL": "https://coach.example",
    }
    config.update(overrides)
    return create_app(config)


def empty_tables() -> None:
    """Delete every row of the app's database (in the app context), identities restarting as
    in a new database."""
    db.session.remove()
    if db.engine.dialect.name == "sqlite":
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
            # Tables declared AUTOINCREMENT keep their counter here; without it SQLite starts
            # again from the highest rowid, which is none.
            if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")).first():
                conn.execute(text("DELETE FROM sqlite_sequence"))
        return
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@contextmanager
def app_with_db(database_url: str, tmp_path, **overrides):
    """An app whose schema is ready, inside its app context; PostgreSQL tables are emptied after."""
    app = make_app(database_url, tmp_path, **overrides)
    with app.app_context():
        if database_url.startswith("sqlite"):
            db.create_all()
        try:
            yield app
        finally:
            db.session.remove()
            if not database_url.startswith("sqlite"):
                empty_tables()
            db.engine.dispose()
