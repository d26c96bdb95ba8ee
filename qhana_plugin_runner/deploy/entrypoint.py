# SPDX-License-Identifier: Apache-2.0
"""Container entry point: ``python -m qhana_plugin_runner.deploy`` (the image's ENTRYPOINT).

``CONTAINER_MODE`` picks what the process becomes:

- ``server``: wait for ``WAIT_HOSTS``, fetch ``GIT_PLUGINS``, apply migrations
  (``flask db upgrade``), then become gunicorn (settings: :mod:`.gunicorn_config`), or granian
  with ``HTTP_SERVER=granian`` (docs/adr/0006-granian-for-the-api.md).
- ``worker``: wait, fetch, then become a Celery worker, started by :mod:`qhana_plugin_runner.worker`
  (``CELERY_WORKER_POOL``, ``CONCURRENCY``, ``DEFAULT_LOG_LEVEL``, ``CELERY_QUEUE``; with
  ``PERIODIC_SCHEDULER=true`` it also runs beat, which exactly one worker may do).
- ``beat``: wait, then become Celery beat alone.
- ``migrate``: wait, apply migrations and exit.

Everything before the final ``exec`` can be checked with ``--dry-run``, which prints the command.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from ..config.env import parse_bool
from ..worker import CELERY_APP
from .git_plugins import fetch_git_plugins, parse_git_plugins
from .processes import GRANIAN_MODULE, server_processes
from .wait import WaitSettings, WaitTimeout, wait_for_hosts

__all__ = ["main", "command_for", "MODES"]

MODES = ("server", "worker", "beat", "migrate")
WORKER_MODULE = "qhana_plugin_runner.worker"
"""Starts the worker without Celery's command line (9 MB less resident; ``celery worker``'s
options, a gevent or eventlet pool included, still work: it hands those to Celery)."""


def env_flag(environ: Mapping[str, str], name: str) -> bool:
    """A boolean variable, read as the runner's configuration reads them (``"false"`` is false;
    the original image read it with ``bool(str)``)."""
    raw = environ.get(name, "")
    try:
        return parse_bool(raw)
    except ValueError as err:
        raise ValueError(f"{name}={raw!r}: {err}") from None


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name}={raw!r}: expected a positive integer")
    return int(raw)


def command_for(mode: str, environ: Mapping[str, str]) -> list[str] | None:
    """The command the process becomes in ``mode`` (None for ``migrate``)."""
    python = sys.executable
    log_level = environ.get("DEFAULT_LOG_LEVEL", "INFO").upper()
    if mode == "server":
        server = environ.get("HTTP_SERVER", "gunicorn").strip().lower() or "gunicorn"
        if server == "granian":
            return _granian_command(environ)
        if server != "gunicorn":
            raise ValueError(f"HTTP_SERVER={server!r}: expected gunicorn or granian")
        return [python, "-m", "gunicorn", "--config", "python:qhana_plugin_runner.deploy.gunicorn_config"]
    if mode == "worker":
        pool = environ.get("CELERY_WORKER_POOL", "threads")
        if pool not in {"threads", "prefork", "solo", "gevent", "eventlet"}:
            raise ValueError(f"CELERY_WORKER_POOL={pool!r}: expected threads, prefork, solo, gevent or eventlet")
        command = [
            python, "-m", WORKER_MODULE,
            f"--pool={pool}", f"--concurrency={_positive_int(environ, 'CONCURRENCY', 2)}",
            f"--loglevel={log_level}", "-E",
        ]
        if environ.get("CELERY_WORKER_NAME"):
            command.append(f"--hostname={environ['CELERY_WORKER_NAME']}")
        if env_flag(environ, "PERIODIC_SCHEDULER"):
            command += ["--beat", f"--schedule={_beat_schedule_file(environ)}"]
        return command
    if mode == "beat":
        return [python, "-m", "celery", "--app", CELERY_APP, "beat", f"--loglevel={log_level}", f"--schedule={_beat_schedule_file(environ)}"]
    if mode == "migrate":
        return None
    raise ValueError(f"CONTAINER_MODE={mode!r}: expected one of {', '.join(MODES)}")


def _granian_command(environ: Mapping[str, str]) -> list[str]:
    """``HTTP_SERVER=granian``: the same app, address and process/thread counts as gunicorn's
    settings (``SERVER_HOST``, ``SERVER_PORT``, ``GUNICORN_WORKERS``, ``GUNICORN_THREADS``)."""
    command = [
        sys.executable, "-m", GRANIAN_MODULE, "--interface", "wsgi", "--factory", "--http", "1", "--no-ws",
        "--host", environ.get("SERVER_HOST", "0.0.0.0"), "--port", str(_positive_int(environ, "SERVER_PORT", 8080)),
        "--workers", str(server_processes(environ.get("GUNICORN_WORKERS"), 2)),
        "--blocking-threads", str(_positive_int(environ, "GUNICORN_THREADS", 8)),
        "--log-level", environ.get("DEFAULT_LOG_LEVEL", "info").lower(),
        "--respawn-failed-workers", "--workers-kill-timeout", "30",
    ]
    if env_flag(environ, "GUNICORN_ACCESS_LOG"):
        command.append("--access-log")
    return [*command, "qhana_plugin_runner:create_app"]


def _beat_schedule_file(environ: Mapping[str, str]) -> str:
    instance = environ.get("QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER", "instance")
    return str(Path(instance) / "celerybeat-schedule")


def _migrate(environ: Mapping[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "flask", "--app", "qhana_plugin_runner", "db", "upgrade"], env=dict(environ), check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qhana_plugin_runner.deploy", description="Start the runner as CONTAINER_MODE says.")
    parser.add_argument("mode", nargs="?", default=os.environ.get("CONTAINER_MODE", "server"), help=f"one of {', '.join(MODES)} (default: CONTAINER_MODE or server)")
    parser.add_argument("--dry-run", action="store_true", help="check the settings and print the final command instead of running anything")
    args = parser.parse_args(argv)
    environ = dict(os.environ)
    try:
        command = command_for(args.mode, environ)
        wait = WaitSettings.from_env(environ)
        sources = parse_git_plugins(environ.get("GIT_PLUGINS", ""))
    except ValueError as err:
        print(f"qhana-plugin-runner: {err}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(shlex.join(command) if command else "flask db upgrade")
        return 0
    try:
        wait_for_hosts(wait, log=lambda message: print(f"qhana-plugin-runner: {message}", flush=True))
        if sources:
            fetch_git_plugins(sources, Path(environ.get("GIT_PLUGINS_PATH", "/app/git-plugins")))
        if args.mode in {"server", "migrate"}:
            _migrate(environ)
    except (WaitTimeout, RuntimeError, ValueError) as err:
        print(f"qhana-plugin-runner: {err}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as err:
        print(f"qhana-plugin-runner: database migration failed (exit {err.returncode})", file=sys.stderr)
        return 1
    if command is None:
        return 0
    sys.stdout.flush()
    os.execvpe(command[0], command, environ)
    return 0  # not reached
