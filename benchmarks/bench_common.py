# SPDX-License-Identifier: Apache-2.0
"""What the benchmark scripts share: the machine's facts, the runner's environment, a fresh
PostgreSQL database, migrations, and starting/stopping the runner's processes.

Imported by ``run.py`` and ``scale.py`` (both run as scripts, so this folder is on sys.path).
"""

from __future__ import annotations

import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PYTHON = sys.executable
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_loop_ms(rounds: int = 5) -> float:
    """Milliseconds of a fixed pure-Python loop (one million multiplications and remainders),
    the best of ``rounds``: how fast this machine's CPU runs small code at the moment (50–58 ms
    on this class). Machines of this class have run the same commit's bursts at 85 and at 165
    tasks/s an hour apart; a slow CPU shows here, a slowdown elsewhere (caches, the other
    core, the scheduler) need not."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i * i % 7
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def machine_facts() -> dict[str, object]:
    """CPU, memory, kernel, Python, load average, the speed of a fixed Python loop
    (:func:`cpu_loop_ms`) and the commit measured (``-dirty`` if edited)."""
    cpu_model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        mem_kb = int(meminfo.read_text().split()[1])
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True).stdout.strip())
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        "cpu_loop_ms": cpu_loop_ms(),
        "commit": commit + ("-dirty" if dirty else ""),
    }


def base_env(instance: Path, plugin_folders: list[Path] | None = None) -> dict[str, str]:
    """This process's environment without runner settings, plus an instance folder and plugins."""
    cleared = ("BROKER_URL", "RESULT_BACKEND", "SQLALCHEMY_", "FLASK_", "WAIT_", "GIT_PLUGINS", "CONTAINER_MODE", "EVENT_BUS_URL", "QHANA_PLUGIN_RUNNER_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(cleared)}
    folders = plugin_folders or [ROOT / "plugins"]
    env.update(
        QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER=str(instance),
        PLUGIN_FOLDERS=os.pathsep.join(str(folder) for folder in folders),
        DEFAULT_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run([PYTHON, "-m", "flask", "--app", "qhana_plugin_runner", "db", "upgrade"], env=env, check=True, cwd=ROOT, capture_output=True)


def fresh_postgres_database(server_url: str, name: str) -> tuple[str, Callable[[], None]]:
    """Create database ``name`` (dropping a leftover of the same name) on the server of
    ``server_url``; returns its URL and a function that drops it."""
    import sqlalchemy as sa

    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return url, drop


def compose_default(variable: str) -> str:
    """The default ``docker-compose.yml`` gives ``variable`` (``NAME: ${NAME:-default}``)."""
    text = (ROOT / "docker-compose.yml").read_text()
    match = re.search(rf"^\s*{re.escape(variable)}:\s*\$\{{{re.escape(variable)}:-([^}}]*)\}}", text, re.MULTILINE)
    if match is None:
        raise LookupError(f"docker-compose.yml sets no default for {variable}")
    return match.group(1)


def production_env(instance: Path, port: int, database_url: str, redis_url: str, plugin_folders: list[Path] | None = None, api_processes: int | None = None) -> dict[str, str]:
    """The compose file's settings (its server processes and threads unless ``api_processes``
    says otherwise), a 16-thread worker, Redis broker, PostgreSQL."""
    env = base_env(instance, plugin_folders)
    processes = str(api_processes) if api_processes else compose_default("GUNICORN_WORKERS")
    env.update(SQLALCHEMY_DATABASE_URI=database_url, BROKER_URL=redis_url, SERVER_HOST="127.0.0.1", SERVER_PORT=str(port), GUNICORN_WORKERS=processes, GUNICORN_THREADS=compose_default("GUNICORN_THREADS"), CONCURRENCY="16")
    return env


def embedded_api_command(port: int, http_server: str = "granian") -> list[str]:
    """``make run``'s API server: one process, 8 request threads (what the CLI itself starts)."""
    from qhana_plugin_runner.cli.embedded import api_command

    return api_command(http_server, "127.0.0.1", port, 8, "WARNING", access_log=False)


def production_api_command(env: dict[str, str], http_server: str = "granian") -> list[str]:
    """The compose file's API server, as the image's entry point builds it from ``env``
    (granian, as docker-compose.yml sets ``HTTP_SERVER``; ``http_server`` may say gunicorn)."""
    from qhana_plugin_runner.deploy.entrypoint import command_for

    return command_for("server", {**env, "HTTP_SERVER": http_server}) or []


def worker_command(concurrency: int, events: bool = False) -> list[str]:
    """A Celery worker with a thread pool, started as the entry point and ``make run`` start it
    (``events``: with task events, as the compose worker)."""
    command = [PYTHON, "-m", "qhana_plugin_runner.worker", "--pool", "threads", "--concurrency", str(concurrency), "--loglevel", "WARNING"]
    return command + (["-E"] if events else ["--without-gossip", "--without-mingle"])


class Process:
    """A started process group (the API's gunicorn master and its workers, or a Celery worker)."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.command = command
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log = log.open("ab")
        self.popen = subprocess.Popen(command, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pids(self) -> list[int]:
        """The process and all its descendants (read from /proc)."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
        found, todo = [], [self.popen.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, ()))
        return found

    def rss_bytes(self) -> int:
        """Resident memory summed over the process and its descendants (VmRSS from /proc)."""
        total = 0
        for pid in self.pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
            except OSError:
                continue
        return total

    def stop(self, timeout: float = 20.0) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
            except ProcessLookupError:
                pass
        self._log.close()


def wait_until_answering(url: str, process: Process, timeout: float = 90.0) -> float:
    """Seconds until ``url`` answered 200; raises if the process ended or time ran out."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited with {process.popen.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")
