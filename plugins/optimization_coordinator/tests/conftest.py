"""The runner served over real HTTP on 127.0.0.1 (the minimizer calls the objective's links)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from helpers import ROOT


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002
        pass


class _LateApp:
    """Forwards to the runner app, which is built after the socket is bound (SERVER_NAME)."""

    app: Flask | None = None

    def __call__(self, environ: Any, start_response: Any) -> Any:
        assert self.app is not None
        return self.app(environ, start_response)


@pytest.fixture
def runner_server() -> Iterator[BaseWSGIServer]:
    server = make_server("127.0.0.1", 0, _LateApp(), threaded=True, request_handler=_QuietHandler)
    yield server
    server.server_close()


@pytest.fixture
def runner_config(runner_config: dict[str, Any], runner_server: BaseWSGIServer) -> dict[str, Any]:
    return {
        **runner_config,
        "PLUGIN_FOLDERS": [str(ROOT / "plugins")],
        "SERVER_NAME": f"127.0.0.1:{runner_server.server_port}",
        "WEBHOOK_RETRY_BACKOFF": 0.05,
    }


@pytest.fixture
def runner_url(app: Flask, runner_server: BaseWSGIServer) -> Iterator[str]:
    from qhana_plugin_runner.requests import REQUEST_SESSION

    runner_server.app.app = app  # type: ignore[attr-defined]
    thread = threading.Thread(
        target=runner_server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{runner_server.server_port}"
    runner_server.shutdown()
    thread.join(5)
    REQUEST_SESSION.close()
