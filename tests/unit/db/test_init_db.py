"""Database set-up: pooled connections of a server database are checked before use, SQLite stays
as it is, and a session whose connection died is discarded without turning the answer into an
error page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.exc import OperationalError

from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.db.models.tasks import ProcessingTask
from qhana_plugin_runner.testing import build_app, dispose, make_test_config


def test_server_databases_check_pooled_connections_before_use(tmp_path: Path) -> None:
    config = make_test_config(tmp_path / "instance", SQLALCHEMY_DATABASE_URI="postgresql://nobody@127.0.0.1:1/none")
    app = build_app(config, create_tables=False)  # nothing connects yet
    try:
        with app.app_context():
            assert DB.engine.pool._pre_ping is True
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
