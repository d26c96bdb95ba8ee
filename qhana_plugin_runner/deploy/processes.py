# SPDX-License-Identifier: Apache-2.0
"""How many API server processes ``GUNICORN_WORKERS`` asks for (gunicorn and granian alike).

A number, or ``auto``: half the CPUs this container may use, at least one. The API shares the
machine with the Celery worker, and on a small one a second interpreter mostly competes with it:
on 2 cores one process of 8 threads answered task reads, process requests and bursts as fast or
faster than two, and took 125 instead of 218 MB (docs/deployment.md).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = ["GRANIAN_MODULE", "usable_cpus", "server_processes"]

# granian's command line, run as ``python -m``; one worker is served from the main process
# (granian_server.py), so a one-process API is one interpreter, not a supervisor and a worker
GRANIAN_MODULE = "qhana_plugin_runner.deploy.granian_server"

_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")  # cgroup v2: "<quota> <period>" or "max <period>"


def usable_cpus(cpu_max: Path = _CPU_MAX) -> int:
    """CPUs this process may run on (affinity), capped by a cgroup CPU quota if one is set."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


def server_processes(raw: str | None, default: int, cpus: int | None = None) -> int:
    """``GUNICORN_WORKERS``: empty → ``default``; ``auto`` → half the usable CPUs (at least 1);
    else a whole number of at least 1 (ValueError names the variable otherwise)."""
    value = (raw or "").strip().lower()
    if not value:
        return default
    if value == "auto":
        return max(1, (cpus if cpus is not None else usable_cpus()) // 2)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"GUNICORN_WORKERS={raw!r}: expected a positive integer or auto")
    return int(value)
