"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from coach.extensions import db
from conftest import make_app


def test_upgrade_matches_the_models_and_downgrades_cleanly(database_url, tmp_path):
    if not database_url.startswith("sqlite"):
        # The shared PostgreSQL test database already holds tables made by create_all;
        # migrate a database of our own instead.
        import uuid

        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        name = f"coach_mig_{uuid.uuid4().hex[:8]}"
        admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    else:
        admin, name, url = None, None, database_url
    try:
        app = make_app(url, tmp_path)
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
            assert diff == [], f"models and migrations differ: {diff}"
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            db.engine.dispose()
    finally:
        if admin is not None:
            from sqlalchemy import text

            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
