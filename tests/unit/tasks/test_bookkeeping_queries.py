"""How many SQL statements a task's bookkeeping costs in the worker: every statement is paid by
every task, so the count is pinned here."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.db.models.tasks import ProcessingTask, TaskUpdateSubscription
from qhana_plugin_runner.tasks import bookkeeping, webhooks

from helpers import ROOT, wait_final


@pytest.fixture
def runner_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    return {**runner_config, "PLUGIN_FOLDERS": [str(ROOT / "plugins")]}


@pytest.fixture
def statements(app: Flask) -> Iterator[list[tuple[str, str]]]:
    """(thread name, SQL) of every statement sent while the test runs."""
    seen: list[tuple[str, str]] = []
    engine = DB.engine

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append((threading.current_thread().name, " ".join(statement.split())))

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def _kinds(seen: list[tuple[str, str]]) -> list[str]:
    out = []
    for _, sql in seen:
        verb, _, rest = sql.partition(" ")
        table = rest.split(" FROM ")[-1].split()[0] if verb == "SELECT" else rest.split()[1] if verb in ("INSERT", "DELETE") else rest.split()[0]
        out.append(f"{verb} {table.strip(chr(34))}")
    return out


def test_finishing_a_task_is_one_update_and_one_read_of_its_subscriptions(app: Flask, statements: list[tuple[str, str]]) -> None:
    task = ProcessingTask("plain")
    task.save(commit=True)
    TaskUpdateSubscription(task=task, webhook_href="http://127.0.0.1:9/a", task_href="t", event_type="status").save()
    TaskUpdateSubscription(task=task, webhook_href="http://127.0.0.1:9/b", task_href="t", event_type="details").save(commit=True)
    db_id = task.id
    DB.session.remove()
    started: list[tuple[str, str]] = []
    real_submit = webhooks._POOL.submit
    webhooks._POOL.submit = lambda fn, app_, hook, task_url, kind: started.append((hook, kind))  # type: ignore[method-assign]
    try:
        statements.clear()
        assert bookkeeping.finish_task(db_id, "SUCCESS", "done")
    finally:
        webhooks._POOL.submit = real_submit  # type: ignore[method-assign]
    # the UPDATE says (RETURNING) that the task has no step to clear: no statement for steps
    assert _kinds(statements) == ["UPDATE ProcessingTask", "SELECT TaskUpdateSubscription"], statements
    assert started == [("http://127.0.0.1:9/a", "status"), ("http://127.0.0.1:9/b", "details")]


def test_hello_world_costs_the_worker_four_statements(client: Any, celery_worker: Any, statements: list[tuple[str, str]]) -> None:
    response = client.post("/plugins/hello-world@v0-2-1/process/", data={"inputStr": "count me"})
    assert wait_final(client, response.headers["Location"])["status"] == "SUCCESS"
    worker = [(name, sql) for name, sql in statements if name != threading.main_thread().name]
    assert _kinds(worker) == [
        "SELECT ProcessingTask",  # demo_task reads its parameters
        "INSERT TaskFile",  # (no look for an earlier run's file: this run is not repeated)
        "UPDATE ProcessingTask",  # save-result, in the same worker thread
        "SELECT TaskUpdateSubscription",
    ], worker
