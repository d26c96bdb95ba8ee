# SPDX-License-Identifier: Apache-2.0
"""pytest plugin (entry point ``pytest11``) with fixtures for runner and plugin test suites.

Fixtures compose: ``runner_config`` → ``app`` → ``client``; ``celery_worker`` runs a real
Celery worker thread on the in-memory broker for the current app. ``runner_server`` and
``runner_url`` serve the app over real HTTP on 127.0.0.1 (for plugins that call each other);
put ``"SERVER_NAME": f"127.0.0.1:{runner_server.server_port}"`` into ``runner_config`` so the
URLs the runner builds point at that server. Plugin suites override
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
            "broker_transport_options": {"polling_interval": 0.01},
            "result_backend": "cache+memory://",
            "broker_connection_retry_on_startup": False,
        },
        "PLUGIN_FOLDERS": [],
        "PLUGIN_ENTRY_POINT_GROUP": None,
    }
    config.update(overrides)
    return config


def build_app(config: dict[str, Any], create_tables: bool = True) -> Flask:
    """``create_app(config)`` with the tables created, and a test client that sees fresh rows."""
    from . import create_app
    from .db.db import DB

    app = create_app(config, silent_log=True)
    app.test_client_class = _fresh_session_client_class()
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


def _fresh_session_client_class() -> type[FlaskClient]:
    from flask import has_app_context
    from flask.testing import FlaskClient

    from .db.db import DB

    class FreshSessionClient(FlaskClient):
        """Test client whose every request sees the database as it is now.

        Requests made while the ``app`` fixture's app context is pushed share that context and
        its session, unlike a served request, which gets a new one. Expiring the session's
        objects first keeps a request from answering with rows the worker has since changed.
        """

        def open(self, *args: Any, **kwargs: Any) -> Any:
            if has_app_context() and DB.session.registry.has():
                DB.session.expire_all()
            return super().open(*args, **kwargs)

    return FreshSessionClient


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client; each request sees the current database state (see FreshSessionClient)."""
    return app.test_client()


@pytest.fixture
def celery_worker(app: Flask) -> Iterator[Any]:
    """A Celery worker thread consuming the app's in-memory queue."""
    from celery.contrib.testing.worker import start_worker

    from .celery import CELERY

    with start_worker(CELERY, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker


class _LateApp:
    """WSGI app forwarding to the runner app, which is built after the socket is bound."""

    app: Flask | None = None

    def __call__(self, environ: Any, start_response: Any) -> Any:
        assert self.app is not None, "runner_url binds the app; use it, not runner_server alone"
        return self.app(environ, start_response)


@pytest.fixture
def runner_server() -> Iterator[Any]:
    """A bound (not yet serving) HTTP server on 127.0.0.1; its port is known before the app."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002
            pass

    server = make_server("127.0.0.1", 0, _LateApp(), threaded=True, request_handler=QuietHandler)
    yield server
    server.server_close()


@pytest.fixture
def runner_url(app: Flask, runner_server: Any) -> Iterator[str]:
    """Base URL of the test app, served over real HTTP by ``runner_server``."""
    import threading

    from .requests import REQUEST_SESSION

    runner_server.app.app = app
    thread = threading.Thread(target=runner_server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{runner_server.server_port}"
    runner_server.shutdown()
    thread.join(5)
    REQUEST_SESSION.close()  # drop the keep-alive connections pooled for this server
