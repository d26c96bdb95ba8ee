# SPDX-License-Identifier: Apache-2.0
"""The Celery task of the optimization coordinator: one step forward per webhook call."""

from __future__ import annotations

from json import loads
from tempfile import SpooledTemporaryFile
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import update

from qhana_plugin_runner.celery import CELERY
from qhana_plugin_runner.db import DB
from qhana_plugin_runner.db.models.tasks import ProcessingTask
from qhana_plugin_runner.plugin_utils.interop import (
    InteropError,
    call_plugin_endpoint,
    get_plugin_endpoint,
    get_task_result_no_wait,
    subscribe,
)
from qhana_plugin_runner.requests import open_url
from qhana_plugin_runner.storage import STORE
from qhana_plugin_runner.tasks import save_task_result

from . import OptimizationCoordinator

#: Stages, stored in ``progress_value``: each is claimed by an atomic compare-and-set.
CREATED, OBJECTIVE_STARTED, DATA_PASSED, MINIMIZER_STARTED, MINIMIZING, DONE = range(6)


def _claim(db_id: int, current: int, following: int) -> bool:
    """Move the task from stage ``current`` to ``following``; False if someone else did."""
    result = DB.session.execute(
        update(ProcessingTask)
        .where(ProcessingTask.id == db_id, ProcessingTask.progress_value == current)
        .values(progress_value=following)
    )
    DB.session.commit()
    return result.rowcount == 1


def _load(db_id: int) -> tuple[ProcessingTask, dict[str, Any]]:
    DB.session.expire_all()
    task = ProcessingTask.get_by_id(id_=db_id)
    if task is None:
        raise KeyError(f"no task with id {db_id}")
    return task, loads(task.parameters or "{}")


def _with_query(url: str, **query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"


@CELERY.task(name=f"{OptimizationCoordinator.instance.identifier}.start", bind=True)
def start_objective(self: Any, db_id: int) -> None:
    """Start the objective function with this task's webhook as ``callback``."""
    task, params = _load(db_id)
    if not _claim(db_id, CREATED, OBJECTIVE_STARTED):
        return
    endpoint = get_plugin_endpoint(params["objective_function_url"])
    objective = call_plugin_endpoint(_with_query(endpoint, callback=task.data["webhook"]), {})
    task.add_task_log_entry(f"objective function task: {objective}", commit=True)


@CELERY.task(name=f"{OptimizationCoordinator.instance.identifier}.advance", bind=True)
def advance(self: Any, db_id: int, source: str) -> None:
    """Look at the task that called the webhook and take the next stage, if it is due."""
    task, params = _load(db_id)
    if task.is_finished:
        return
    status, remote = get_task_result_no_wait(source)
    if status == "FAILURE":
        raise InteropError(f"{source} failed: {remote.get('log', '')[-2000:]}")
    steps = remote.get("steps") or []
    open_step = steps[-1] if steps and not steps[-1].get("cleared") else {}
    step_id = open_step.get("stepId")
    if step_id == "pass_data" and _claim(db_id, OBJECTIVE_STARTED, DATA_PASSED):
        call_plugin_endpoint(
            open_step["href"], {"features": params["features"], "target": params["target"]}
        )
    elif step_id == "evaluate" and _claim(db_id, DATA_PASSED, MINIMIZER_STARTED):
        task.data["objective"] = source
        task.save(commit=True)
        minimizer = call_plugin_endpoint(get_plugin_endpoint(params["minimizer_url"]), {})
        task.data["minimizer"] = minimizer
        task.add_task_log_entry(f"minimizer task: {minimizer}", commit=True)
        subscribe(minimizer, task.data["webhook"], events="all")
    elif step_id == "minimize" and _claim(db_id, MINIMIZER_STARTED, MINIMIZING):
        data = {
            "objectiveFunction": task.data["objective"],
            "initialWeights": params.get("initial_weights") or "",
        }
        call_plugin_endpoint(open_step["href"], data)
    elif (
        status == "SUCCESS"
        and source == task.data.get("minimizer")
        and _claim(db_id, MINIMIZING, DONE)
    ):
        _finish(db_id, task, remote)


def _finish(db_id: int, task: ProcessingTask, minimizer: dict[str, Any]) -> None:
    """Copy the minimizer's weights, close the objective's ``evaluate`` step, end the task."""
    outputs = [o for o in minimizer.get("outputs") or [] if o.get("name") == "weights.json"]
    if not outputs:
        raise InteropError(f"{task.data['minimizer']} produced no weights.json")
    with open_url(outputs[0]["href"]) as response, SpooledTemporaryFile(mode="w") as output:
        output.write(response.text)
        STORE.persist_task_result(
            db_id, output, "weights.json", "entity/vector", "application/json"
        )
    _, objective = get_task_result_no_wait(task.data["objective"])
    steps = objective.get("steps") or []
    if steps and steps[-1].get("stepId") == "evaluate" and not steps[-1].get("cleared"):
        call_plugin_endpoint(steps[-1]["href"], {})
    save_task_result.s("optimization finished", db_id=db_id).apply_async()
