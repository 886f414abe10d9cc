"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from coach.extensions import db
from tests.helpers.apps import make_app
from tests.helpers.pg import private_database


def test_upgrade_matches_the_models_and_downgrades_cleanly(database_url, tmp_path):
    if not database_url.startswith("sqlite"):
        # The shared PostgreSQL test database already holds tables made by create_all;
        # migrate a database of our own instead.
        url, drop = private_database(database_url, "coach_mig")
    else:
        url, drop = database_url, None
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
        if drop is not None:
            drop()
