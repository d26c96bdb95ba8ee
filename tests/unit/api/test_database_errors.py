"""A request that cannot reach the database answers a JSON 503 with Retry-After (try again
soon), not a 500 (something is broken)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from qhana_plugin_runner.db.db import DB


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_database_unavailable_is_a_json_503(client: Any, monkeypatch: pytest.MonkeyPatch, error: type) -> None:
    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise error("SELECT", {}, Exception("connection to server at 127.0.0.1 failed: Connection refused"))

    monkeypatch.setattr(DB.session, "get", unreachable)
    monkeypatch.setattr(DB.session, "execute", unreachable)
    monkeypatch.setattr(Engine, "connect", unreachable)  # the task read (outside the session)
    response = client.get("/tasks/1/")
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert response.get_json() == {"code": 503, "status": "Service Unavailable", "message": "The database is unavailable; try again shortly."}
