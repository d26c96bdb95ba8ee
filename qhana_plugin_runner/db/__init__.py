# SPDX-License-Identifier: Apache-2.0
"""Database set-up. Public: ``DB`` (re-exported from :mod:`qhana_plugin_runner.db.db`)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError

from .db import DB, MIGRATE

__all__ = ["DB", "init_db"]

_LOG = logging.getLogger(__name__)

MIGRATIONS_FOLDER = str(Path(__file__).resolve().parent.parent / "migrations")


def init_db(app: Flask) -> None:
    """Bind DB and MIGRATE to ``app``; SQLite gets WAL, a busy timeout and foreign keys, other
    databases a liveness check of a pooled connection that sat idle before it is used again."""
    from . import models  # noqa: F401  (maps every model before the first query)
    from .cli import register_db_commands

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("sqlite"):
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("timeout", app.config.get("SQLITE_BUSY_TIMEOUT_MS", 30_000) / 1000)
        options["connect_args"] = connect_args
    else:
        # the connection handed back last is taken first: a few stay in use (and skip the idle
        # test below) while the others age, instead of every checkout taking the one that
        # waited longest
        options.setdefault("pool_use_lifo", True)
        # SQLAlchemy keeps 5: with 8 request threads or 16 worker threads the rest were
        # connections opened and closed per use (a new server process each, 33 per burst of 200)
        options.setdefault("pool_size", int(app.config.get("DATABASE_POOL_SIZE", 16)))
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    DB.init_app(app)
    _register_session_teardown(app)
    MIGRATE.init_app(app, DB, directory=_migrations_folder(app), render_as_batch=True)
    if uri.startswith("sqlite"):
        with app.app_context():
            _configure_sqlite(DB.engine, app.config)
    elif "pool_pre_ping" not in options:
        with app.app_context():
            ping_idle_connections(DB.engine, float(app.config.get("DATABASE_PING_AFTER_IDLE", 1.0)))
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


_LAST_USED = "qhana_last_used"  # ConnectionPoolEntry.info key: time.monotonic() of its last check-in


def ping_idle_connections(engine: Engine, idle_seconds: float) -> None:
    """Test a pooled connection that sat unused for ``idle_seconds`` or more when it is taken
    from the pool; a dead one is replaced by a new connection instead of failing a request.

    After a database restart every pooled connection is dead. SQLAlchemy's ``pool_pre_ping``
    tests every connection on every checkout: a round trip before each request, two in each
    task. A connection handed back moments ago was alive then; testing only idle ones is the
    rule pgbouncer follows (``server_check_delay``). A restart inside that window is noticed by
    the first statement that fails: SQLAlchemy then discards every connection of the pool, and
    that one request answers 503. ``idle_seconds <= 0`` tests every checkout.
    """
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last_used = record.info.get(_LAST_USED)
        if last_used is None or time.monotonic() - last_used < idle_seconds:
            return  # new (connected just now) or handed back moments ago
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as err:
            raise DisconnectionError(f"pooled connection is dead: {err}") from err
        if not alive:
            raise DisconnectionError("pooled connection is dead")


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
