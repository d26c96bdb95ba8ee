"""The runner's bookkeeping tasks while the database or the broker is away: they are tried
again until the database is back, and a task whose end cannot be sent ends FAILURE."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.exc import OperationalError

from qhana_plugin_runner.db.models.tasks import ProcessingTask
from qhana_plugin_runner.errors import BrokerUnavailable
from qhana_plugin_runner.tasks import bookkeeping, save_task_result
from qhana_plugin_runner.testing import build_app, dispose, make_test_config

from helpers import poll


def test_save_result_waits_for_the_database(app: Flask, client: Any, celery_worker: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    task = ProcessingTask("db-away")
    task.save(commit=True)
    real_finish = bookkeeping.finish_task
    calls: list[int] = []

    def database_away_twice(db_id: int, status: str, log: str | None) -> bool:
        calls.append(db_id)
        if len(calls) <= 2:
            raise OperationalError("UPDATE", {}, Exception("connection refused"))
        return real_finish(db_id, status, log)

    monkeypatch.setattr(bookkeeping, "finish_task", database_away_twice)
    save_task_result.delay("done", db_id=task.id)
    body = poll(lambda: client.get(f"/tasks/{task.id}/").get_json(), lambda b: b["status"] != "PENDING", timeout=30)
    assert body["status"] == "SUCCESS" and body["log"] == "done"
    assert len(calls) == 3


def test_bookkeeping_tasks_retry_only_database_errors() -> None:
    for task in (bookkeeping.save_task_result, bookkeeping.save_task_error, bookkeeping.add_step):
        assert OperationalError in task.autoretry_for
        assert task.max_retries == 12 and task.retry_backoff_max == 30


def test_an_end_that_cannot_be_sent_from_a_worker_fails_the_task(tmp_path: Path) -> None:
    # Celery sends a chain's next task after the task body, outside the task's app context
    config = make_test_config(tmp_path / "instance")
    config["CELERY"] = {**config["CELERY"], "broker_url": "redis://127.0.0.1:1/0", "result_backend": None}
    app = build_app(config)
    try:
        with app.app_context():
            task = ProcessingTask("unsent")
            task.save(commit=True)
            db_id = task.id
        with pytest.raises(BrokerUnavailable):
            save_task_result.apply_async(("done",), {"db_id": db_id})
        with app.app_context():
            task = ProcessingTask.get_by_id(db_id)
            assert task.status == "FAILURE"
            assert "Could not send task qhana-plugin-runner.save-result" in task.task_log
    finally:
        dispose(app)
