"""The container entry point: the command each CONTAINER_MODE becomes, refusals, migrate mode."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from qhana_plugin_runner.deploy.entrypoint import command_for, env_flag
from qhana_plugin_runner.deploy.processes import GRANIAN_MODULE


def test_server_becomes_gunicorn_with_the_environment_config() -> None:
    command = command_for("server", {})
    assert command[1:] == ["-m", "gunicorn", "--config", "python:qhana_plugin_runner.deploy.gunicorn_config"]


def test_worker_settings_come_from_the_environment() -> None:
    command = command_for("worker", {"CELERY_WORKER_POOL": "prefork", "CONCURRENCY": "16", "DEFAULT_LOG_LEVEL": "debug", "QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER": "/app/instance", "PERIODIC_SCHEDULER": "True"})
    assert "--pool=prefork" in command and "--concurrency=16" in command and "--loglevel=DEBUG" in command
    assert command[-2:] == ["--beat", "--schedule=/app/instance/celerybeat-schedule"]


@pytest.mark.parametrize(("value", "expected"), [("false", False), ("False", False), ("0", False), ("", False), ("true", True), ("YES", True), ("1", True)])
def test_periodic_scheduler_is_a_real_boolean(value: str, expected: bool) -> None:
    assert env_flag({"PERIODIC_SCHEDULER": value}, "PERIODIC_SCHEDULER") is expected
    assert ("--beat" in command_for("worker", {"PERIODIC_SCHEDULER": value})) is expected


@pytest.mark.parametrize(
    ("mode", "env", "message"),
    [
        ("web", {}, "CONTAINER_MODE='web'"),
        ("worker", {"CONCURRENCY": "0"}, "CONCURRENCY='0'"),
        ("worker", {"CELERY_WORKER_POOL": "fork"}, "CELERY_WORKER_POOL='fork'"),
        ("worker", {"PERIODIC_SCHEDULER": "sometimes"}, "PERIODIC_SCHEDULER='sometimes'"),
    ],
)
def test_bad_settings_are_named(mode: str, env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        command_for(mode, env)


def _entrypoint(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("WAIT_", "GIT_PLUGINS", "CONTAINER_MODE", "SQLALCHEMY", "BROKER_URL"))}
    return subprocess.run([sys.executable, "-m", "qhana_plugin_runner.deploy", *args], env={**clean, **env}, capture_output=True, text=True, timeout=120)


def test_dry_run_prints_the_command_and_a_bad_mode_exits_2() -> None:
    done = _entrypoint("--dry-run", env={"CONTAINER_MODE": "beat"})
    assert done.returncode == 0 and "celery" in done.stdout and " beat " in done.stdout
    refused = _entrypoint("--dry-run", env={"CONTAINER_MODE": "everything"})
    assert refused.returncode == 2 and "CONTAINER_MODE='everything'" in refused.stderr


def test_waiting_gives_up_with_the_host_named(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = _entrypoint("migrate", env={"WAIT_HOSTS": f"127.0.0.1:{port}", "WAIT_TIMEOUT": "0.5", "WAIT_SLEEP_INTERVAL": "0.1", "QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER": str(tmp_path)})
    assert done.returncode == 1
    assert f"127.0.0.1:{port} did not accept connections" in done.stderr
    assert not (tmp_path / "qhana_plugin_runner.db").exists()


def test_migrate_mode_builds_the_schema(tmp_path: Path) -> None:
    done = _entrypoint("migrate", env={"QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER": str(tmp_path), "PLUGIN_FOLDERS": ""})
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "qhana_plugin_runner.db") as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"ProcessingTask", "TaskFile", "alembic_version"} <= tables


def test_server_becomes_granian_on_request() -> None:
    env = {"HTTP_SERVER": "granian", "SERVER_PORT": "9000", "GUNICORN_WORKERS": "3", "GUNICORN_THREADS": "4", "GUNICORN_ACCESS_LOG": "1"}
    command = command_for("server", env)
    assert command is not None and command[1:3] == ["-m", GRANIAN_MODULE]
    for option, value in (("--interface", "wsgi"), ("--port", "9000"), ("--host", "0.0.0.0"), ("--workers", "3"), ("--blocking-threads", "4")):
        assert command[command.index(option) + 1] == value
    assert "--access-log" in command and command[-1] == "qhana_plugin_runner:create_app"
    assert command_for("server", {"HTTP_SERVER": ""})[1:3] == ["-m", "gunicorn"]  # type: ignore[index]
    with pytest.raises(ValueError, match="HTTP_SERVER"):
        command_for("server", {"HTTP_SERVER": "waitress"})
