"""``finish_task`` on SQLite and PostgreSQL: what the final UPDATE writes (status, time, log line,
progress, the open step), which signals it sends, and that a finished task never changes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.db.models.tasks import ProcessingTask
from qhana_plugin_runner.errors import TaskNotFound
from qhana_plugin_runner.tasks import bookkeeping
from qhana_plugin_runner.tasks.signals import (
    TASK_DETAILS_CHANGED,
    TASK_STATUS_CHANGED,
    TASK_STEPS_CHANGED,
)


@pytest.fixture
def runner_config(runner_config: dict[str, Any], database_url: str) -> dict[str, Any]:
    return {**runner_config, "SQLALCHEMY_DATABASE_URI": database_url}


@pytest.fixture
def sent(app: Flask) -> Iterator[list[str]]:
    """Names of the signals sent, in order."""
    names: list[str] = []
    receivers = {signal: (lambda _sender, name=signal.name, **_: names.append(name)) for signal in (TASK_STATUS_CHANGED, TASK_DETAILS_CHANGED, TASK_STEPS_CHANGED)}
    for signal, receiver in receivers.items():
        signal.connect(receiver)
    yield names
    for signal, receiver in receivers.items():
        signal.disconnect(receiver)


def _task(**values: Any) -> int:
    task = ProcessingTask("t", parameters="{}")
    for key, value in values.items():
        setattr(task, key, value)
    task.save(commit=True)
    return task.id


def _read(task_id: int) -> ProcessingTask:
    DB.session.remove()
    task = DB.session.get(ProcessingTask, task_id)
    assert task is not None
    return task


def test_success_sets_status_time_and_appends_the_log_line(sent: list[str]) -> None:
    task_id = _task(task_log="started")
    assert bookkeeping.finish_task(task_id, "SUCCESS", "result: 'x'")
    task = _read(task_id)
    assert task.status == "SUCCESS" and task.finished_at is not None
    assert task.task_log == "started\nresult: 'x'"
    assert task.progress_value is None, "a task without progress gets none"
    assert sent == [TASK_STATUS_CHANGED.name, TASK_DETAILS_CHANGED.name]


def test_an_empty_log_gets_the_line_alone_and_no_line_keeps_the_log(sent: list[str]) -> None:
    empty, kept = _task(), _task(task_log="only this")
    assert bookkeeping.finish_task(empty, "SUCCESS", "first line")
    assert bookkeeping.finish_task(kept, "FAILURE", None)
    assert _read(empty).task_log == "first line"
    kept_task = _read(kept)
    assert kept_task.task_log == "only this" and kept_task.status == "FAILURE"


def test_success_moves_reported_progress_to_its_target_failure_leaves_it(sent: list[str]) -> None:
    ok, failed = _task(progress_value=3.0, progress_target=7.0), _task(progress_value=3.0, progress_target=7.0)
    bookkeeping.finish_task(ok, "SUCCESS", None)
    bookkeeping.finish_task(failed, "FAILURE", "boom")
    assert _read(ok).progress_value == 7.0
    assert _read(failed).progress_value == 3.0


def test_success_clears_the_open_step_and_announces_the_steps(sent: list[str]) -> None:
    task = ProcessingTask("t", parameters="{}")
    task.add_next_step(href="http://x/step1", ui_href="http://x/ui1", step_id="one")
    task.save(commit=True)
    task_id = task.id
    assert bookkeeping.finish_task(task_id, "SUCCESS", "done")
    finished = _read(task_id)
    assert [step.cleared for step in finished.steps] == [True]
    assert sent == [TASK_STATUS_CHANGED.name, TASK_DETAILS_CHANGED.name, TASK_STEPS_CHANGED.name]


def test_failure_leaves_the_open_step_and_a_cleared_step_is_no_change(sent: list[str]) -> None:
    open_step = ProcessingTask("t", parameters="{}")
    open_step.add_next_step(href="http://x/s", ui_href="http://x/u", step_id="one")
    open_step.save(commit=True)
    cleared = ProcessingTask("t", parameters="{}")
    cleared.add_next_step(href="http://x/s", ui_href="http://x/u", step_id="one")
    cleared.clear_previous_step()
    cleared.save(commit=True)
    open_id, cleared_id = open_step.id, cleared.id
    bookkeeping.finish_task(open_id, "FAILURE", "boom")
    bookkeeping.finish_task(cleared_id, "SUCCESS", "done")
    assert [step.cleared for step in _read(open_id).steps] == [False]
    assert TASK_STEPS_CHANGED.name not in sent


def test_a_finished_task_never_changes_again(sent: list[str]) -> None:
    task_id = _task()
    assert bookkeeping.finish_task(task_id, "FAILURE", "first")
    first = _read(task_id)
    finished_at, log = first.finished_at, first.task_log
    sent.clear()
    assert not bookkeeping.finish_task(task_id, "SUCCESS", "second")
    again = _read(task_id)
    assert (again.status, again.finished_at, again.task_log) == ("FAILURE", finished_at, log)
    assert sent == []


def test_a_missing_task_raises_and_changes_made_in_the_session_are_written(sent: list[str]) -> None:
    with pytest.raises(TaskNotFound):
        bookkeeping.finish_task(987654, "SUCCESS", None)
    task_id = _task()
    task = DB.session.get(ProcessingTask, task_id)
    task.data["answer"] = 42  # left uncommitted by the task's own code
    assert bookkeeping.finish_task(task_id, "SUCCESS", None)
    assert _read(task_id).data == {"answer": 42}
