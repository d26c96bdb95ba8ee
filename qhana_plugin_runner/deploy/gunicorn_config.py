# SPDX-License-Identifier: Apache-2.0
"""gunicorn settings from the environment (``gunicorn -c python:qhana_plugin_runner.deploy.gunicorn_config``).

``SERVER_HOST`` (0.0.0.0) and ``SERVER_PORT`` (8080), ``GUNICORN_WORKERS`` (2 processes, or
``auto``: half the usable CPUs),
``GUNICORN_THREADS`` (8 request threads each, gthread), ``GUNICORN_TIMEOUT`` (60 s),
``GUNICORN_ACCESS_LOG`` (1 to log every request), ``DEFAULT_LOG_LEVEL`` and
``FORWARDED_ALLOW_IPS`` (proxies whose X-Forwarded-* headers gunicorn trusts; the app's own
``REVERSE_PROXY_COUNT`` decides how many hops it believes).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..config.env import parse_bool
from .processes import server_processes


def _int(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r}: expected an integer") from None
    if value < minimum:
        raise SystemExit(f"{name}={raw!r}: expected at least {minimum}")
    return value


def _flag(name: str) -> bool:
    raw = os.environ.get(name, "")
    try:
        return parse_bool(raw)
    except ValueError as err:
        raise SystemExit(f"{name}={raw!r}: {err}") from None


wsgi_app = "qhana_plugin_runner:create_app()"
bind = [f"{os.environ.get('SERVER_HOST', '0.0.0.0')}:{_int('SERVER_PORT', 8080)}"]
worker_class = "gthread"
try:
    workers = server_processes(os.environ.get("GUNICORN_WORKERS"), 2)
except ValueError as err:
    raise SystemExit(str(err)) from None
threads = _int("GUNICORN_THREADS", 8)
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
loglevel = os.environ.get("DEFAULT_LOG_LEVEL", "info").lower()
errorlog = "-"
accesslog = "-" if _flag("GUNICORN_ACCESS_LOG") else None
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# heartbeat files in memory, not on a (possibly slow, overlay) disk
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None
