# SPDX-License-Identifier: Apache-2.0
"""The image's HEALTHCHECK: ``python -m qhana_plugin_runner.deploy.healthcheck``.

In ``server`` mode it asks the local ``/health``; in ``worker`` mode it pings this container's
Celery worker through the broker (a worker that lost its broker connection is unhealthy);
``beat`` and ``migrate`` have nothing to ask and pass. Exit status 0 is healthy.
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.request
from collections.abc import Mapping

__all__ = ["check", "main"]


def _server(environ: Mapping[str, str], timeout: float) -> str | None:
    url = f"http://127.0.0.1:{environ.get('SERVER_PORT', '8080')}/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (fixed local URL)
            return None if response.status == 200 else f"{url} answered {response.status}"
    except OSError as err:
        return f"{url}: {err}"


def _worker(environ: Mapping[str, str], timeout: float) -> str | None:
    from celery import Celery

    name = environ.get("CELERY_WORKER_NAME", "celery@%h").replace("%h", socket.gethostname())
    app = Celery(broker=environ.get("BROKER_URL") or None)
    try:
        replies = app.control.ping(destination=[name], timeout=timeout) or []
    except Exception as err:  # the broker itself is unreachable
        return f"broker: {err}"
    finally:
        app.close()
    return None if any(name in reply for reply in replies) else f"worker {name} did not answer"


def check(environ: Mapping[str, str], timeout: float = 4.0) -> str | None:
    """None when healthy, else why not."""
    mode = environ.get("CONTAINER_MODE", "server")
    if mode == "server":
        return _server(environ, timeout)
    if mode == "worker":
        return _worker(environ, timeout)
    return None


def main() -> int:
    problem = check(os.environ)
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
