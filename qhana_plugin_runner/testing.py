# SPDX-License-Identifier: Apache-2.0
"""pytest plugin (entry point ``pytest11``) with fixtures for runner and plugin test suites.

Fixtures compose: ``runner_config`` → ``app`` → ``client``; ``celery_worker`` runs a real
Celery worker thread on the in-memory broker for the current app. Plugin suites override
``runner_config`` to load their plugin, e.g. ``{**runner_config, "PLUGIN_FOLDERS": [...]}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient

__all__ = ["make_test_config", "build_app"]


def make_test_config(instance_path: Path, **overrides: Any) -> dict[str, Any]:
    """A configuration for one test app: its own instance folder and SQLite file, in-memory broker.

    The database is a file (not ``sqlite://``) because worker threads use it concurrently.
    """
    config: dict[str, Any] = {
        "INSTANCE_PATH": str(instance_path),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance_path / 'test.db'}",
        "CELERY": {
            "broker_url": "memory://localhost/",
            "result_backend": "cache+memory://",
            "broker_connection_retry_on_startup": False,
        },
        "PLUGIN_FOLDERS": [],
        "PLUGIN_ENTRY_POINT_GROUP": None,
    }
    config.update(overrides)
    return config


def build_app(config: dict[str, Any], create_tables: bool = True) -> Flask:
    """``create_app(config)`` with the tables created (for SQLite in memory and fresh DBs)."""
    from . import create_app
    from .db.db import DB

    app = create_app(config, silent_log=True)
    if create_tables:
        with app.app_context():
            DB.create_all()
    return app


def dispose(app: Flask) -> None:
    """Close the app's database connections and the process's Celery connections."""
    import gc

    from kombu import pools

    from .celery import CELERY
    from .db.db import DB

    gc.collect()  # AsyncResults unsubscribe from the result backend when collected

    with app.app_context():
        DB.session.remove()
        for engine in DB.engines.values():
            engine.dispose()
    pools.reset()  # closes every pooled broker connection (the next app opens its own)
    backend = CELERY._backend_cache or getattr(CELERY._local, "backend", None)
    client = getattr(backend, "client", None)
    if client is not None and hasattr(client, "connection_pool"):
        consumer = getattr(backend, "result_consumer", None)
        if consumer is not None and getattr(consumer, "_pubsub", None) is not None:
            consumer._pubsub.close()
        client.connection_pool.disconnect()


@pytest.fixture
def runner_config(tmp_path: Path) -> dict[str, Any]:
    """The configuration the ``app`` fixture is built from (override it to change it)."""
    return make_test_config(tmp_path / "instance")


@pytest.fixture
def app(runner_config: dict[str, Any]) -> Iterator[Flask]:
    """A runner app with its tables, inside an app context."""
    application = build_app(runner_config)
    with application.app_context():
        yield application
    dispose(application)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def celery_worker(app: Flask) -> Iterator[Any]:
    """A Celery worker thread consuming the app's in-memory queue."""
    from celery.contrib.testing.worker import start_worker

    from .celery import CELERY

    with start_worker(CELERY, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker
