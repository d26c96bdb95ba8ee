#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Scale checks against a running runner: a million tasks, a thousand virtual plugins, 1 GB files.

    .venv/bin/python benchmarks/scale.py                  # all three checks
    .venv/bin/python benchmarks/scale.py tasks plugins    # some of them
    .venv/bin/python benchmarks/scale.py --quick          # 100,000 tasks, 128 MiB files, fewer requests

``tasks``: ``GET /tasks/<id>/`` at concurrency 1 against two runners side by side, one on a
nearly empty database and one whose task tables hold ``--rows`` finished tasks (with outputs,
steps, links and logs), measured in alternating rounds; the filled figure must stay within
20 % of the empty one. Ids are spread over the whole table
and each is asked for once (the API keeps finished tasks' answers for 60 s, which would hide
the database); the cached figure (the same few ids again and again) is reported beside it.
PostgreSQL (the compose server: GUNICORN_WORKERS processes, `auto` = one per two CPUs, x 8
threads) and SQLite (make run's server, 1 x 8).

``plugins``: ``GET /plugins/`` with 1,000 virtual plugins in the table: p50 at most 10 ms.

``files``: the ``scale-files`` benchmark plugin (``benchmarks/scale_plugins/``) writes a 1 GiB
result file in a Celery worker through the storage API; it is downloaded through
``/files/<id>/?file-id=...``, and a 1 GiB multipart upload (with Content-Length, and chunked)
is sent to the plugin's process endpoint. The API processes' resident memory (summed over
the server's main process and workers, read from /proc) must grow by less than 50 MB during each.
``MAX_CONTENT_LENGTH`` is raised for this check only.

Each check starts its own runner on a fresh PostgreSQL database (created on
``QHANA_TEST_POSTGRES_URL`` or ``--postgres`` and dropped afterwards) or SQLite file, with Redis
database 13 (``--redis``, flushed) as broker. Results, with the machine's facts and the commit,
go to ``benchmarks/results/<date>-scale.json`` (``-scale-quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench_common import DEFAULT_POSTGRES, RESULTS, machine_facts
from scale_files import check_files
from scale_harness import Database, Runner, log, measure, summarize

CHECKS = ("tasks", "plugins", "files")
DATABASES = ("postgresql", "sqlite")
PRESETS_PARENT = "presets@v0-1-0"


# --------------------------------------------------------------------------- check 1: tasks


def _fill_statements(kind: str) -> list[str]:
    """INSERT ... SELECT statements that create finished tasks :lo..:hi (ids fixed by the series)
    with one output each, and on every 10th task two steps, a temp file and a link."""
    if kind == "postgresql":
        series = "generate_series(CAST(:lo AS INTEGER), CAST(:hi AS INTEGER)) AS s(i)"
        prefix, source = "", series
        json_empty, nl, ts = "CAST('{}' AS JSON)", "chr(10)", "TIMESTAMPTZ '2026-01-01 00:00:00+00'"
    else:
        prefix = "WITH RECURSIVE s(i) AS (SELECT :lo UNION ALL SELECT i + 1 FROM s WHERE i < :hi) "
        source = "s"
        json_empty, nl, ts = "'{}'", "char(10)", "'2026-01-01 00:00:00.000000'"
    return [
        prefix + 'INSERT INTO "ProcessingTask" (id, task_name, started_at, finished_at, parameters, data, multi_step, current_step, '
        "progress_value, progress_start, progress_target, progress_unit, task_status, task_log) "
        f"SELECT i, 'hello-world@v0-2-1.demo_task', {ts}, {ts}, '{{\"input_str\": \"row ' || i || '\"}}', {json_empty}, "
        "(i % 10 = 0), CASE WHEN i % 10 = 0 THEN 1 ELSE -1 END, CASE WHEN i % 2 = 0 THEN 100 ELSE NULL END, 0, 100, '%', "
        f"CASE WHEN i % 50 = 0 THEN 'FAILURE' ELSE 'SUCCESS' END, 'task ' || i || ' started' || {nl} || 'working on the input' || {nl} || 'done' "
        f"FROM {source}",
        prefix + 'INSERT INTO "Step" (id, number, step_id, href, ui_href, cleared) '
        "SELECT i, n, 'step-' || n, 'http://127.0.0.1:5005/plugins/hello-world-multi-step@v0-1-0/step/' || i || '/' || n || '/', "
        "'http://127.0.0.1:5005/plugins/hello-world-multi-step@v0-1-0/ui-step/' || i || '/' || n || '/', TRUE "
        f"FROM {source} CROSS JOIN (SELECT 0 AS n UNION ALL SELECT 1 AS n) AS k WHERE i % 10 = 0",
        prefix + 'INSERT INTO "TaskFile" (task_id, security_tag, storage_provider, file_name, file_storage_data, file_type, mimetype, created_at) '
        f"SELECT i, 'tag-' || i, 'local_filesystem', 'out.txt', 'task_' || i || '/out/out.txt', 'custom/hello-world-output', 'text/plain', {ts} "
        f"FROM {source}",
        prefix + 'INSERT INTO "TaskFile" (task_id, security_tag, storage_provider, file_name, file_storage_data, file_type, mimetype, created_at) '
        f"SELECT i, 'tmp-' || i, 'local_filesystem', 'state.json', 'task_' || i || '/tmp/state.json', 'temp-file', 'application/json', {ts} "
        f"FROM {source} WHERE i % 10 = 0",
        prefix + 'INSERT INTO "TaskLink" (task_id, type, href) '
        f"SELECT i, 'dashboard', 'http://127.0.0.1:5005/dashboard/' || i FROM {source} WHERE i % 10 = 0",
    ]


def fill_tasks(db: Database, first: int, last: int, batch: int = 100_000) -> float:
    """Insert finished tasks ``first``..``last``; returns the seconds it took."""
    import sqlalchemy as sa

    statements = [sa.text(sql) for sql in _fill_statements(db.kind)]
    started = time.monotonic()
    for lo in range(first, last + 1, batch):
        hi = min(last, lo + batch - 1)
        with db.engine.begin() as conn:
            for statement in statements:
                conn.execute(statement, {"lo": lo, "hi": hi})
        if last - first > batch:
            log(f"  {db.kind}: tasks up to {hi:,} ({time.monotonic() - started:.0f} s)")
    with db.engine.begin() as conn:
        if db.kind == "postgresql":
            conn.exec_driver_sql("""SELECT setval(pg_get_serial_sequence('"ProcessingTask"', 'id'), (SELECT max(id) FROM "ProcessingTask"))""")
    # statistics as autovacuum / a periodic ANALYZE would have them in a long-running database
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    return round(time.monotonic() - started, 1)


def table_counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {table: int(conn.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar() or 0) for table in ("ProcessingTask", "Step", "TaskFile", "TaskLink")}


def check_tasks(kind: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Two runners side by side, one on a nearly empty database and one on ``--rows`` tasks,
    measured in alternating rounds (empty, filled, filled, empty, ...): this machine's speed
    drifts by tens of percent within minutes, more than a filled table changes a read, and
    rounds taken minutes apart compared the hours rather than the tables."""
    rng = random.Random(20261123)
    dbs: dict[str, Database] = {}
    runners: dict[str, Runner] = {}
    try:
        base = args.rounds * args.requests * 2 + 100  # as main() checks --rows against
        seen: dict[str, set[int]] = {"empty": set(), "filled": set()}

        def distinct(which: str, upper: int, count: int) -> list[int]:
            picked: list[int] = []
            while len(picked) < count:
                candidate = rng.randint(1, upper)
                if candidate not in seen[which]:
                    seen[which].add(candidate)
                    picked.append(candidate)
            return picked

        fill_seconds: dict[str, float] = {}
        for which, rows in (("empty", base), ("filled", args.rows)):
            dbs[which] = Database(kind, args, workdir / which, f"tasks_{which}")
            runners[which] = Runner(workdir / which, dbs[which].url, redis_url=args.redis, worker=False)
            log(f"tasks/{kind}: {which}: {runners[which].setup}; filling to {rows:,} tasks")
            fill_seconds[which] = fill_tasks(dbs[which], 1, rows)
        uppers = {"empty": base, "filled": args.rows}
        hot = {which: [f"/tasks/{i}/" for i in distinct(which, uppers[which], 20)] for which in uppers}
        uncached: dict[str, list[dict[str, Any]]] = {"empty": [], "filled": []}
        cached: dict[str, list[dict[str, Any]]] = {"empty": [], "filled": []}
        for round_ in range(args.rounds):
            for which in ("empty", "filled") if round_ % 2 == 0 else ("filled", "empty"):
                paths = [f"/tasks/{i}/" for i in distinct(which, uppers[which], args.requests)]
                uncached[which].append(measure(runners[which], paths, warm=["/plugins/"]))
                cached[which].append(measure(runners[which], [hot[which][n % 20] for n in range(args.requests)], warm=hot[which]))
            log(f"tasks/{kind}: round {round_ + 1}: uncached p50 {uncached['empty'][-1]['p50_ms']} ms empty, {uncached['filled'][-1]['p50_ms']} ms filled")
        phases = {
            which: {"uncached_distinct_ids": summarize(uncached[which]), "cached_same_ids": summarize(cached[which]), "rows": table_counts(dbs[which])}
            for which in ("empty", "filled")
        }
        e, f = phases["empty"]["uncached_distinct_ids"], phases["filled"]["uncached_distinct_ids"]
        log(f"tasks/{kind}: nearly empty: uncached p50 {e['p50_ms']} ms, {e['req_per_s']} req/s")
        log(f"tasks/{kind}: {args.rows:,} tasks: uncached p50 {f['p50_ms']} ms, {f['req_per_s']} req/s")
        p50_ratio = round(f["p50_ms"] / e["p50_ms"], 3)
        rate_ratio = round(f["req_per_s"] / e["req_per_s"], 3)
        return {
            "setup": runners["filled"].setup,
            "method": "two runners, one per database, measured in alternating rounds",
            "nearly_empty": phases["empty"],
            "filled": phases["filled"],
            "fill_seconds": {"base": fill_seconds["empty"], "rest": fill_seconds["filled"]},
            "filled_vs_empty_uncached": {"p50_ratio": p50_ratio, "req_per_s_ratio": rate_ratio},
            "target": "filled p50 and req/s within 20 % of the nearly empty figures (uncached)",
            "passed": p50_ratio <= 1.2 and rate_ratio >= 0.8,
        }
    finally:
        for runner in runners.values():
            runner.stop()
        for db in dbs.values():
            db.close()


# --------------------------------------------------------------------------- check 2: plugins


def check_plugins(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    import sqlalchemy as sa

    db = Database("postgresql", args, workdir, "plugins")
    runner: Runner | None = None
    try:
        runner = Runner(workdir, db.url, redis_url=args.redis, worker=False)
        log(f"plugins: {runner.setup}")
        paths = ["/plugins/"] * args.requests
        without = [measure(runner, paths, warm=paths[:20]) for _ in range(args.rounds)]
        rows = [
            {
                "parent_id": PRESETS_PARENT,
                "name": f"preset-{n:04d}",
                "version": "v1",
                "description": f"Hello world with preset number {n}, saved by a user of the presets plugin.",
                "tags": "hello-world\npreset",
                "href": f"http://127.0.0.1:{runner.port}/plugins/{PRESETS_PARENT}/presets/p{n:04d}/",
            }
            for n in range(args.virtual_plugins)
        ]
        insert = sa.text('INSERT INTO "VirtualPlugin" (parent_id, name, version, description, tags, href) VALUES (:parent_id, :name, :version, :description, :tags, :href)')
        with db.engine.begin() as conn:
            conn.execute(insert, rows)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql('ANALYZE "VirtualPlugin"')
        # rows written by another process are listed once the plugin list's cache expires
        # (PLUGIN_LIST_CACHE_SECONDS, 1 s): measure the list that shows them
        deadline = time.monotonic() + 30
        while (listed := listed_plugins(runner)) < args.virtual_plugins and time.monotonic() < deadline:
            time.sleep(0.2)
        with_virtual = [measure(runner, paths, warm=paths[:20]) for _ in range(args.rounds)]
        listed = listed_plugins(runner)
        result_with = summarize(with_virtual)
        log(f"plugins: {args.virtual_plugins} virtual plugins: p50 {result_with['p50_ms']} ms ({listed} entries)")
        return {
            "setup": runner.setup,
            "virtual_plugins": args.virtual_plugins,
            "entries_listed": listed,
            "without_virtual_plugins": summarize(without),
            "with_virtual_plugins": result_with,
            "target": "p50 <= 10 ms with 1,000 virtual plugins",
            "passed": result_with["p50_ms"] <= 10.0 and listed >= args.virtual_plugins,
        }
    finally:
        if runner is not None:
            runner.stop()
        db.close()


def listed_plugins(runner: Runner) -> int:
    with urllib.request.urlopen(runner.url("/plugins/"), timeout=30) as response:
        return len(json.loads(response.read())["plugins"])


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checks", nargs="*", help="tasks, plugins, files (default: all)")
    parser.add_argument("--quick", action="store_true", help="100,000 tasks, 128 MiB files, 300 requests per round")
    parser.add_argument("--postgres", default=os.environ.get("QHANA_TEST_POSTGRES_URL", DEFAULT_POSTGRES), help="server to create the benchmark databases on")
    parser.add_argument("--redis", default=os.environ.get("QHANA_SCALE_REDIS_URL", "redis://127.0.0.1:6379/13"), help="Redis database used as broker (flushed)")
    parser.add_argument("--databases", default="postgresql,sqlite", help="for the tasks check: postgresql, sqlite or both")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=1000, help="requests per measuring round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--virtual-plugins", type=int, default=1000)
    parser.add_argument("--file-mb", type=int, default=1024)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds a file task or upload may take")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    unknown = set(args.checks) - set(CHECKS)
    if unknown:
        parser.error(f"unknown checks {sorted(unknown)}; choose from {', '.join(CHECKS)}")
    if args.quick:
        args.rows, args.requests, args.file_mb = 100_000, 300, 128
    kinds = [kind for kind in args.databases.split(",") if kind]
    if not kinds or set(kinds) - set(DATABASES):
        parser.error(f"--databases {args.databases!r}: give postgresql, sqlite or both, comma-separated")
    for name in ("rows", "requests", "rounds", "virtual_plugins", "file_mb"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    nearly_empty = args.rounds * args.requests * 2 + 100  # the tasks check's smaller database
    if "tasks" in (args.checks or CHECKS) and args.rows <= nearly_empty:
        parser.error(f"--rows {args.rows}: the filled database must hold more than the nearly empty one ({nearly_empty:,} tasks)")
    checks = [c for c in CHECKS if c in args.checks] or list(CHECKS)
    report: dict[str, Any] = {"machine": machine_facts(), "arguments": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}, "checks": {}}
    started = time.monotonic()
    workroot = Path(tempfile.mkdtemp(prefix="qhana-scale-"))
    try:
        for check in checks:
            try:
                if check == "tasks":
                    report["checks"]["tasks"] = {kind: check_tasks(kind, args, workroot / f"tasks-{kind}") for kind in kinds}
                elif check == "plugins":
                    report["checks"]["plugins"] = check_plugins(args, workroot / "plugins")
                else:
                    report["checks"]["files"] = check_files(args, workroot / "files")
            except Exception as err:  # noqa: BLE001 - recorded, the other checks still run
                log(f"{check}: failed: {err!r}")
                report["checks"][check] = {"error": repr(err), "passed": False}
    finally:
        shutil.rmtree(workroot, ignore_errors=True)
    passed = {}
    for name, result in report["checks"].items():
        if name == "tasks" and "error" not in result:
            for kind, figures in result.items():
                passed[f"tasks/{kind}"] = figures["passed"]
        else:
            passed[name] = result["passed"]
    report["passed"] = passed
    report["benchmark_seconds"] = round(time.monotonic() - started, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = args.output or RESULTS / f"{time.strftime('%Y-%m-%d')}-scale{'-quick' if args.quick else ''}.json"
    target.write_text(json.dumps(report, indent=1) + "\n")
    log(f"passed: {passed}; results in {target}")
    return 0 if all(passed.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
