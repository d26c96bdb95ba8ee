"""``Model.get_by_id``: one prepared SELECT for a row the session does not hold, none for one it
holds, None for a missing id (as ``Session.get``)."""

from __future__ import annotations

from flask import Flask

from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.db.models.tasks import ProcessingTask, TaskFile
from qhana_plugin_runner.storage import STORE


def test_a_row_not_in_the_session_is_one_select_then_held(statements: list[str]) -> None:
    task = ProcessingTask("by-id", parameters="{}")
    task.save(commit=True)
    task_id = task.id
    DB.session.remove()
    statements.clear()
    loaded = ProcessingTask.get_by_id(task_id)
    assert loaded is not None and (loaded.id, loaded.task_name, loaded.parameters) == (task_id, "by-id", "{}")
    assert len(statements) == 1 and statements[0].startswith("SELECT") and '"ProcessingTask".id = ' in statements[0]
    assert ProcessingTask.get_by_id(task_id) is loaded
    assert len(statements) == 1, "the object the session holds is returned without a query"


def test_a_missing_id_is_none_for_every_model(app: Flask) -> None:
    assert ProcessingTask.get_by_id(987654) is None
    assert TaskFile.get_by_id(987654) is None
    task = ProcessingTask("by-id")
    task.save(commit=True)
    info = STORE.persist_task_result(task.id, "x", "x.txt", "text", "text/plain")
    info_id = info.id
    DB.session.remove()
    assert TaskFile.get_by_id(info_id).file_name == "x.txt"
    DB.session.remove()
    assert TaskFile.get_by_id(str(info_id)).id == info_id  # an id from a URL or a form
    assert TaskFile.get_by_id((info_id,)).id == info_id  # a primary key tuple
