"""Database set-up: pooled connections of a server database that sat idle are checked before use, SQLite stays
as it is, and a session whose connection died is discarded without turning the answer into an
error page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.db.models.tasks import ProcessingTask
from qhana_plugin_runner.testing import build_app, dispose, make_test_config


def _backend_pid(connection: Any) -> int:
    return int(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(postgres_url: str, pid: int) -> None:
    other = sa.create_engine(postgres_url, poolclass=NullPool)
    with other.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    other.dispose()


@pytest.fixture
def idle_pinged_app(tmp_path: Path, postgres_url: str) -> Iterator[Flask]:
    """An app on PostgreSQL whose pool tests connections idle for 0.3 s or more."""
    app = build_app(make_test_config(tmp_path / "instance", SQLALCHEMY_DATABASE_URI=postgres_url, DATABASE_PING_AFTER_IDLE=0.3), create_tables=False)
    try:
        yield app
    finally:
        dispose(app)


def test_server_databases_test_idle_connections_only(idle_pinged_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    with idle_pinged_app.app_context():
        engine = DB.engine
        assert engine.pool._pre_ping is False  # SQLAlchemy's test of every checkout is not used
        pings: list[Any] = []
        real_ping = engine.dialect.do_ping
        monkeypatch.setattr(engine.dialect, "do_ping", lambda dbapi_connection: pings.append(dbapi_connection) or real_ping(dbapi_connection))
        with engine.connect() as conn:
            first = _backend_pid(conn)
        with engine.connect() as conn:  # handed back just now: used without a test
            assert _backend_pid(conn) == first
        assert pings == []
        time.sleep(0.4)
        with engine.connect() as conn:  # idle for longer: tested, then used
            assert _backend_pid(conn) == first
        assert len(pings) == 1


def test_the_connection_handed_back_last_is_taken_first(idle_pinged_app: Flask) -> None:
    with idle_pinged_app.app_context():
        engine = DB.engine
        first, second = engine.connect(), engine.connect()
        pids = [_backend_pid(first), _backend_pid(second)]
        first.close()
        second.close()  # handed back last
        for _ in range(3):  # a busy pool keeps using the same one (FIFO would alternate)
            with engine.connect() as conn:
                assert _backend_pid(conn) == pids[1]


def test_a_dead_idle_connection_is_replaced_before_use(idle_pinged_app: Flask, postgres_url: str) -> None:
    with idle_pinged_app.app_context():
        engine = DB.engine
        with engine.connect() as conn:
            first = _backend_pid(conn)
        _terminate(postgres_url, first)  # what a database restart does to the pool
        time.sleep(0.4)
        with engine.connect() as conn:  # no error: the test found it dead and connected anew
            assert _backend_pid(conn) != first


def test_a_restart_inside_the_window_fails_one_use_and_clears_the_pool(idle_pinged_app: Flask, postgres_url: str) -> None:
    with idle_pinged_app.app_context():
        engine = DB.engine
        with engine.connect() as a, engine.connect() as b:
            pids = {_backend_pid(a), _backend_pid(b)}
        for pid in pids:
            _terminate(postgres_url, pid)
        with pytest.raises(OperationalError), engine.connect() as conn:
            _backend_pid(conn)
        # the failure discarded every pooled connection, the other dead one included
        for _ in range(2):
            with engine.connect() as conn:
                assert _backend_pid(conn) not in pids


def test_ping_after_idle_zero_tests_every_checkout(tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = build_app(make_test_config(tmp_path / "instance", SQLALCHEMY_DATABASE_URI=postgres_url, DATABASE_PING_AFTER_IDLE=0), create_tables=False)
    try:
        with app.app_context():
            engine = DB.engine
            pings: list[Any] = []
            real_ping = engine.dialect.do_ping
            monkeypatch.setattr(engine.dialect, "do_ping", lambda dbapi_connection: pings.append(dbapi_connection) or real_ping(dbapi_connection))
            for _ in range(3):
                with engine.connect() as conn:
                    _backend_pid(conn)
            assert len(pings) == 2  # every checkout but the first, which connected just then
    finally:
        dispose(app)


def test_the_pool_keeps_a_connection_per_thread(tmp_path: Path, postgres_url: str) -> None:
    """16 connections in use at once (a worker's 16 threads) stay open when handed back: the
    next 16 checkouts reuse them instead of starting new database server processes."""
    app = build_app(make_test_config(tmp_path / "instance", SQLALCHEMY_DATABASE_URI=postgres_url), create_tables=False)
    try:
        with app.app_context():
            engine = DB.engine

            def backends_at_once() -> set[int]:
                connections = [engine.connect() for _ in range(16)]
                try:
                    return {_backend_pid(conn) for conn in connections}
                finally:
                    for conn in connections:
                        conn.close()

            first = backends_at_once()
            assert len(first) == 16
            assert backends_at_once() == first
            assert engine.pool.size() == 16
    finally:
        dispose(app)


def test_pool_size_setting(tmp_path: Path) -> None:
    config = make_test_config(tmp_path / "instance", SQLALCHEMY_DATABASE_URI="postgresql://nobody@127.0.0.1:1/none", DATABASE_POOL_SIZE=24)
    app = build_app(config, create_tables=False)
    try:
        with app.app_context():
            assert DB.engine.pool.size() == 24
    finally:
        dispose(app)


def test_explicit_engine_options_win(tmp_path: Path) -> None:
    config = make_test_config(tmp_path / "instance", SQLALCHEMY_DATABASE_URI="postgresql://nobody@127.0.0.1:1/none", SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": False, "pool_size": 3})
    app = build_app(config, create_tables=False)
    try:
        with app.app_context():
            assert DB.engine.pool._pre_ping is False and DB.engine.pool.size() == 3
    finally:
        dispose(app)


def test_sqlite_does_without_the_check(app: Flask) -> None:
    assert DB.engine.pool._pre_ping is False
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["timeout"] == 30


def test_a_session_that_cannot_close_is_discarded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # no app context pushed around the requests: each gets its own, as served requests do
    app = build_app(make_test_config(tmp_path / "instance"))
    closes: list[Any] = []

    def dead_connection_close(session: Any) -> None:
        closes.append(session)
        if len(closes) == 1:
            raise OperationalError("ROLLBACK", {}, Exception("server closed the connection unexpectedly"))
        real_close(session)

    try:
        with app.app_context():
            session_class = type(DB.session())
            task = ProcessingTask("pending")
            task.save(commit=True)
            task_url = f"/tasks/{task.id}/"
        real_close = session_class.close
        monkeypatch.setattr(session_class, "close", dead_connection_close)
        client = app.test_client()
        # unsubscribing loads the task through the session (GET reads it outside one)
        unsubscribe = {"command": "unsubscribe", "webhookHref": "http://example.com/hook"}
        response = client.post(task_url, json=unsubscribe)
        assert response.status_code == 200 and response.get_json()["status"] == "PENDING"
        assert closes, "the request used a session"
        assert client.post(task_url, json=unsubscribe).status_code == 200, "the next request gets a new session"
        assert len(closes) >= 2
    finally:
        monkeypatch.undo()
        dispose(app)
