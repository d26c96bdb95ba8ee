"""Fixtures of the model tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from qhana_plugin_runner.db.db import DB


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app's engine sends while the test runs (whitespace collapsed)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(DB.engine, "before_cursor_execute", record)
    yield seen
    event.remove(DB.engine, "before_cursor_execute", record)
