"""``ProcessingTask(...).save(commit=True)`` of a new task without related rows is one INSERT
(no unit of work), on SQLite and PostgreSQL, and leaves the object as a flush would; with nothing
else to commit it commits itself (autocommit), otherwise it joins the session's transaction. A
task's result file stored with ``commit=True`` is one INSERT in the same way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.db.models.tasks import ProcessingTask, TaskFile, TaskLink
from qhana_plugin_runner.storage import STORE, LocalFileStore


@pytest.fixture
def runner_config(runner_config: dict[str, Any], database_url: str) -> dict[str, Any]:
    return {**runner_config, "SQLALCHEMY_DATABASE_URI": database_url}


def _verbs(statements: list[str]) -> list[str]:
    return [statement.split()[0].upper() for statement in statements]


def test_a_new_task_is_one_insert_and_keeps_its_id_and_values(statements: list[str]) -> None:
    task = ProcessingTask("direct", parameters='{"a": 1}', data={"k": [1, 2]})
    task.save(commit=True)
    assert _verbs(statements) == ["INSERT"], statements
    assert sa_inspect(task).persistent and isinstance(task.id, int)
    assert _verbs(statements) == ["INSERT"], "reading the id costs no SELECT"
    first = task.id
    other = ProcessingTask("direct")
    other.save(commit=True)
    assert other.id == first + 1

    DB.session.remove()
    stored = DB.session.get(ProcessingTask, first)
    assert stored is not None
    assert (stored.task_name, stored.parameters, stored.data, stored.status) == ("direct", '{"a": 1}', {"k": [1, 2]}, "PENDING")
    assert stored.started_at is not None and stored.progress_target == 100 and stored.task_log == ""


def test_the_saved_task_tracks_later_changes(statements: list[str]) -> None:
    task = ProcessingTask("direct", data={"k": 1})
    task.save(commit=True)
    task.data["more"] = True  # a mutation inside the JSON value
    task.task_log = "changed"
    DB.session.commit()
    task_id = task.id
    DB.session.remove()
    stored = DB.session.get(ProcessingTask, task_id)
    assert stored.data == {"k": 1, "more": True} and stored.task_log == "changed"


def test_a_task_with_related_rows_goes_through_the_unit_of_work(statements: list[str]) -> None:
    task = ProcessingTask("with-step")
    task.add_next_step(href="http://x/s", ui_href="http://x/u", step_id="one")
    TaskLink(task=task, type="custom", href="http://x/link")
    task.save(commit=True)
    assert _verbs(statements).count("INSERT") == 3, statements  # task, step, link
    task_id = task.id
    DB.session.remove()
    stored = DB.session.get(ProcessingTask, task_id)
    assert [step.step_id for step in stored.steps] == ["one"]
    assert [link.href for link in stored.links] == ["http://x/link"]


def test_without_commit_the_task_is_only_added(statements: list[str]) -> None:
    task = ProcessingTask("pending")
    task.save()
    assert _verbs(statements) == [] and task in DB.session.new
    DB.session.commit()
    assert isinstance(task.id, int)


@pytest.fixture
def autocommit_flags(app: Flask) -> Iterator[list[tuple[str, bool]]]:
    """(verb, whether the DBAPI connection was in autocommit mode) of every statement."""
    flags: list[tuple[str, bool]] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        dbapi_connection = cursor.connection
        autocommit = getattr(dbapi_connection, "autocommit", None)
        if not isinstance(autocommit, bool):  # sqlite3 before Python 3.12: isolation_level None
            autocommit = dbapi_connection.isolation_level is None
        flags.append((statement.split()[0].upper(), autocommit))

    event.listen(DB.engine, "before_cursor_execute", record)
    yield flags
    event.remove(DB.engine, "before_cursor_execute", record)


def test_with_nothing_else_to_commit_the_insert_commits_itself(autocommit_flags: list[tuple[str, bool]]) -> None:
    task = ProcessingTask("alone")
    task.save(commit=True)
    assert autocommit_flags == [("INSERT", True)]  # no BEGIN and COMMIT around it
    DB.session.remove()
    assert DB.session.get(ProcessingTask, task.id) is not None


def test_other_pending_changes_are_committed_with_the_task(autocommit_flags: list[tuple[str, bool]]) -> None:
    earlier = ProcessingTask("added-before")
    earlier.save()  # pending in the session, not committed
    task = ProcessingTask("saved")
    task.save(commit=True)
    assert [autocommit for _verb, autocommit in autocommit_flags] == [False, False], autocommit_flags
    ids = (earlier.id, task.id)
    DB.session.remove()
    assert [DB.session.get(ProcessingTask, task_id).task_name for task_id in ids] == ["added-before", "saved"]


def test_inside_an_open_transaction_the_insert_joins_it(autocommit_flags: list[tuple[str, bool]]) -> None:
    existing = ProcessingTask("existing")
    existing.save(commit=True)
    DB.session.remove()
    ProcessingTask.get_by_id(existing.id)  # a read: the session's transaction has begun
    del autocommit_flags[:]
    task = ProcessingTask("joined")
    task.save(commit=True)
    assert autocommit_flags == [("INSERT", False)]
    task_id = task.id
    DB.session.remove()
    assert DB.session.get(ProcessingTask, task_id).task_name == "joined"


def test_a_result_file_is_one_insert_without_the_unit_of_work(statements: list[str]) -> None:
    task = ProcessingTask("with-result")
    task.save(commit=True)
    task_id, before = task.id, len(statements)
    flushes: list[int] = []

    def flushing(session: Any, context: Any, instances: Any) -> None:
        flushes.append(len(session.new) + len(session.dirty))

    event.listen(Session, "before_flush", flushing)
    try:
        info = STORE.persist_task_result(task_id, "result text", "one.txt", "custom/text", "text/plain")
        assert _verbs(statements[before:]) == ["INSERT"] and flushes == []
        assert info.task is task and isinstance(info.id, int)
        assert _verbs(statements[before:]) == ["INSERT"], "the task and the id are known without a SELECT"
    finally:
        event.remove(Session, "before_flush", flushing)
    file_id = info.id
    DB.session.remove()
    stored = DB.session.get(TaskFile, file_id)
    assert stored is not None
    assert (stored.task_id, stored.file_name, stored.file_type, stored.mimetype) == (task_id, "one.txt", "custom/text", "text/plain")
    assert len(stored.security_tag) >= 40 and stored.celery_task_id is None
    store = STORE[stored.storage_provider]
    assert isinstance(store, LocalFileStore)
    assert store.path_of(stored.file_storage_data).read_text() == "result text"
    assert [f.id for f in TaskFile.get_task_result_files(task_id)] == [file_id]


def test_a_result_file_without_commit_waits_for_the_callers_commit(statements: list[str]) -> None:
    task = ProcessingTask("with-later-result")
    task.save(commit=True)
    info = STORE.persist_task_result(task.id, "later", "later.txt", "custom/text", "text/plain", commit=False)
    assert info in DB.session.new
    DB.session.commit()
    assert [f.file_name for f in TaskFile.get_task_result_files(task.id)] == ["later.txt"]
