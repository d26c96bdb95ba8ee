"""The Alembic migrations build the schema the models describe, from an empty database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flask_migrate
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.testing import build_app, dispose, make_test_config


def _schema_diff(app: Any) -> list[Any]:
    with DB.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, DB.metadata)


def test_upgrade_from_empty_matches_the_models(database_url: str, tmp_path: Path) -> None:
    app = build_app(make_test_config(tmp_path / "instance", SQLALCHEMY_DATABASE_URI=database_url), create_tables=False)
    try:
        with app.app_context():
            flask_migrate.upgrade()
            tables = set(sa.inspect(DB.engine).get_table_names())
            assert {"ProcessingTask", "Step", "TaskFile", "TaskLink", "TaskUpdateSubscription", "VirtualPlugin", "PluginState", "DataBlob", "alembic_version"} <= tables
            assert _schema_diff(app) == []
            flask_migrate.downgrade(revision="base")
            assert set(sa.inspect(DB.engine).get_table_names()) <= {"alembic_version"}
    finally:
        dispose(app)


def test_create_and_drop_db_commands(tmp_path: Path) -> None:
    app = build_app(make_test_config(tmp_path / "instance"), create_tables=False)
    try:
        runner = app.test_cli_runner()
        result = runner.invoke(args=["create-db"])
        assert result.exit_code == 0 and "created" in result.output
        with app.app_context():
            assert "ProcessingTask" in sa.inspect(DB.engine).get_table_names()
        result = runner.invoke(args=["drop-db"])
        assert result.exit_code == 0
        with app.app_context():
            assert "ProcessingTask" not in sa.inspect(DB.engine).get_table_names()
    finally:
        dispose(app)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    app = build_app(make_test_config(tmp_path / "instance"))
    try:
        with app.app_context(), DB.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        dispose(app)
