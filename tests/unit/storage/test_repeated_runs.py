"""A Celery task that runs again (its message redelivered after its worker died, or retried)
replaces the files its earlier run wrote instead of adding them a second time.

``Task.apply`` cannot mark a message redelivered, so the runs that repeat here are retries
(``retries=1``); a run with neither mark is a first run, as it is in a worker."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask

from qhana_plugin_runner.celery import CELERY
from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.db.models.tasks import ProcessingTask, TaskFile
from qhana_plugin_runner.storage import STORE, LocalFileStore
from qhana_plugin_runner.storage.base import TaskRun


@CELERY.task(name="tests.unit.storage.write-outputs", bind=True)
def write_outputs(self: Any, db_id: int, texts: list[str], name: str = "out.txt", temp: bool = False) -> None:
    for text in texts:
        if temp:
            STORE.persist_task_temp_file(db_id, text, name, "text/plain")
        else:
            STORE.persist_task_result(db_id, text, name, "custom/text", "text/plain")


@pytest.fixture
def task(app: Flask) -> ProcessingTask:
    task = ProcessingTask("repeated-runs")
    task.save(commit=True)
    return task


def _files(app: Flask, task: ProcessingTask, folder: str = "out") -> dict[str, str]:
    store = STORE["local_filesystem"]
    assert isinstance(store, LocalFileStore)
    path = store.root / f"task_{task.id}" / folder
    return {file.name: file.read_text() for file in sorted(path.iterdir())} if path.is_dir() else {}


def _rows(task: ProcessingTask) -> list[TaskFile]:
    DB.session.expire_all()
    return list(DB.session.execute(DB.select(TaskFile).where(TaskFile.task_id == task.id).order_by(TaskFile.id)).scalars())


def test_a_second_run_of_the_same_task_replaces_its_output(app: Flask, task: ProcessingTask) -> None:
    write_outputs.apply(kwargs={"db_id": task.id, "texts": ["first run"]}, task_id="celery-1").get()
    [first] = _rows(task)
    assert first.celery_task_id == "celery-1"
    write_outputs.apply(kwargs={"db_id": task.id, "texts": ["second run"]}, task_id="celery-1", retries=1).get()
    [second] = _rows(task)
    assert (second.id, second.security_tag, second.file_storage_data) == (first.id, first.security_tag, first.file_storage_data)
    assert _files(app, task) == {"out.txt": "second run"}


def test_repeated_names_are_replaced_in_order(app: Flask, task: ProcessingTask) -> None:
    write_outputs.apply(kwargs={"db_id": task.id, "texts": ["a1", "b1"]}, task_id="celery-2").get()
    assert _files(app, task) == {"out.txt": "a1", "out-1.txt": "b1"}, "within one run a name used twice gives two files"
    write_outputs.apply(kwargs={"db_id": task.id, "texts": ["a2", "b2", "c2"]}, task_id="celery-2", retries=1).get()
    assert _files(app, task) == {"out.txt": "a2", "out-1.txt": "b2", "out-2.txt": "c2"}
    assert [row.file_name for row in _rows(task)] == ["out.txt"] * 3


def test_other_celery_tasks_of_the_same_task_keep_their_files(app: Flask, task: ProcessingTask) -> None:
    # e.g. two steps of a multi-step task that write the same name
    write_outputs.apply(kwargs={"db_id": task.id, "texts": ["step 1"]}, task_id="step-1").get()
    write_outputs.apply(kwargs={"db_id": task.id, "texts": ["step 2"]}, task_id="step-2").get()
    assert _files(app, task) == {"out.txt": "step 1", "out-1.txt": "step 2"}
    assert [row.celery_task_id for row in _rows(task)] == ["step-1", "step-2"]


def test_temp_files_and_results_are_told_apart(app: Flask, task: ProcessingTask) -> None:
    write_outputs.apply(kwargs={"db_id": task.id, "texts": ["result"]}, task_id="celery-3").get()
    write_outputs.apply(kwargs={"db_id": task.id, "texts": ["temp"], "temp": True}, task_id="celery-3", retries=1).get()
    assert _files(app, task) == {"out.txt": "result"} and _files(app, task, "tmp") == {"out.txt": "temp"}
    write_outputs.apply(kwargs={"db_id": task.id, "texts": ["temp again"], "temp": True}, task_id="celery-3", retries=2).get()
    assert _files(app, task) == {"out.txt": "result"} and _files(app, task, "tmp") == {"out.txt": "temp again"}
    assert len(_rows(task)) == 2


def test_files_written_outside_a_task_are_always_added(app: Flask, task: ProcessingTask) -> None:
    STORE.persist_task_result(task.id, "one", "out.txt", "custom/text", "text/plain")
    STORE.persist_task_result(task.id, "two", "out.txt", "custom/text", "text/plain")
    assert _files(app, task) == {"out.txt": "one", "out-1.txt": "two"}
    assert [row.celery_task_id for row in _rows(task)] == [None, None]


def test_url_store_records_the_url_of_the_repeated_run(app: Flask, task: ProcessingTask) -> None:
    @CELERY.task(name="tests.unit.storage.record-url", bind=True)
    def record_url(self: Any, db_id: int, url: str) -> None:
        STORE.persist_task_result(db_id, url, "link", "custom/link", "text/plain", storage_provider="url_file_store")

    record_url.apply(kwargs={"db_id": task.id, "url": "https://example.org/a"}, task_id="celery-4").get()
    record_url.apply(kwargs={"db_id": task.id, "url": "https://example.org/b"}, task_id="celery-4", retries=1).get()
    [row] = _rows(task)
    assert row.file_storage_data == "https://example.org/b"


def test_a_failed_rewrite_keeps_the_earlier_file(app: Flask, task: ProcessingTask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write_outputs.apply(kwargs={"db_id": task.id, "texts": ["kept"]}, task_id="celery-5").get()

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(LocalFileStore, "persist_file", broken)
    result = write_outputs.apply(kwargs={"db_id": task.id, "texts": ["lost"]}, task_id="celery-5", retries=1)
    assert isinstance(result.result, OSError)
    assert _files(app, task) == {"out.txt": "kept"} and len(_rows(task)) == 1


def test_a_repeated_run_takes_over_a_file_its_earlier_run_did_not_record(app: Flask, task: ProcessingTask) -> None:
    # the earlier run's worker died between writing the file and committing its record
    store = STORE["local_filesystem"]
    assert isinstance(store, LocalFileStore)
    folder = store.root / f"task_{task.id}" / "out"
    folder.mkdir(parents=True)
    (folder / "out.txt").write_text("unrecorded")
    write_outputs.apply(kwargs={"db_id": task.id, "texts": ["redelivered"]}, task_id="celery-6", retries=1).get()
    assert _files(app, task) == {"out.txt": "redelivered"}
    [row] = _rows(task)
    assert row.file_storage_data == f"task_{task.id}/out/out.txt"


def test_a_first_run_leaves_unrecorded_files_alone(app: Flask, task: ProcessingTask) -> None:
    # could be a file another run of the task is writing right now
    store = STORE["local_filesystem"]
    assert isinstance(store, LocalFileStore)
    folder = store.root / f"task_{task.id}" / "out"
    folder.mkdir(parents=True)
    (folder / "out.txt").write_text("someone else's")
    write_outputs.apply(kwargs={"db_id": task.id, "texts": ["first"]}, task_id="celery-7").get()
    assert _files(app, task) == {"out.txt": "someone else's", "out-1.txt": "first"}


@pytest.mark.parametrize(("delivery_info", "retries", "repeated"), [(None, 0, False), ({}, 0, False), ({"redelivered": False}, 0, False), ({"redelivered": True}, 0, True), ({}, 1, True)])
def test_a_run_repeats_when_its_message_was_redelivered_or_it_was_retried(delivery_info: dict[str, Any] | None, retries: int, repeated: bool) -> None:
    request = SimpleNamespace(id="celery-8", delivery_info=delivery_info, retries=retries)
    assert TaskRun(request, set()).repeated is repeated


def test_a_first_run_does_not_look_for_files_of_an_earlier_run(app: Flask, task: ProcessingTask, monkeypatch: pytest.MonkeyPatch) -> None:
    looked: list[str] = []
    original = TaskRun.earlier_file

    def spy(self: TaskRun, task_db_id: int, file_name: str, temp: bool) -> TaskFile | None:
        looked.append(file_name)
        return original(self, task_db_id, file_name, temp)

    monkeypatch.setattr(TaskRun, "earlier_file", spy)
    write_outputs.apply(kwargs={"db_id": task.id, "texts": ["first"]}, task_id="celery-9").get()
    assert looked == [], "a first run has no earlier files: no query"
    write_outputs.apply(kwargs={"db_id": task.id, "texts": ["again"]}, task_id="celery-9", retries=1).get()
    assert looked == ["out.txt"]
    assert _files(app, task) == {"out.txt": "again"} and len(_rows(task)) == 1
