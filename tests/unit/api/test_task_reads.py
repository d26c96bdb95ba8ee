"""``GET /tasks/<id>/`` is read with plain column queries: the same body as the ORM
representation for every shape of task, pending or finished, on SQLite and PostgreSQL, in one
statement (task, steps, links and result files together)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy import inspect as sa_inspect

from qhana_plugin_runner.api.tasks_api import read_task_representation, task_representation
from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.db.models.tasks import ProcessingTask, TaskFile, TaskLink, utc_now
from qhana_plugin_runner.storage import STORE


@pytest.fixture
def runner_config(runner_config: dict[str, Any], database_url: str) -> dict[str, Any]:
    return {**runner_config, "SQLALCHEMY_DATABASE_URI": database_url}


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


def _finished(status: str | None) -> Any:
    def build() -> ProcessingTask:
        task = _with_steps_and_links()
        task.finished_at, task.task_status = utc_now(), status
        task.add_task_log_entry("done")
        for name, file_type, mimetype in [("out.txt", "entity/list", "text/plain"), ("tmp.bin", "temp-file", None), ("b.json", "custom/x", "application/json")]:
            TaskFile(task=task, security_tag=f"tag-{name}", storage_provider="local_filesystem", file_name=name, file_storage_data=f"task/{name}", file_type=file_type, mimetype=mimetype)
        return task

    return build


@pytest.mark.parametrize("build", [_plain, _with_progress, _with_steps_and_links, _finished("SUCCESS"), _finished("FAILURE"), _finished(None)])
def test_same_body_as_the_orm_representation(app: Flask, build: Any) -> None:
    task = build()
    task.save(commit=True)
    with app.test_request_context():
        fast, finished = read_task_representation(task.id)
        DB.session.expire_all()
        orm = DB.session.get(ProcessingTask, task.id)
        assert fast == task_representation(orm)
        assert finished is orm.is_finished
    if finished:
        assert fast["status"] == (orm.task_status or "UNKNOWN")
        assert [output["name"] for output in fast["outputs"]] == ["out.txt", "b.json"]  # not the temp file
    else:
        assert fast["status"] == "PENDING" and fast["outputs"] == []


def test_the_file_store_gets_each_result_file_as_stored(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    task = _finished("SUCCESS")()
    task.outputs[0].celery_task_id = "celery-1"
    task.save(commit=True)
    handed: list[TaskFile] = []
    real = STORE.get_task_file_url
    monkeypatch.setattr(STORE, "get_task_file_url", lambda info, external=True: handed.append(info) or real(info, external))
    columns = [c.key for c in TaskFile.__table__.columns]
    with app.test_request_context():
        read_task_representation(task.id)
        DB.session.expire_all()
        stored = TaskFile.get_task_result_files(task.id)
        assert [{c: getattr(f, c) for c in columns} for f in handed] == [{c: getattr(f, c) for c in columns} for f in stored]
    assert handed[0].celery_task_id == "celery-1" and not sa_inspect(handed[0]).modified


def test_a_pending_task_lists_no_outputs_even_with_files(app: Flask) -> None:
    task = _finished(None)()
    task.finished_at = None
    task.save(commit=True)
    with app.test_request_context():
        body, finished = read_task_representation(task.id)
    assert not finished and body["status"] == "PENDING" and body["outputs"] == []


def test_a_missing_task_is_404(app: Flask, client: Any) -> None:
    task = _plain()
    task.save(commit=True)
    response = client.get(f"/tasks/{task.id + 1}/")
    assert response.status_code == 404 and response.get_json()["message"] == "Task not found."


def test_a_pending_poll_costs_one_statement(app: Flask, client: Any) -> None:
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
    assert len(statements) == 1, statements


def test_the_first_read_of_a_finished_task_costs_one_statement_then_none(app: Flask, client: Any) -> None:
    task = _finished("SUCCESS")()
    task.save(commit=True)
    task_id = task.id  # read before counting: the commit expired the test's own object
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(DB.engine, "before_cursor_execute", record)
    try:
        first = client.get(f"/tasks/{task_id}/")
        counted = len(statements)
        again = client.get(f"/tasks/{task_id}/")
    finally:
        event.remove(DB.engine, "before_cursor_execute", record)
    assert first.get_json()["status"] == "SUCCESS" and len(first.get_json()["outputs"]) == 2
    assert counted == 1, statements  # task, steps, links and result files together
    assert again.get_json() == first.get_json() and again.headers["ETag"] == first.headers["ETag"]
    assert len(statements) == 1  # the finished answer is served from the cache


def test_a_fresh_process_reads_a_finished_task_before_any_orm_query(tmp_path: Any) -> None:
    """The first request of a new API process may be a finished task's read: the result
    files are built as TaskFile objects before anything else has configured the mappers."""
    import os
    import subprocess
    import sys

    code = (
        "import pathlib, sqlalchemy as sa\n"
        "from qhana_plugin_runner.testing import build_app, make_test_config\n"
        "from qhana_plugin_runner.db.db import DB\n"
        f"app = build_app(make_test_config(pathlib.Path({str(tmp_path / 'instance')!r})))\n"
        "with app.app_context(), DB.engine.begin() as conn:\n"
        "    conn.execute(sa.text(\"INSERT INTO \\\"ProcessingTask\\\" (id, task_name, started_at, finished_at, parameters, data, multi_step, current_step, progress_start, progress_target, progress_unit, task_status, task_log) VALUES (1, 't', '2026-01-01 00:00:00', '2026-01-01 00:00:01', '{}', '{}', 0, -1, 0, 100, '%', 'SUCCESS', 'done')\"))\n"
        "    conn.execute(sa.text(\"INSERT INTO \\\"TaskFile\\\" (task_id, security_tag, storage_provider, file_name, file_storage_data, file_type, mimetype, created_at) VALUES (1, 'tag', 'local_filesystem', 'out.txt', 'task_1/out/out.txt', 'custom/x', 'text/plain', '2026-01-01 00:00:01')\"))\n"
        "answer = app.test_client().get('/tasks/1/')\n"
        "print(answer.status_code, [o['name'] for o in answer.get_json().get('outputs', [])])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QHANA_PLUGIN_RUNNER_", "SQLALCHEMY_", "BROKER_URL", "PLUGIN_FOLDERS"))}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split("\n")[-2] == "200 ['out.txt']", done.stdout[-2000:] + done.stderr[-2000:]
