# SPDX-License-Identifier: Apache-2.0
"""``qhana-plugin-runner`` (what ``make run`` starts): API server and Celery worker together.

Meant for a first run and for plugin authors: nothing but Python is needed. By default the
database is SQLite in the instance folder, the broker is kombu's filesystem transport in the
instance folder, and files go to the local file store. Every setting can still be changed with
the usual environment variables (``BROKER_URL``, ``SQLALCHEMY_DATABASE_URI``, ...). The database
is migrated before anything starts. Ctrl-C (or SIGTERM) stops both processes.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ..deploy.processes import GRANIAN_MODULE

__all__ = ["main", "api_command"]

SERVERS = ("granian", "gunicorn")
APP_FACTORY = "qhana_plugin_runner:create_app"


def api_command(server: str, host: str, port: int, threads: int, log_level: str, access_log: bool = True) -> list[str]:
    """The command line of the API process: one process, ``threads`` request threads.

    granian parses HTTP and keeps connections in Rust threads and calls the Flask app from
    ``threads`` Python threads (docs/adr/0006-granian-for-the-api.md); gunicorn's gthread worker
    does all of that in Python.
    """
    if server == "granian":
        command = [
            sys.executable, "-m", GRANIAN_MODULE, "--interface", "wsgi", "--factory", "--http", "1", "--no-ws",
            "--host", host, "--port", str(port), "--workers", "1", "--blocking-threads", str(threads),
            "--log-level", log_level.lower(),
        ]
        return [*command, "--access-log", APP_FACTORY] if access_log else [*command, APP_FACTORY]
    if server == "gunicorn":
        command = [
            sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}",
            "--worker-class", "gthread", "--workers", "1", "--threads", str(threads),
            "--log-level", log_level.lower(),
        ]
        return [*command, "--access-logfile", "-", f"{APP_FACTORY}()"] if access_log else [*command, f"{APP_FACTORY}()"]
    raise ValueError(f"unknown server {server!r}; expected one of {', '.join(SERVERS)}")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="qhana-plugin-runner", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"), help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5005")), help="port (default 5005)")
    parser.add_argument("--threads", type=int, default=8, help="request threads of the API server (default 8)")
    parser.add_argument(
        "--server",
        choices=SERVERS,
        default=os.environ.get("QHANA_HTTP_SERVER", "granian"),
        help="HTTP server of the API: granian (default; HTTP in Rust threads) or gunicorn (gthread, as before)",
    )
    parser.add_argument("--concurrency", type=int, default=2, help="worker threads of the Celery worker (default 2)")
    parser.add_argument("--no-worker", action="store_true", help="start the API only")
    parser.add_argument("--log-level", default="INFO", help="log level of both processes (default INFO)")
    args = parser.parse_args(argv)
    if args.server not in SERVERS:  # argparse checks choices on the command line, not defaults
        parser.error(f"QHANA_HTTP_SERVER={args.server!r}: expected one of {', '.join(SERVERS)}")
    return args


def _prepare_environment(log_level: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER", str(Path("instance").resolve()))
    if "PLUGIN_FOLDERS" not in env and Path("plugins").is_dir():
        env["PLUGIN_FOLDERS"] = str(Path("plugins").resolve())
    env.setdefault("DEFAULT_LOG_LEVEL", log_level)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _migrate(env: dict[str, str]) -> None:
    """Bring the database schema up to date (in a child, so this process stays app-free)."""
    subprocess.run([sys.executable, "-m", "flask", "--app", "qhana_plugin_runner", "db", "upgrade"], env=env, check=True)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    env = _prepare_environment(args.log_level)
    try:
        _migrate(env)
    except subprocess.CalledProcessError as err:
        print(f"qhana-plugin-runner: database migration failed (exit {err.returncode})", file=sys.stderr)
        return 1
    commands = [api_command(args.server, args.host, args.port, args.threads, args.log_level)]
    if not args.no_worker:
        commands.append(
            [
                sys.executable, "-m", "qhana_plugin_runner.worker", "--pool", "threads", "--concurrency", str(args.concurrency),
                "--loglevel", args.log_level, "--without-gossip", "--without-mingle",
            ]
        )
    children = [subprocess.Popen(cmd, env=env) for cmd in commands]
    print(f"qhana-plugin-runner: serving on http://{args.host}:{args.port}/ (Ctrl-C stops everything)", flush=True)
    return _supervise(children)


def _supervise(children: list[subprocess.Popen[bytes]]) -> int:
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for child in children:
            code = child.poll()
            if code is not None:
                print(f"qhana-plugin-runner: {child.args[2]} exited with {code}; stopping", file=sys.stderr)
                exit_code = code or 1
                stopping = True
        time.sleep(0.2)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
