"""The production topology as plain processes, the way docker-compose.yml runs it.

gunicorn (``GUNICORN_WORKERS`` processes), ``celery_workers`` Celery worker processes and one
Celery beat, each started through the container entry point ``python -m qhana_plugin_runner.deploy``
with ``CONTAINER_MODE`` set, against a real broker and database. Used by the topology and fault
tests and by ``benchmarks/run.py``.

    with Topology(workdir, database_url=..., broker_url=...) as topology:
        requests.get(topology.url + "/plugins/")
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import requests

ROOT = Path(__file__).resolve().parents[1]

# settings of the developer's shell that must not leak into the processes under test
_CLEARED_PREFIXES = ("BROKER_URL", "RESULT_BACKEND", "SQLALCHEMY_", "FLASK_", "WAIT_", "GIT_PLUGINS", "CONTAINER_MODE", "EVENT_BUS_URL", "PLUGIN_FOLDERS", "QHANA_PLUGIN_RUNNER_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Topology:
    workdir: Path
    database_url: str
    broker_url: str
    plugin_folders: list[str] = field(default_factory=lambda: [str(ROOT / "plugins")])
    api_workers: int = 2
    api_threads: int = 8
    celery_workers: int = 2
    concurrency: int = 4
    beat: bool = True
    extra_env: Mapping[str, str] = field(default_factory=dict)
    port: int = 0
    # a folder for the processes' bytecode caches: with PYTHONDONTWRITEBYTECODE set (as in CI)
    # every process would compile every module again, which makes each start take many seconds
    pycache: Path | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict, init=False)
    _logs: dict[str, IO[bytes]] = field(default_factory=dict, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def instance(self) -> Path:
        return self.workdir / "instance"

    def env(self, mode: str, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_CLEARED_PREFIXES)}
        env.update(
            CONTAINER_MODE=mode,
            # the server docker-compose.yml runs (docs/adr/0007); QHANA_TEST_HTTP_SERVER=gunicorn
            # runs the same tests against the entry point's default
            HTTP_SERVER=os.environ.get("QHANA_TEST_HTTP_SERVER", "granian"),
            QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER=str(self.instance),
            PLUGIN_FOLDERS=":".join(self.plugin_folders),
            SQLALCHEMY_DATABASE_URI=self.database_url,
            BROKER_URL=self.broker_url,
            SERVER_NAME=f"127.0.0.1:{self.port}",
            SERVER_HOST="127.0.0.1",
            SERVER_PORT=str(self.port),
            GUNICORN_WORKERS=str(self.api_workers),
            GUNICORN_THREADS=str(self.api_threads),
            CONCURRENCY=str(self.concurrency),
            DEFAULT_LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        if self.pycache is not None:
            env.update(PYTHONPYCACHEPREFIX=str(self.pycache), PYTHONDONTWRITEBYTECODE="")
        env.update(self.extra_env)
        env.update(extra)
        return env

    def _start(self, name: str, mode: str, **extra: str) -> subprocess.Popen[bytes]:
        if name in self._logs:  # started again after a stop: one log file, appended to
            self._logs[name].close()
        log = self._logs[name] = (self.workdir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "qhana_plugin_runner.deploy"],
            cwd=self.workdir, env=self.env(mode, **extra), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.processes[name] = process
        return process

    def start(self, timeout: float = 90) -> Topology:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        migrate = subprocess.run([sys.executable, "-m", "qhana_plugin_runner.deploy", "migrate"], cwd=self.workdir, env=self.env("migrate"), capture_output=True, timeout=120)
        if migrate.returncode != 0:
            raise RuntimeError(f"migration failed: {migrate.stderr.decode()[-3000:]}")
        self._start("api", "server")
        for number in range(1, self.celery_workers + 1):
            self.start_worker(number)
        if self.beat:
            self._start("beat", "beat")
        self.wait_ready(timeout)
        return self

    def start_worker(self, number: int) -> subprocess.Popen[bytes]:
        return self._start(f"worker{number}", "worker", CELERY_WORKER_NAME=f"w{number}@%h")

    def wait_ready(self, timeout: float = 90) -> None:
        """Until ``/ready`` answers 200 and every worker answers a ping."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if requests.get(self.url + "/ready", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        else:
            raise TimeoutError(f"/ready did not answer 200 within {timeout} s\n{self.log_tail()}")
        while time.monotonic() < deadline:
            self.check_alive()
            if len(self.ping_workers()) >= self.celery_workers:
                return
            time.sleep(0.2)
        raise TimeoutError(f"the Celery workers did not answer within {timeout} s\n{self.log_tail()}")

    def ping_workers(self) -> list[str]:
        from celery import Celery

        # a connection of its own: kombu's shared pool may hold one from before a broker restart
        app = Celery(broker=self.broker_url)
        try:
            with app.connection_for_write() as connection:
                replies = app.control.ping(timeout=1.0, connection=connection) or []
        finally:
            app.close()
        return sorted(name for reply in replies for name in reply)

    def worker_stats(self) -> dict[str, Any]:
        from celery import Celery

        app = Celery(broker=self.broker_url)
        try:
            with app.connection_for_write() as connection:
                return app.control.inspect(timeout=2.0, connection=connection).stats() or {}
        finally:
            app.close()

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}\n{self.log_tail()}")

    def log_tail(self, chars: int = 2000) -> str:
        parts = []
        for name in self.processes:
            path = self.workdir / f"{name}.log"
            if path.exists():
                parts.append(f"--- {name} ---\n{path.read_text(errors='replace')[-chars:]}")
        return "\n".join(parts)

    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        process = self.processes[name]
        if process.poll() is None:
            os.killpg(process.pid, sig)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        return int(process.returncode)

    def stop(self) -> dict[str, int]:
        codes = {}
        for name in list(self.processes):
            codes[name] = self.stop_process(name)
        for log in self._logs.values():
            log.close()
        return codes

    def __enter__(self) -> Topology:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
