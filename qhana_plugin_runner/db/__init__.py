# SPDX-License-Identifier: Apache-2.0
"""Database set-up. Public: ``DB`` (re-exported from :mod:`qhana_plugin_runner.db.db`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .db import DB, MIGRATE

__all__ = ["DB", "init_db"]

MIGRATIONS_FOLDER = str(Path(__file__).resolve().parent.parent / "migrations")


def init_db(app: Flask) -> None:
    """Bind DB and MIGRATE to ``app``; SQLite gets WAL, a busy timeout and foreign keys."""
    from . import models  # noqa: F401  (maps every model before the first query)
    from .cli import register_db_commands

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("timeout", app.config.get("SQLITE_BUSY_TIMEOUT_MS", 30_000) / 1000)
        options["connect_args"] = connect_args
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    DB.init_app(app)
    MIGRATE.init_app(app, DB, directory=_migrations_folder(app), render_as_batch=True)
    if uri.startswith("sqlite"):
        with app.app_context():
            _configure_sqlite(DB.engine, app.config)
    register_db_commands(app)


def _migrations_folder(app: Flask) -> str:
    configured = app.config.get("MIGRATIONS_FOLDER")
    return str(configured) if configured else MIGRATIONS_FOLDER


def _configure_sqlite(engine: Engine, config: Any) -> None:
    foreign_keys = bool(config.get("SQLITE_FOREIGN_KEYS", True))
    in_memory = engine.url.database in (None, "", ":memory:")
    busy_ms = int(config.get("SQLITE_BUSY_TIMEOUT_MS", 30_000))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        if foreign_keys:
            cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
