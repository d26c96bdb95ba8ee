#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Start the runner in a set-up, measure it with the shared client, write the results.

    .venv/bin/python benchmarks/run.py embedded           # make run's set-up: SQLite, filesystem broker
    .venv/bin/python benchmarks/run.py production         # gunicorn x2 + Celery (16 threads) + Redis + PostgreSQL
    .venv/bin/python benchmarks/run.py all --quick        # both, short runs
    .venv/bin/python benchmarks/run.py all --rounds 3 --tag s9   # three alternating rounds of both

Each set-up gets a fresh instance folder (and, for production, a fresh PostgreSQL database
and Redis database). The shared client (``../shared/bench/runner_bench.py``, or ``--client``)
launches the processes itself, so launch time and idle memory are its own measurements. The
results land in ``benchmarks/results/<date>[-<tag>][-r<round>]-<set-up>.json`` with the
machine's facts and the commit measured, and each figure is printed beside its target
(``benchmarks/summary.py``; with several rounds, their median). ``wrk`` is used for raw request rates when it is on PATH (``apt-get install
wrk``); the script installs it with apt-get when it runs as root and ``--install-wrk`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import (
    DEFAULT_POSTGRES,
    PYTHON,
    RESULTS,
    ROOT,
    base_env,
    embedded_api_command,
    free_port,
    fresh_postgres_database,
    machine_facts,
    migrate,
    production_api_command,
    production_env,
    worker_command,
)
from summary import read_results, render_markdown, summarize
from task_order import burst_order, read_task_rows

from qhana_plugin_runner.config import DEFAULT_DATABASE_FILE
from qhana_plugin_runner.deploy.processes import server_processes

DEFAULT_CLIENT = ROOT.parent / "shared" / "bench" / "runner_bench.py"


def _shell_command(command: list[str]) -> str:
    """``command`` for the client, which starts it with ``sh -c``: ``exec`` makes the shell
    become the process, so the memory summed over the process tree is the runner's alone
    (the shell stayed as the parent otherwise, 1.6 MB in each figure)."""
    return "exec " + shlex.join(command)


def embedded_setup(workdir: Path, port: int, http_server: str = "") -> tuple[dict[str, str], list[tuple[str, str]], object]:
    """``make run``: the API in one process with 8 request threads (granian unless ``http_server``
    says gunicorn) and a 2-thread worker, SQLite, filesystem broker."""
    env = base_env(workdir / "instance")
    migrate(env)
    api = _shell_command(embedded_api_command(port, http_server or "granian"))
    return env, [("api", api), ("worker", _shell_command(worker_command(2)))], None


def production_setup(workdir: Path, port: int, postgres: str, redis_url: str, http_server: str = "", api_processes: int | None = None) -> tuple[dict[str, str], list[tuple[str, str]], object]:
    """The compose file's set-up: the entry point's server (granian, as docker-compose.yml sets
    ``HTTP_SERVER``, unless ``http_server`` says gunicorn) with the compose file's processes
    (or ``api_processes``), a 16-thread worker, Redis, PostgreSQL."""
    import redis

    database, drop = fresh_postgres_database(postgres, f"qhana_bench_{os.getpid()}")
    redis.Redis.from_url(redis_url).flushdb()

    env = production_env(workdir / "instance", port, database, redis_url, api_processes=api_processes)
    migrate(env)
    api = _shell_command(production_api_command(env, http_server or "granian"))
    return env, [("api", api), ("worker", _shell_command(worker_command(16, events=True)))], drop


def _at_least_one(text: str) -> int:
    """argparse type: a whole number of at least 1 (0 or less would start no server)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} processes would start no server; give 1 or more")
    return value


def ensure_wrk(install: bool) -> bool:
    if shutil.which("wrk"):
        return True
    if install and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "--yes", "--no-install-recommends", "wrk"], check=False, capture_output=True)
    return shutil.which("wrk") is not None


def run_setup(name: str, args: argparse.Namespace) -> dict[str, object]:
    workdir = Path(tempfile.mkdtemp(prefix=f"qhana-bench-{name}-"))
    port = free_port()
    if name == "embedded":
        env, commands, cleanup = embedded_setup(workdir, port, args.http_server)
    else:
        env, commands, cleanup = production_setup(workdir, port, args.postgres, args.redis, args.http_server, args.api_processes)
    client = [
        PYTHON, str(args.client), "--base-url", f"http://127.0.0.1:{port}", "--label", f"qhana-plugin-runner {name}",
        "--start-cwd", str(workdir), "--start-logs", str(workdir / "logs"),
        "--poll-ms", str(args.poll_ms), "--webhook-poll-ms", "2",
        "--duration", str(args.duration), "--tasks", str(args.tasks), "--burst", str(args.burst),
    ]
    for process_name, command in commands:
        client += ["--start", f"{process_name}={command}"]
    if not args.wrk:
        client.append("--no-wrk")
    if args.only:
        client += ["--only", args.only]
    facts = machine_facts()
    print(f"[run] {name}: {' '.join(shlex.quote(c) for c in client[:4])} ...", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        done = subprocess.run(client, env=env, stdout=subprocess.PIPE, text=True, cwd=workdir)
        order = _burst_order(env) if not args.only or "burst" in args.only.split(",") else None
    finally:
        if callable(cleanup):
            cleanup()
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        report = {"errors": {"client": f"no JSON from the client (exit {done.returncode})"}, "stdout": done.stdout[-2000:]}
    if order is not None and "burst" in report:
        report["burst_order"] = order
    report["setup"] = {
        "name": name,
        "processes": dict(commands),
        "database": "PostgreSQL" if name == "production" else "SQLite",
        "http_server": args.http_server or "granian",  # both set-ups default to granian (make run, docker-compose.yml)
        "api_processes": server_processes(env.get("GUNICORN_WORKERS"), 1) if name == "production" else 1,
        "broker": "Redis" if name == "production" else "filesystem (embedded)",
    }
    report["machine"] = facts
    report["benchmark_seconds"] = round(time.monotonic() - started, 1)
    report["client_exit_status"] = done.returncode
    shutil.rmtree(workdir, ignore_errors=True)
    return report


def _burst_order(env: dict[str, str]) -> dict[str, object]:
    """Whether the burst's tasks finished in submission order (``task_order.py``), read from
    the set-up's database before it is dropped."""
    instance = Path(env["QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER"])
    url = env.get("SQLALCHEMY_DATABASE_URI") or f"sqlite:///{instance / DEFAULT_DATABASE_FILE}"
    try:
        return burst_order(read_task_rows(url))
    except Exception as exc:  # noqa: BLE001  (the figures stand without it)
        return {"error": repr(exc)[:300]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("setup", choices=["embedded", "production", "all"])
    parser.add_argument("--client", type=Path, default=Path(os.environ.get("QHANA_BENCH_CLIENT", DEFAULT_CLIENT)), help="the shared runner_bench.py")
    parser.add_argument("--postgres", default=os.environ.get("QHANA_TEST_POSTGRES_URL", DEFAULT_POSTGRES), help="server to create the benchmark database on")
    parser.add_argument("--redis", default=os.environ.get("QHANA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"), help="Redis database used as broker (flushed)")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--poll-ms", type=float, default=2.0)
    parser.add_argument("--http-server", choices=["granian", "gunicorn"], default="", help="API server (default: what the set-up uses: granian in both, as make run and docker-compose.yml)")
    parser.add_argument("--api-processes", type=_at_least_one, default=None, help="server processes of the production set-up (default: docker-compose.yml's GUNICORN_WORKERS)")
    parser.add_argument("--only", default="", help="phases for the client (default: all)")
    parser.add_argument("--quick", action="store_true", help="short runs: 3 s loads, 20 tasks, burst of 100")
    parser.add_argument("--install-wrk", action="store_true", help="apt-get install wrk when it is missing (root only)")
    parser.add_argument("--rounds", type=_at_least_one, default=1, help="measure the set-ups this many times, alternating; the summary gives each figure's median")
    parser.add_argument("--tag", default="", help="part of the results' file names: <date>-<tag>[-r<round>]-<set-up>.json")
    parser.add_argument("--output", type=Path, default=None, help="results file for one set-up and one round (default: benchmarks/results/<date>[-<tag>]-<set-up>.json)")
    args = parser.parse_args(argv)
    if not args.client.is_file():
        parser.error(f"the shared client is not at {args.client}; give --client or QHANA_BENCH_CLIENT")
    if args.output and (args.setup == "all" or args.rounds > 1):
        parser.error("--output names one file: give one set-up and one round, or use --tag")
    if args.tag and not all(c.isalnum() or c in "-_." for c in args.tag):
        parser.error(f"--tag {args.tag!r}: letters, digits, '-', '_' and '.' only (it becomes part of file names)")
    if args.quick:
        args.duration, args.tasks, args.burst = 3.0, 20, 100
    args.wrk = ensure_wrk(args.install_wrk)
    setups = ["embedded", "production"] if args.setup == "all" else [args.setup]
    status = 0
    RESULTS.mkdir(parents=True, exist_ok=True)
    written = []
    for round_ in range(1, args.rounds + 1):
        for name in setups:
            report = run_setup(name, args)
            target = args.output or RESULTS / result_name(time.strftime("%Y-%m-%d"), args.tag, round_ if args.rounds > 1 else None, name)
            target.write_text(json.dumps(report, indent=1) + "\n")
            written.append(target)
            print(f"[run] {name}: results in {target}", file=sys.stderr)
            status = max(status, int(report.get("client_exit_status", 1) or 0))
    print(render_markdown(summarize(read_results(written))))
    return status


def result_name(date: str, tag: str, round_: int | None, setup: str) -> str:
    """``<date>[-<tag>][-r<round>]-<set-up>.json``"""
    parts = [date, tag, f"r{round_}" if round_ else "", setup]
    return "-".join(part for part in parts if part) + ".json"


if __name__ == "__main__":
    sys.exit(main())
