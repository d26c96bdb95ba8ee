"""The embedded mode's API command: granian by default (HTTP in Rust threads, one process),
gunicorn's gthread worker on request; both serve ``create_app`` with the given threads."""

from __future__ import annotations

import sys

import pytest

from qhana_plugin_runner.cli.embedded import _parse, api_command
from qhana_plugin_runner.deploy.processes import GRANIAN_MODULE


def test_granian_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QHANA_HTTP_SERVER", raising=False)
    assert _parse([]).server == "granian"
    monkeypatch.setenv("QHANA_HTTP_SERVER", "gunicorn")
    assert _parse([]).server == "gunicorn"
    assert _parse(["--server", "granian"]).server == "granian"


def test_granian_command() -> None:
    command = api_command("granian", "127.0.0.1", 5005, 8, "INFO")
    assert command[:3] == [sys.executable, "-m", GRANIAN_MODULE]
    assert command[-1] == "qhana_plugin_runner:create_app"
    for option, value in (("--interface", "wsgi"), ("--workers", "1"), ("--blocking-threads", "8"), ("--port", "5005"), ("--log-level", "info"), ("--http", "1")):
        assert command[command.index(option) + 1] == value
    assert "--factory" in command and "--access-log" in command
    assert "--access-log" not in api_command("granian", "127.0.0.1", 5005, 8, "INFO", access_log=False)


def test_gunicorn_command() -> None:
    command = api_command("gunicorn", "0.0.0.0", 8080, 4, "WARNING")
    assert command[:3] == [sys.executable, "-m", "gunicorn"]
    assert command[-1] == "qhana_plugin_runner:create_app()"
    assert command[command.index("--bind") + 1] == "0.0.0.0:8080"
    assert command[command.index("--worker-class") + 1] == "gthread"
    assert command[command.index("--threads") + 1] == "4"


def test_unknown_server() -> None:
    with pytest.raises(ValueError, match="unknown server"):
        api_command("waitress", "127.0.0.1", 1, 1, "INFO")


def test_an_unknown_server_in_the_environment_stops_with_a_usage_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("QHANA_HTTP_SERVER", "bogus")
    with pytest.raises(SystemExit) as stopped:
        _parse([])
    assert stopped.value.code == 2
    assert "QHANA_HTTP_SERVER='bogus': expected one of granian, gunicorn" in capsys.readouterr().err
