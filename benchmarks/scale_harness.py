# SPDX-License-Identifier: Apache-2.0
"""What the scale checks share (``scale.py``, ``scale_files.py``): a runner started for one
check, a fresh database, sequential request rounds and their summary."""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bench_common import (
    ROOT,
    Process,
    base_env,
    embedded_api_command,
    free_port,
    fresh_postgres_database,
    migrate,
    production_api_command,
    production_env,
    wait_until_answering,
    worker_command,
)

from qhana_plugin_runner.deploy.processes import server_processes

MIB = 1024 * 1024
SCALE_PLUGINS = ROOT / "benchmarks" / "scale_plugins"


def log(message: str) -> None:
    print(f"[scale] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- runner set-ups


class Runner:
    """A runner started for one check: API (the set-up's server) and, if asked, a Celery worker."""

    def __init__(self, workdir: Path, database: str, *, redis_url: str | None, worker: bool, extra_env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.processes: list[Process] = []
        instance = workdir / "instance"
        folders = [ROOT / "plugins", SCALE_PLUGINS]
        if database.startswith("sqlite"):
            # make run's set-up: one server process x 8 threads, filesystem broker
            self.env = base_env(instance, folders)
            self.env["SQLALCHEMY_DATABASE_URI"] = database
            api = embedded_api_command(self.port)
            self.setup = "granian 1 x 8 threads, SQLite, filesystem broker"
        else:
            assert redis_url is not None
            self.env = production_env(instance, self.port, database, redis_url, folders)
            api = production_api_command(self.env)
            processes = server_processes(self.env.get("GUNICORN_WORKERS"), 2)
            self.setup = f"granian {processes} process{'es' if processes > 1 else ''} x 8 threads (compose), PostgreSQL, Redis"
        self.env.update(extra_env or {})
        migrate(self.env)
        self.api = Process("api", api, self.env, workdir / "logs" / "api.log")
        self.processes.append(self.api)
        if worker:
            self.worker: Process | None = Process("worker", worker_command(2), self.env, workdir / "logs" / "worker.log")
            self.processes.append(self.worker)
            self.setup += ", Celery worker 2 threads"
        else:
            self.worker = None
        self.launch_seconds = wait_until_answering(self.url("/plugins/"), self.api)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def connection(self, timeout: float = 60.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


def measure(runner: Runner, paths: Iterable[str], warm: Iterable[str] = ()) -> dict[str, Any]:
    """Requests one after the other on one keep-alive connection: latency percentiles, rate."""
    conn = runner.connection()

    def get(path: str) -> tuple[int, int]:
        nonlocal conn
        for attempt in range(2):
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                return response.status, len(response.read())
            except (ConnectionError, http.client.HTTPException):
                conn.close()
                conn = runner.connection()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    for path in warm:
        get(path)
    times: list[float] = []
    statuses: dict[int, int] = {}
    size = 0
    started = time.perf_counter()
    for path in paths:
        before = time.perf_counter()
        status, size = get(path)
        times.append(time.perf_counter() - before)
        statuses[status] = statuses.get(status, 0) + 1
    elapsed = time.perf_counter() - started
    conn.close()
    times.sort()

    def pct(p: float) -> float:
        return round(times[min(len(times) - 1, int(p * len(times)))] * 1000, 2)

    return {
        "requests": len(times),
        "req_per_s": round(len(times) / elapsed, 1),
        "p50_ms": pct(0.5),
        "p90_ms": pct(0.9),
        "p99_ms": pct(0.99),
        "statuses": {str(k): v for k, v in statuses.items()},
        "last_body_bytes": size,
    }


def summarize(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Median p50 and rate over the rounds, with every round kept."""
    return {
        "p50_ms": round(statistics.median(r["p50_ms"] for r in rounds), 2),
        "req_per_s": round(statistics.median(r["req_per_s"] for r in rounds), 1),
        "rounds": rounds,
    }


class Database:
    """A fresh database for one check: a PostgreSQL database (dropped at the end) or an SQLite file."""

    def __init__(self, kind: str, args: argparse.Namespace, workdir: Path, label: str) -> None:
        import sqlalchemy as sa

        self.kind = kind
        self._drop: Callable[[], None] | None = None
        if kind == "postgresql":
            self.url, self._drop = fresh_postgres_database(args.postgres, f"qhana_scale_{label}_{os.getpid()}")
        else:
            (workdir / "instance").mkdir(parents=True, exist_ok=True)
            self.url = f"sqlite:///{workdir / 'instance' / 'scale.db'}"
        self.engine = sa.create_engine(self.url)

    def close(self) -> None:
        self.engine.dispose()
        if self._drop is not None:
            self._drop()
