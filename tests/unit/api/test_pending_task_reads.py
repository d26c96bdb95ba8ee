"""A pending task's ``GET /tasks/<id>/`` is read with plain column queries: the same body as
the ORM representation, in three statements, for every shape of task."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from qhana_plugin_runner.api.tasks_api import pending_task_representation, task_representation
from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.db.models.tasks import ProcessingTask, TaskLink, utc_now


def _plain() -> ProcessingTask:
    return ProcessingTask("plain", parameters="{}")


def _with_progress() -> ProcessingTask:
    task = ProcessingTask("progress", parameters="{}")
    task.progress_start, task.progress_target, task.progress_value, task.progress_unit = 0, 7.5, 2.25, "steps"
    task.task_log = "line one\nline two"
    return task


def _with_steps_and_links() -> ProcessingTask:
    task = ProcessingTask("steps", parameters="{}", multi_step=True)
    task.add_next_step(href="http://h/step1", ui_href="http://h/step1-ui", step_id="one")
    task.save()
    DB.session.flush()
    task.clear_previous_step()
    task.add_next_step(href="http://h/step2", ui_href=None, step_id="two")
    TaskLink(task, "plugin", "http://h/p1")
    TaskLink(task, "result", "http://h/r1")
    return task


@pytest.mark.parametrize("build", [_plain, _with_progress, _with_steps_and_links])
def test_same_body_as_the_orm_representation(app: Flask, build: Any) -> None:
    task = build()
    task.save(commit=True)
    with app.test_request_context():
        fast = pending_task_representation(task.id)
        DB.session.expire_all()
        assert fast == task_representation(DB.session.get(ProcessingTask, task.id))


def test_finished_tasks_take_the_cached_path_and_missing_ones_404(app: Flask, client: Any) -> None:
    task = _plain()
    task.finished_at, task.task_status = utc_now(), "SUCCESS"
    task.save(commit=True)
    with app.test_request_context():
        assert pending_task_representation(task.id) is None
    response = client.get(f"/tasks/{task.id + 1}/")
    assert response.status_code == 404 and response.get_json()["message"] == "Task not found."


def test_a_pending_poll_costs_three_statements(app: Flask, client: Any) -> None:
    task = _with_steps_and_links()
    task.save(commit=True)
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(DB.engine, "before_cursor_execute", record)
    try:
        body = client.get(f"/tasks/{task.id}/").get_json()
    finally:
        event.remove(DB.engine, "before_cursor_execute", record)
    assert body["status"] == "PENDING" and [s["stepId"] for s in body["steps"]] == ["one", "two"]
    assert [link["type"] for link in body["links"]] == ["subscribe", "events", "plugin", "result"]
    assert len(statements) == 3, statements
