# SPDX-License-Identifier: Apache-2.0
"""The invoke tasks in ``tasks.py``, run as ``python -m invoke ...`` from the project root.

Commands the tasks replace themselves with (``celery``) are fakes on PATH that print their
arguments; the broker tasks start a real ``redis-server`` on a free port when one is installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from invoke import Context

from helpers import ROOT

TASKS = [
    "worker", "celery-status", "run", "start-gunicorn", "start-broker", "stop-broker",
    "reset-broker", "doc", "browse-doc", "update-dependencies", "list-licenses",
]  # fmt: skip


def invoke(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def tasks_module() -> ModuleType:
    """``tasks.py`` imported in this process (its .flaskenv/.env values do not leak out)."""
    spec = importlib.util.spec_from_file_location("runner_invoke_tasks", ROOT / "tasks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    with mock.patch.dict(os.environ):
        spec.loader.exec_module(module)
    return module


def test_every_task_is_listed() -> None:
    result = invoke("--list")
    assert result.returncode == 0, result.stderr
    listed = {
        line.split()[0]
        for line in result.stdout.splitlines()[1:]
        if line.startswith("  ") and line.split()
    }
    assert set(TASKS) <= listed


@pytest.fixture
def fake_celery(tmp_path: Path) -> dict[str, str]:
    """Environment with a ``celery`` first on PATH that prints its arguments as JSON."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "celery"
    script.write_text(
        f"#!{sys.executable}\nimport json, sys\nprint('ARGS=' + json.dumps(sys.argv[1:]))\n"
    )
    script.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "CELERY_QUEUE": ""}


def _worker_args(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("ARGS="))
    return list(json.loads(line[5:]))


@pytest.mark.parametrize(
    ("value", "beat"),
    [("false", False), ("False", False), ("0", False), ("no", False), ("off", False), ("", False),
     ("true", True), ("1", True), ("YES", True), ("on", True)],
)  # fmt: skip
def test_periodic_scheduler_env_is_a_real_boolean(
    fake_celery: dict[str, str], value: str, beat: bool
) -> None:
    args = _worker_args(invoke("worker", env={**fake_celery, "PERIODIC_SCHEDULER": value}))
    assert args[:4] == [
        "--app",
        "qhana_plugin_runner.celery_worker:CELERY",
        "worker",
        "--pool=threads",
    ]
    assert ("-B" in args) is beat


def test_periodic_scheduler_flag_and_bad_env_value(fake_celery: dict[str, str]) -> None:
    flag = invoke(
        "worker", "--periodic-scheduler", env={**fake_celery, "PERIODIC_SCHEDULER": "false"}
    )
    assert "-B" in _worker_args(flag)
    bad = invoke("worker", env={**fake_celery, "PERIODIC_SCHEDULER": "maybe"})
    assert bad.returncode == 2
    assert "PERIODIC_SCHEDULER='maybe' is not a boolean" in bad.stderr + bad.stdout


def test_start_gunicorn_command(tasks_module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(tasks_module.os, "execvp", lambda file, args: calls.append(args))
    for name in ("GUNICORN_WORKERS", "GUNICORN_THREADS", "SERVER_PORT"):
        monkeypatch.delenv(name, raising=False)
    context = tasks_module.Context()
    tasks_module.start_gunicorn(context)
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    monkeypatch.setenv("SERVER_PORT", "9000")
    tasks_module.start_gunicorn(context, threads=4, log_level="DEBUG")
    default, configured = (" ".join(args) for args in calls)
    assert (
        "-m gunicorn --worker-class gthread -w 2 --threads 8 -b 0.0.0.0:8080 --log-level info"
        in default
    )
    assert "-w 3 --threads 4 -b 0.0.0.0:9000 --log-level debug" in configured
    assert calls[0][-1] == "qhana_plugin_runner:create_app()"


def test_env_bool_and_env_int(tasks_module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FX_FLAG", raising=False)
    assert tasks_module.env_bool("FX_FLAG", default=True) is True
    monkeypatch.setenv("FX_FLAG", "false")
    assert tasks_module.env_bool("FX_FLAG", default=True) is False
    monkeypatch.setenv("FX_NUMBER", "x")
    with pytest.raises(tasks_module.Exit, match="FX_NUMBER='x' is not an integer"):
        tasks_module.env_int("FX_NUMBER", 1)


def test_list_licenses_json(tmp_path: Path) -> None:
    target = tmp_path / "licenses.json"
    result = invoke("list-licenses", "--format", "json", "--output", str(target))
    assert result.returncode == 0, result.stderr
    entries = json.loads(target.read_text())
    assert any(e["name"] == "Flask" and e["license"] == "BSD-3-Clause" for e in entries)
    assert all(set(e) == {"name", "version", "license", "homePage"} for e in entries)
    assert not any(e["name"] == "qhana-plugin-runner" for e in entries)
    assert invoke("list-licenses", "--format", "xml").returncode == 2


@pytest.fixture
def broker_env(tmp_path: Path) -> dict[str, str]:
    return {
        "QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER": str(tmp_path / "instance"),
        "REDIS_CONTAINER_ID": "",
    }


def test_start_broker_leaves_a_busy_port_alone(broker_env: dict[str, str], tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = invoke("start-broker", "--port", str(port), env=broker_env)
    assert result.returncode == 0, result.stderr
    assert f"something already answers on port {port}" in result.stdout
    assert not (tmp_path / "instance" / "redis").exists()


@pytest.fixture
def redis_port(broker_env: dict[str, str], tmp_path: Path) -> Iterator[int]:
    """A free port; a redis-server left running on it by a failed test is stopped afterwards."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    port = free_port()
    yield port
    pidfile = tmp_path / "instance" / "redis" / f"redis-{port}.pid"
    if pidfile.is_file() and answers(port):
        os.kill(int(pidfile.read_text()), signal.SIGTERM)


def test_start_and_stop_a_local_redis(
    broker_env: dict[str, str], redis_port: int, tmp_path: Path
) -> None:
    folder = tmp_path / "instance" / "redis"
    started = invoke("start-broker", "--port", str(redis_port), env=broker_env)
    assert started.returncode == 0, started.stderr
    assert answers(redis_port)
    assert (folder / f"redis-{redis_port}.pid").is_file()
    assert f"BROKER_URL=redis://localhost:{redis_port}" in started.stdout

    again = invoke("start-broker", env={**broker_env, "REDIS_PORT": str(redis_port)})
    assert "already answers" in again.stdout

    stopped = invoke("stop-broker", "--port", str(redis_port), env=broker_env)
    assert stopped.returncode == 0, stopped.stderr
    assert not answers(redis_port)
    assert not (folder / f"redis-{redis_port}.pid").exists()
    assert (
        "no broker started"
        in invoke("stop-broker", "--port", str(redis_port), env=broker_env).stdout
    )


def test_reset_broker_removes_its_files(
    broker_env: dict[str, str], redis_port: int, tmp_path: Path
) -> None:
    assert invoke("start-broker", "--port", str(redis_port), env=broker_env).returncode == 0
    reset = invoke("reset-broker", "--port", str(redis_port), env=broker_env)
    assert reset.returncode == 0, reset.stderr
    assert not answers(redis_port)
    assert list((tmp_path / "instance" / "redis").iterdir()) == []


class RecordingContext(Context):
    """An invoke Context that records commands instead of running them (invoke's in-process
    runner leaves pipes open, which this suite's warning filter turns into errors)."""

    def __init__(self) -> None:
        super().__init__()
        self.commands: list[str] = []

    def run(self, command: str, **kwargs: Any) -> SimpleNamespace:
        self.commands.append(command)
        return SimpleNamespace(stdout="cid123\n" if " run " in command else "")


def test_broker_in_a_container_when_redis_server_is_missing(
    tasks_module: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("OTHER=1\n")
    monkeypatch.setattr(tasks_module, "ENV_FILE", env_file)
    monkeypatch.setattr(tasks_module.shutil, "which", lambda name: None)
    monkeypatch.setenv("DOCKER_CMD", "podman")
    monkeypatch.setenv("REDIS_CONTAINER_ID", "")
    monkeypatch.setenv("QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER", str(tmp_path / "instance"))
    running = {"yes": False}
    monkeypatch.setattr(tasks_module, "port_answers", lambda port, timeout=0.5: running["yes"])
    monkeypatch.setattr(
        tasks_module, "_wait", lambda condition, seconds=10: running.update(yes=True) or True
    )
    context = RecordingContext()

    tasks_module.start_broker(context, port=7001)
    assert env_file.read_text() == "OTHER=1\nREDIS_CONTAINER_ID=cid123\n"
    running["yes"] = False
    tasks_module.start_broker(context, port=7001)  # the id is saved: that container is restarted
    tasks_module.stop_broker(context, port=7001)
    tasks_module.reset_broker(context, port=7001)
    assert context.commands == [
        "podman run -d -p 127.0.0.1:7001:6379 redis:latest",
        "podman restart cid123",
        "podman stop cid123",
        "podman stop cid123",
        "podman rm cid123",
    ]
    assert env_file.read_text() == "OTHER=1\n"
    assert not os.environ.get("REDIS_CONTAINER_ID")


def test_start_gunicorn_resolves_auto(tasks_module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    from qhana_plugin_runner.deploy.processes import usable_cpus

    calls: list[list[str]] = []
    monkeypatch.setattr(tasks_module.os, "execvp", lambda file, args: calls.append(args))
    monkeypatch.setenv("GUNICORN_WORKERS", "auto")
    tasks_module.start_gunicorn(tasks_module.Context())
    assert calls[0][calls[0].index("-w") + 1] == str(max(1, usable_cpus() // 2))
    monkeypatch.setenv("GUNICORN_WORKERS", "lots")
    with pytest.raises(tasks_module.Exit, match="GUNICORN_WORKERS='lots'"):
        tasks_module.start_gunicorn(tasks_module.Context())
