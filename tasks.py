# SPDX-License-Identifier: Apache-2.0
"""invoke tasks for development (``invoke --list``). Celery's own tasks live in the package.

``invoke worker`` starts a Celery worker for the runner; point it at the broker the API uses
(``BROKER_URL=redis://localhost:6379``) or leave it unset to use the embedded filesystem broker
in the instance folder. ``.flaskenv`` and ``.env`` are read first, like ``flask`` does.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from invoke import Context, task

ROOT = Path(__file__).resolve().parent
CELERY_APP = "qhana_plugin_runner.celery_worker:CELERY"


def _load_env_files() -> None:
    for name in (".flaskenv", ".env"):
        path = ROOT / name
        if not path.is_file():
            continue
        for line in path.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            os.environ.setdefault(key.strip(), value.strip().strip('"').strip("'"))


_load_env_files()


@task(
    help={
        "pool": "execution pool: threads (default), prefork, solo, gevent, eventlet",
        "concurrency": "number of worker threads or processes (default 2)",
        "log_level": "DEBUG, INFO (default), WARNING, ERROR",
        "periodic_scheduler": "also run Celery beat in this worker (only one worker may)",
        "queue": "queue(s) to consume, comma separated (default: CELERY_QUEUE or qhana_plugin_runner)",
    }
)
def worker(c: Context, pool: str = "threads", concurrency: int = 2, log_level: str = "INFO", periodic_scheduler: bool = False, queue: str = "") -> None:
    """Start a Celery worker for the runner's tasks (replaces this process)."""
    args = [
        "celery", "--app", CELERY_APP, "worker",
        f"--pool={pool}", f"--concurrency={int(concurrency)}", f"--loglevel={log_level.upper()}", "-E",
    ]
    if periodic_scheduler:
        args.append("-B")
    queues = queue or os.environ.get("CELERY_QUEUE", "")
    if queues:
        args += ["--queues", queues]
    print(shlex.join(args), flush=True)
    os.execvp(args[0], args)


@task
def celery_status(c: Context) -> None:
    """Show the workers that answer on the broker."""
    c.run(shlex.join(["celery", "--app", CELERY_APP, "status"]), echo=True)


@task(help={"port": "port of the runner (default 5005)"})
def run(c: Context, port: int = 5005) -> None:
    """The embedded runner (API and worker together), same as `make run`."""
    c.run(shlex.join(["qhana-plugin-runner", "--port", str(int(port))]), echo=True)
