# SPDX-License-Identifier: Apache-2.0
"""The two Celery tasks of hello-world-multi-step: preprocessing, then processing."""

from __future__ import annotations

from json import loads
from tempfile import SpooledTemporaryFile
from typing import Any

from qhana_plugin_runner.celery import CELERY
from qhana_plugin_runner.db.models.tasks import ProcessingTask
from qhana_plugin_runner.storage import STORE

from . import HelloWorldMultiStep


def _load(db_id: int) -> tuple[ProcessingTask, str]:
    task = ProcessingTask.get_by_id(id_=db_id)
    if task is None:
        raise KeyError(f"Could not load task data with id {db_id} to read parameters!")
    input_str = loads(task.parameters or "{}").get("input_str")
    if input_str is None:
        raise ValueError("No input argument provided!")
    return task, input_str


@CELERY.task(name=f"{HelloWorldMultiStep.instance.identifier}.preprocessing_task", bind=True)
def preprocessing_task(self: Any, db_id: int) -> str:
    task, input_str = _load(db_id)
    task.data["input_str"] = input_str
    task.save(commit=True)
    out_str = "Processed in the preprocessing step: " + input_str
    with SpooledTemporaryFile(mode="w") as output:
        output.write(out_str)
        STORE.persist_task_result(db_id, output, "output1.txt", "hello-world-output", "text/plain")
    return "result: " + repr(out_str)


@CELERY.task(name=f"{HelloWorldMultiStep.instance.identifier}.processing_task", bind=True)
def processing_task(self: Any, db_id: int) -> str:
    task, input_str = _load(db_id)
    first = task.data.get("input_str", "") if isinstance(task.data, dict) else ""
    out_str = f"Processed in the processing step: {first} {input_str}"
    with SpooledTemporaryFile(mode="w") as output:
        output.write(out_str)
        STORE.persist_task_result(db_id, output, "output2.txt", "hello-world-output", "text/plain")
    return "result: " + repr(out_str)
