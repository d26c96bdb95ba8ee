# SPDX-License-Identifier: Apache-2.0
"""Database set-up. Public: ``DB`` (re-exported from :mod:`qhana_plugin_runner.db.db`)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from .db import DB, MIGRATE

__all__ = ["DB", "init_db"]

_LOG = logging.getLogger(__name__)

MIGRATIONS_FOLDER = str(Path(__file__).resolve().parent.parent / "migrations")


def init_db(app: Flask) -> None:
    """Bind DB and MIGRATE to ``app``; SQLite gets WAL, a busy timeout and foreign keys, other
    databases a liveness check of every pooled connection before it is used."""
    from . import models  # noqa: F401  (maps every model before the first query)
    from .cli import register_db_commands

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("sqlite"):
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("timeout", app.config.get("SQLITE_BUSY_TIMEOUT_MS", 30_000) / 1000)
        options["connect_args"] = connect_args
    else:
        # after a database restart every pooled connection is dead; test each one when it is
        # taken from the pool, so requests get a new one instead of an error
        options.setdefault("pool_pre_ping", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    DB.init_app(app)
    _register_session_teardown(app)
    MIGRATE.init_app(app, DB, directory=_migrations_folder(app), render_as_batch=True)
    if uri.startswith("sqlite"):
        with app.app_context():
            _configure_sqlite(DB.engine, app.config)
    register_db_commands(app)


def _register_session_teardown(app: Flask) -> None:
    """Remove the session at the end of every app context, also when its connection died.

    Flask-SQLAlchemy's own teardown rolls the session back, and a connection the database
    dropped raises even for that; from a teardown that turns an answered request into the
    server's HTML error page (and fails a task that had finished). This teardown is registered
    later, so it runs first and leaves Flask-SQLAlchemy's nothing to do.
    """

    @app.teardown_appcontext
    def _remove_session(exc: BaseException | None) -> None:
        try:
            DB.session.remove()
        except SQLAlchemyError as err:
            _LOG.warning("Database session could not be closed cleanly (%s); discarding it", err)
            DB.session.registry.clear()


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
