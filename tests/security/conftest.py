"""Fixtures of the security tests: the ``fx_security`` fixture plugin in every app, and
recording HTTP servers on loopback addresses."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from helpers import FIXTURE_PLUGINS


@pytest.fixture
def runner_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    """The test config with the security fixture plugin loaded."""
    return {**runner_config, "PLUGIN_FOLDERS": [str(FIXTURE_PLUGINS / "security")]}


class RecordingServer:
    """HTTP/1.1 server on ``host`` that records every request; ``routes`` maps a path to
    ``(status, headers)`` (default: 200 with a short body). Keeps connections alive."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[tuple[str, str]] = []
        self.routes: dict[str, tuple[int, dict[str, str]]] = {}
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                recorder.requests.append((self.command, self.path))
                status, headers = recorder.routes.get(self.path.split("?", 1)[0], (200, {}))
                body = b"reached"
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str = "/") -> str:
        host = self.server.server_address[0]
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def make_server() -> Iterator[Callable[..., RecordingServer]]:
    """Start recording servers (``make_server("127.0.0.2")``); all are stopped afterwards,
    and the shared request session drops the connections it kept to them."""
    from qhana_plugin_runner.requests import REQUEST_SESSION

    servers: list[RecordingServer] = []

    def make(host: str = "127.0.0.1") -> RecordingServer:
        servers.append(RecordingServer(host))
        return servers[-1]

    yield make
    REQUEST_SESSION.close()
    for server in servers:
        server.close()
