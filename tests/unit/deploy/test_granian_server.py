"""granian served from its main process when it runs one worker (deploy/granian_server.py): one
interpreter answers, SIGTERM drains the request in flight and exits 0, an app that cannot load
exits 1; with two workers, or an option only the supervisor serves, granian runs as before."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from qhana_plugin_runner.deploy.entrypoint import command_for
from qhana_plugin_runner.deploy.processes import GRANIAN_MODULE

APP_MODULE = '''
import os, time

def make_app():
    def app(environ, start_response):
        if environ["PATH_INFO"] == "/slow":
            time.sleep(1.0)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(os.getpid()).encode()]
    return app

def broken_app():
    raise RuntimeError("this app cannot be built")
'''


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _get(url: str, timeout: float = 10.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        assert response.status == 200
        return response.read().decode()


def _wait_answering(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited with {process.returncode}"
        try:
            return _get(url, timeout=2)
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def _server(tmp_path: Path, workers: int, target: str = "granian_test_app:make_app", extra: tuple[str, ...] = ()) -> subprocess.Popen[bytes]:
    (tmp_path / "granian_test_app.py").write_text(APP_MODULE)
    port = _free_port()
    command = [
        sys.executable, "-m", GRANIAN_MODULE, "--interface", "wsgi", "--factory", "--http", "1", "--no-ws",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--blocking-threads", "2",
        "--log-level", "info", "--respawn-failed-workers", "--workers-kill-timeout", "30", *extra, target,
    ]
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    with (tmp_path / "server.log").open("ab") as log:
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    process.port = port  # type: ignore[attr-defined]
    return process


def _log(tmp_path: Path) -> str:
    return (tmp_path / "server.log").read_text()


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_one_worker_is_served_from_the_main_process(tmp_path: Path, started: list[subprocess.Popen[bytes]]) -> None:
    server = _server(tmp_path, workers=1)
    started.append(server)
    answered_by = _wait_answering(f"http://127.0.0.1:{server.port}/", server)  # type: ignore[attr-defined]
    assert int(answered_by) == server.pid
    assert _children(server.pid) == []
    server.send_signal(signal.SIGTERM)
    assert server.wait(15) == 0
    assert "Serving from the main process" in _log(tmp_path)


def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path, started: list[subprocess.Popen[bytes]]) -> None:
    server = _server(tmp_path, workers=1)
    started.append(server)
    base = f"http://127.0.0.1:{server.port}"  # type: ignore[attr-defined]
    _wait_answering(base + "/", server)
    answers: list[str] = []
    slow = threading.Thread(target=lambda: answers.append(_get(base + "/slow")))
    slow.start()
    time.sleep(0.3)  # the slow request is being served
    server.send_signal(signal.SIGTERM)
    slow.join(15)
    assert answers == [str(server.pid)]
    assert server.wait(15) == 0


def test_an_app_that_cannot_be_built_exits_with_1(tmp_path: Path, started: list[subprocess.Popen[bytes]]) -> None:
    server = _server(tmp_path, workers=1, target="granian_test_app:broken_app")
    started.append(server)
    assert server.wait(30) == 1
    assert "this app cannot be built" in _log(tmp_path)


@pytest.mark.parametrize(("workers", "extra"), [(2, ()), (1, ("--workers-max-rss", "512"))], ids=["two workers", "a memory limit"])
def test_granians_supervisor_stays_where_it_is_needed(tmp_path: Path, started: list[subprocess.Popen[bytes]], workers: int, extra: tuple[str, ...]) -> None:
    server = _server(tmp_path, workers=workers, extra=extra)
    started.append(server)
    answered_by = _wait_answering(f"http://127.0.0.1:{server.port}/", server)  # type: ignore[attr-defined]
    assert int(answered_by) != server.pid
    assert int(answered_by) in _children(server.pid)
    server.send_signal(signal.SIGTERM)
    assert server.wait(30) == 0


def test_the_entry_point_serves_the_runner_from_one_process(tmp_path: Path, started: list[subprocess.Popen[bytes]]) -> None:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SQLALCHEMY_", "BROKER_URL", "QHANA_PLUGIN_RUNNER_"))},
        "HTTP_SERVER": "granian", "GUNICORN_WORKERS": "1", "SERVER_HOST": "127.0.0.1", "SERVER_PORT": str(port),
        "QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER": str(tmp_path / "instance"), "DEFAULT_LOG_LEVEL": "WARNING",
    }
    command = command_for("server", env)
    assert command is not None and command[1:3] == ["-m", GRANIAN_MODULE]
    server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started.append(server)
    assert '"plugins"' in _wait_answering(f"http://127.0.0.1:{port}/plugins/", server, timeout=60)
    assert _children(server.pid) == []
    server.send_signal(signal.SIGTERM)
    assert server.wait(30) == 0
