"""The periodic cleanup: old finished tasks go with their rows and files, new and running ones stay.

Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from qhana_plugin_runner.celery import CELERY
from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.db.models.failures import CeleryTaskFailure
from qhana_plugin_runner.db.models.tasks import (
    ProcessingTask,
    Step,
    TaskFile,
    TaskLink,
    TaskUpdateSubscription,
    utc_now,
)
from qhana_plugin_runner.storage import STORE
from qhana_plugin_runner.tasks.cleanup import (
    CLEANUP_TASK_NAME,
    beat_schedule,
    cleanup_old_tasks,
    remove_old_tasks,
)


@pytest.fixture
def runner_config(runner_config: dict[str, Any], database_url: str) -> dict[str, Any]:
    return {**runner_config, "SQLALCHEMY_DATABASE_URI": database_url, "TASK_RETENTION_DAYS": 7}


def _task_with_files(name: str, finished_days_ago: float | None) -> tuple[int, list[Path]]:
    task = ProcessingTask(name, parameters="{}")
    task.save(commit=True)
    task.add_next_step("http://x/step", "http://x/step/ui", "step-1")
    TaskLink(task, "of-something", "http://x/link")
    TaskUpdateSubscription(task, "http://hooks/x", "http://x/tasks/1/")
    DB.session.commit()
    out = STORE.persist_task_result(task.id, "result", "out.txt", "text", "text/plain")
    temp = STORE.persist_task_temp_file(task.id, b"temp", "scratch.bin")
    if finished_days_ago is not None:
        task.finished_at = utc_now() - timedelta(days=finished_days_ago)
        task.task_status = "SUCCESS"
    DB.session.commit()
    store = STORE["local_filesystem"]
    return task.id, [store.path_of(out.file_storage_data), store.path_of(temp.file_storage_data)]


def _count(model: type, **filters: Any) -> int:
    query = select(func.count()).select_from(model)
    for column, value in filters.items():
        query = query.where(getattr(model, column) == value)
    return DB.session.scalar(query)


def test_old_task_and_its_files_go_new_and_running_stay(app: Flask) -> None:
    old_id, old_files = _task_with_files("old", finished_days_ago=30)
    new_id, new_files = _task_with_files("new", finished_days_ago=1)
    running_id, running_files = _task_with_files("running", finished_days_ago=None)
    ProcessingTask.get_by_id(running_id).started_at = utc_now() - timedelta(days=90)
    DB.session.commit()
    assert all(path.is_file() for path in old_files + new_files + running_files)

    report = remove_old_tasks(timedelta(days=7))

    assert (report.tasks, report.files, report.file_errors) == (1, 2, [])
    DB.session.expire_all()
    assert DB.session.get(ProcessingTask, old_id) is None
    for model, column in ((Step, "id"), (TaskFile, "task_id"), (TaskLink, "task_id"), (TaskUpdateSubscription, "task_id")):
        assert _count(model, **{column: old_id}) == 0, model
        assert _count(model, **{column: new_id}) == (2 if model is TaskFile else 1), model
    assert not any(path.exists() for path in old_files)
    assert not (STORE["local_filesystem"].root / f"task_{old_id}").exists()
    assert all(path.is_file() for path in new_files + running_files)
    assert DB.session.get(ProcessingTask, new_id) is not None
    assert DB.session.get(ProcessingTask, running_id) is not None


def test_dry_run_counts_and_keeps_everything(app: Flask) -> None:
    old_id, old_files = _task_with_files("old", finished_days_ago=30)

    report = remove_old_tasks(timedelta(days=7), dry_run=True)

    assert (report.tasks, report.files) == (1, 2)
    assert DB.session.get(ProcessingTask, old_id) is not None
    assert all(path.is_file() for path in old_files)


def test_batches_cover_every_old_task(app: Flask) -> None:
    ids = [_task_with_files(f"old-{n}", finished_days_ago=10 + n)[0] for n in range(5)]

    report = remove_old_tasks(timedelta(days=7), batch_size=2)

    assert report.tasks == 5
    DB.session.expire_all()
    assert all(DB.session.get(ProcessingTask, task_id) is None for task_id in ids)


def test_a_file_that_cannot_be_removed_is_reported_and_the_rest_goes_on(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    first, _ = _task_with_files("first", finished_days_ago=30)
    second, _ = _task_with_files("second", finished_days_ago=30)
    store = STORE["local_filesystem"]
    original = store.remove_file
    calls: list[str] = []

    def flaky(storage_data: str) -> None:
        calls.append(storage_data)
        if len(calls) == 1:
            raise PermissionError("read-only file system")
        original(storage_data)

    monkeypatch.setattr(store, "remove_file", flaky)
    report = remove_old_tasks(timedelta(days=7))

    assert report.tasks == 2 and len(calls) == 4
    assert len(report.file_errors) == 1 and "read-only file system" in report.file_errors[0]
    DB.session.expire_all()
    assert DB.session.get(ProcessingTask, first) is None and DB.session.get(ProcessingTask, second) is None


def test_old_failure_records_are_removed(app: Flask) -> None:
    DB.session.add(CeleryTaskFailure(celery_task_id="old", task_name="t", error="e", traceback="tb", created_at=utc_now() - timedelta(days=30)))
    DB.session.add(CeleryTaskFailure(celery_task_id="new", task_name="t", error="e", traceback="tb"))
    DB.session.commit()

    report = remove_old_tasks(timedelta(days=7))

    assert report.failure_records == 1
    assert DB.session.get(CeleryTaskFailure, "old") is None
    assert DB.session.get(CeleryTaskFailure, "new") is not None


def test_the_celery_task_uses_the_configured_retention(app: Flask) -> None:
    old_id, _ = _task_with_files("old", finished_days_ago=8)
    new_id, _ = _task_with_files("new", finished_days_ago=6)

    result = cleanup_old_tasks.apply().get()

    assert result["tasks"] == 1
    DB.session.expire_all()
    assert DB.session.get(ProcessingTask, old_id) is None
    assert DB.session.get(ProcessingTask, new_id) is not None


def test_beat_runs_the_cleanup_only_when_retention_is_set(app: Flask) -> None:
    assert [entry["task"] for entry in CELERY.conf.beat_schedule.values()] == [CLEANUP_TASK_NAME]
    assert beat_schedule({"TASK_RETENTION_DAYS": 0}) == {}
    entry = beat_schedule({"TASK_RETENTION_DAYS": 1, "TASK_CLEANUP_INTERVAL": 60})
    assert list(entry.values()) == [{"task": CLEANUP_TASK_NAME, "schedule": 60.0}]
    with pytest.raises(ValueError):
        remove_old_tasks(timedelta(0))


def test_cli_cleanup_dry_run_and_real(app: Flask) -> None:
    import json

    old_id, _ = _task_with_files("old", finished_days_ago=30)
    runner = app.test_cli_runner()

    counted = runner.invoke(args=["tasks", "cleanup", "--dry-run", "--json"])
    assert counted.exit_code == 0, counted.output
    assert json.loads(counted.output)["tasks"] == 1 and json.loads(counted.output)["dryRun"] is True
    assert DB.session.get(ProcessingTask, old_id) is not None

    removed = runner.invoke(args=["tasks", "cleanup", "--older-than-days", "20"])
    assert removed.exit_code == 0 and removed.output.startswith("removed 1 tasks and 2 files")
    DB.session.expire_all()
    assert DB.session.get(ProcessingTask, old_id) is None

    refused = runner.invoke(args=["tasks", "cleanup", "--older-than-days", "0"])
    assert refused.exit_code == 2
