"""``python -m qhana_plugin_runner.worker``: the worker the entry point and ``make run`` start,
without Celery's command line, and Celery's command line for anything it does not read."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from qhana_plugin_runner import worker as launcher
from qhana_plugin_runner.deploy.entrypoint import WORKER_MODULE, command_for

from helpers import ROOT


def test_the_entry_points_worker_command_is_read_here() -> None:
    command = command_for("worker", {"CONCURRENCY": "16", "DEFAULT_LOG_LEVEL": "info", "CELERY_WORKER_NAME": "w1@%h", "PERIODIC_SCHEDULER": "true", "QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER": "/srv/instance"})
    assert command[1:3] == ["-m", WORKER_MODULE]
    args = launcher.parse(command[3:])
    assert args is not None
    assert (args.pool, args.concurrency, args.loglevel, args.task_events, args.beat) == ("threads", 16, "INFO", True, True)
    assert args.schedule_filename == "/srv/instance/celerybeat-schedule"
    options = launcher._worker_options(args)
    assert options["pool_cls"] == "threads" and "pool" not in options
    assert options["hostname"] == f"w1@{socket.gethostname()}"


def test_unset_options_leave_the_decision_to_the_apps_settings() -> None:
    args = launcher.parse([])
    assert args is not None
    options = launcher._worker_options(args)
    assert options["pool_cls"] is None and options["concurrency"] is None and options["task_events"] is None
    assert options["loglevel"] == "WARNING"  # celery worker's own default
    assert options["hostname"] == f"celery@{socket.gethostname()}"


@pytest.mark.parametrize(
    "argv",
    [
        ["--detach"],
        ["-P", "gevent"],  # must patch the standard library before anything is imported
        ["--pool=eventlet"],
        ["--concurrency", "auto"],
        ["-c", "0"],
        ["--autoscale", "10,3"],
        ["--statedb", "/tmp/state"],
        ["--help"],
        ["-l", "LOUD"],
        ["--pool", "threads", "--no-such-option"],
    ],
)
def test_anything_else_goes_to_celerys_command_line(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert launcher.parse(argv) is None
    started: list[list[str]] = []

    def fake_exec(path: str, args: list[str]) -> None:
        started.append(args)
        raise SystemExit(0)

    monkeypatch.setattr(os, "execv", fake_exec)
    with pytest.raises(SystemExit):
        launcher.main(argv)
    assert started == [[sys.executable, "-m", "celery", "--app", "qhana_plugin_runner.celery_worker:CELERY", "worker", *argv]]


_PROBE = """
import json, os, signal, sys, threading
from celery import signals
from qhana_plugin_runner import worker as launcher

@signals.worker_ready.connect
def ready(sender, **_):
    controller = sender.controller
    print(json.dumps({
        "pool": controller.pool_cls.__module__ + "." + controller.pool_cls.__name__,
        "concurrency": controller.concurrency,
        "task_events": controller.task_events,
        "hostname": controller.hostname,
        "tasks": "hello-world@v0-2-1.demo_task" in controller.app.tasks,
        "cli_modules": sorted(m for m in ("celery.bin.celery", "click_repl", "prompt_toolkit", "pygments") if m in sys.modules),
    }), file=sys.__stdout__, flush=True)  # the worker sends sys.stdout to its log
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()

sys.exit(launcher.main(sys.argv[1:]))
"""


@pytest.mark.parametrize(("pool", "pool_class"), [("threads", "celery.concurrency.thread.TaskPool"), ("prefork", "celery.concurrency.prefork.TaskPool")])
def test_a_started_worker_runs_without_celerys_command_line(tmp_path: Path, pool: str, pool_class: str) -> None:
    """A real worker (SQLite, the filesystem broker): the options reach it, the plugins' tasks
    are registered, Celery's command line is not loaded, SIGTERM stops it with exit code 0."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QHANA_PLUGIN_RUNNER_", "SQLALCHEMY_", "BROKER_URL", "RESULT_BACKEND", "EVENT_BUS_URL", "PLUGIN_FOLDERS"))}
    env.update(QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER=str(tmp_path), PLUGIN_FOLDERS=str(ROOT / "plugins"), DEFAULT_LOG_LEVEL="ERROR")
    argv = [f"--pool={pool}", "--concurrency=3", "--loglevel=ERROR", "-E", "-n", "probe@%h", "--without-gossip", "--without-mingle"]
    done = subprocess.run([sys.executable, "-c", _PROBE, *argv], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("{")))
    assert report == {
        "pool": pool_class,
        "concurrency": 3,
        "task_events": True,
        "hostname": f"probe@{socket.gethostname()}",
        "tasks": True,
        "cli_modules": [],
    }
