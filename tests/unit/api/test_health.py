"""``/health`` and ``/ready``: liveness without dependencies, readiness naming what fails."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from qhana_plugin_runner.testing import build_app, dispose, make_test_config


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_health_answers_without_touching_anything(client: Any) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_ready_with_database_and_memory_broker(client: Any) -> None:
    response = client.get("/ready")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker"}
    assert all(check["ok"] and check["latencyMs"] >= 0 for check in body["checks"].values())


def _ready(config: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    app = build_app(config, create_tables=False)
    try:
        response = app.test_client().get("/ready")
        return response.status_code, response.get_json()
    finally:
        dispose(app)


def test_ready_names_an_unreachable_database(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/none?connect_timeout=2"
    status, body = _ready(make_test_config(tmp_path, SQLALCHEMY_DATABASE_URI=url))
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is False
    assert "OperationalError" in body["checks"]["database"]["error"]
    assert body["checks"]["broker"]["ok"] is True


def test_ready_names_an_unreachable_broker(tmp_path: Path) -> None:
    config = make_test_config(tmp_path)
    config["CELERY"] = {**config["CELERY"], "broker_url": f"redis://127.0.0.1:{_closed_port()}/0", "broker_connection_timeout": 1}
    status, body = _ready(config)
    assert status == 503
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.redis
def test_ready_with_a_real_redis_broker(tmp_path: Path, redis_url: str) -> None:
    config = make_test_config(tmp_path)
    config["CELERY"] = {**config["CELERY"], "broker_url": redis_url}
    status, body = _ready(config)
    assert status == 200, body
    assert body["checks"]["broker"]["ok"] is True


def test_ready_with_the_embedded_filesystem_broker(tmp_path: Path) -> None:
    config = make_test_config(tmp_path)
    config["CELERY"] = {}
    status, body = _ready(config)
    assert status == 200, body
