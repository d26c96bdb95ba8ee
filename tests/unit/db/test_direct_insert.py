"""``ProcessingTask(...).save(commit=True)`` of a new task without related rows is one INSERT
(no unit of work), on SQLite and PostgreSQL, and leaves the object as a flush would."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import inspect as sa_inspect

from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.db.models.tasks import ProcessingTask, TaskLink


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
