# SPDX-License-Identifier: Apache-2.0
"""``python -m qhana_plugin_runner.worker``: a Celery worker for the runner, started without
Celery's command line.

``celery --app qhana_plugin_runner.celery_worker:CELERY worker`` imports Celery's whole command
line first: every sub-command with click-repl, prompt_toolkit and pygments, about 9 MB that stay
resident in the worker for its whole life and never run. This module reads the worker options
the runner's own commands use (the same spellings and meanings as ``celery worker``), builds
the same worker from them (``CELERY.Worker(...)``, what Celery's ``worker`` command builds) and
starts it.

A command line with anything else (an option this module does not read, ``--detach``, a
``gevent`` or ``eventlet`` pool, which must patch the standard library before anything is
imported) is handed unchanged to Celery's own ``celery worker`` (the process ``exec``\\ s it),
so every ``celery worker`` option keeps working (docs/adr/0010-worker-without-celerys-command-line.md).

Lifecycle: parse the arguments, then import :mod:`qhana_plugin_runner.celery_worker` (which
builds the Flask app and registers every plugin's tasks), start the worker, exit with its exit
code.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, NoReturn

__all__ = ["CELERY_APP", "build_parser", "parse", "celery_command", "main"]

CELERY_APP = "qhana_plugin_runner.celery_worker:CELERY"
POOLS = ("threads", "prefork", "solo")
"""The pools started here; ``gevent`` and ``eventlet`` go to Celery's command line."""
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "FATAL")


class _Delegate(Exception):
    """The command line needs Celery's own ``worker`` command."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # an option this module does not know, or a value it does not take: Celery's command
        # line decides (and reports its own, complete error if it is wrong there too)
        raise _Delegate(message)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def build_parser() -> argparse.ArgumentParser:
    """The options read here (``--help`` prints Celery's, which include them)."""
    parser = _Parser(
        prog="python -m qhana_plugin_runner.worker",
        description="Start a Celery worker for the runner's tasks (the options are celery worker's).",
        epilog="Any other `celery worker` option is accepted too, and --help shows them all: the command line is then handed to `celery --app " + CELERY_APP + " worker`.",
        allow_abbrev=False,
        add_help=False,
    )
    add = parser.add_argument
    add("-P", "--pool", choices=POOLS, help="execution pool (default: the worker_pool setting, prefork)")
    add("-c", "--concurrency", type=_positive, help="threads or processes of the pool")
    add("-l", "--loglevel", type=str.upper, choices=LOG_LEVELS, default="WARNING", help="log level (default WARNING)")
    add("-n", "--hostname", help="node name (%%h: host name, %%n: name, %%d: domain)")
    add("-E", "--task-events", "--events", dest="task_events", action="store_true", default=None, help="send task events")
    add("-Q", "--queues", help="queues to consume, comma separated")
    add("-X", "--exclude-queues", help="queues not to consume, comma separated")
    add("-B", "--beat", action="store_true", help="also run the periodic task scheduler (one worker only)")
    add("-s", "--schedule-filename", "--schedule", dest="schedule_filename", help="beat's schedule file")
    add("--scheduler", help="beat's scheduler class")
    add("-O", "--optimization", choices=("default", "fair"), default="default")
    add("--prefetch-multiplier", type=_positive)
    add("--time-limit", type=float)
    add("--soft-time-limit", type=float)
    add("--max-tasks-per-child", type=_positive)
    add("--max-memory-per-child", type=_positive)
    add("--without-gossip", action="store_true")
    add("--without-mingle", action="store_true")
    add("--without-heartbeat", action="store_true")
    add("-f", "--logfile")
    add("--pidfile")
    return parser


def parse(argv: list[str]) -> argparse.Namespace | None:
    """The options of ``argv``, or ``None`` when Celery's command line must start this worker."""
    if any(arg in ("-h", "--help") for arg in argv):
        return None  # Celery's help lists every option, also those read here
    try:
        return build_parser().parse_args(argv)
    except _Delegate:
        return None


def celery_command(argv: list[str]) -> list[str]:
    """Celery's own command line for the same worker."""
    return [sys.executable, "-m", "celery", "--app", CELERY_APP, "worker", *argv]


def _worker_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments of ``CELERY.Worker`` as Celery's ``worker`` command passes them
    (unset values stay ``None`` so the app's ``worker_*`` settings decide)."""
    from celery.utils.nodenames import default_nodename, host_format

    options = vars(args).copy()
    options["pool_cls"] = options.pop("pool")
    options["hostname"] = host_format(default_nodename(args.hostname))
    return options


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    if args is None:
        command = celery_command(argv)
        os.execv(command[0], command)
    from .celery_worker import CELERY  # builds the app: config, database, plugins and their tasks

    worker = CELERY.Worker(**_worker_options(args))
    worker.start()
    return int(worker.exitcode or 0)


if __name__ == "__main__":
    sys.exit(main())
