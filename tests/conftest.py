# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures. The runner fixtures (``app``, ``client``, ``celery_worker``) come from the
``qhana_plugin_runner.testing`` pytest plugin; this file adds the external services.

PostgreSQL and Redis are used over real connections. Where one is missing its tests skip with
the reason, except under CI (``CI`` set), where a missing service fails the run.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from helpers import ROOT

POSTGRES_URL = os.environ.get("QHANA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("QHANA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, url: str) -> None:
    """Skip (or, under CI, fail) when the service behind ``url`` does not answer."""
    if _reachable(url):
        return
    message = f"{name} is not reachable at {url}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI needs every service)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of its own for this test run, created on the server of
    ``QHANA_TEST_POSTGRES_URL`` and dropped afterwards (so parallel runs do not collide)."""
    require_service("PostgreSQL", POSTGRES_URL)
    import sqlalchemy as sa

    base = sa.engine.make_url(POSTGRES_URL)
    name = f"qhana_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_database: str) -> Iterator[str]:
    """URL of a clean PostgreSQL database (every table dropped before the test)."""
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_database)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    yield postgres_database


@pytest.fixture
def redis_url() -> str:
    require_service("Redis", REDIS_URL)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    return REDIS_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each database test runs on SQLite (a file, WAL) and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runner.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def demo_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    """Test config with the bundled demo plugins loaded."""
    return {**runner_config, "PLUGIN_FOLDERS": [str(ROOT / "plugins")]}
