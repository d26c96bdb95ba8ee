# SPDX-License-Identifier: Apache-2.0
"""The runner's own Celery tasks that record a task's progress: add a step, save the result,
save an error. Their wire names are part of the contract and must never change.

Every change is committed first and announced afterwards (signals after commit). A finished
task never changes again: a late or repeated message for it is logged and ignored, so the
first answer that says SUCCESS or FAILURE is the final one. That also makes them safe to run
again, which they do while the database cannot be reached.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.result import AsyncResult
from celery.utils.log import get_task_logger
from sqlalchemy import Boolean, DateTime, String, Text, and_, bindparam, case, or_, select, update
from sqlalchemy.exc import InterfaceError, OperationalError

from ..celery import CELERY, current_flask_app
from ..db.db import DB
from ..db.models.failures import CeleryTaskFailure
from ..db.models.tasks import ProcessingTask, Step, TaskStatus, utc_now
from ..errors import TaskNotFound
from .event_bus import one_publish_per_task
from .signals import TASK_DETAILS_CHANGED, TASK_STATUS_CHANGED, TASK_STEPS_CHANGED
from .webhooks import one_subscription_lookup

__all__ = ["add_step", "save_task_result", "save_task_error", "finish_task", "TASK_LOGGER"]

TASK_LOGGER = get_task_logger("qhana-plugin-runner")
_LOG = logging.getLogger(__name__)

# A database that is away for a while (restart, failover) must not leave a task PENDING for
# good: these tasks are idempotent, so they are tried again, for about four minutes in all.
_UNTIL_THE_DATABASE_IS_BACK: dict[str, Any] = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "max_retries": 12,
}


def _load(db_id: int) -> ProcessingTask:
    task = DB.session.get(ProcessingTask, db_id)
    if task is None:
        raise TaskNotFound(f"No ProcessingTask with id {db_id}.")
    return task


def _commit_and_announce(db_id: int, *signals: Any) -> None:
    """Commit the task's change, then send ``signals``; the webhook listeners get the
    subscriptions read once, before the commit (the autoflush writes the change first)."""
    app = current_flask_app()
    with one_subscription_lookup(db_id):
        DB.session.commit()
        with one_publish_per_task():
            for signal in signals:
                signal.send(app, task_id=db_id)


def _forget(celery_task_id: str | None) -> None:
    """Drop an intermediate result from the result backend (best effort)."""
    if not celery_task_id or CELERY.conf.result_backend is None:
        return
    try:
        AsyncResult(celery_task_id, app=CELERY).forget()
    except Exception:  # noqa: BLE001  (backends without forget, or unreachable ones)
        _LOG.debug("Could not forget result %s", celery_task_id, exc_info=True)


_TASK = ProcessingTask.__table__
_STEP = Step.__table__
_LOG_LINE = bindparam("log", type_=Text)
# One UPDATE finishes a task that has not finished yet: status, finish time, the last log line
# appended, progress at its target (where progress is reported). Its row count says whether it
# did, and on PostgreSQL it holds the row until the commit (see one_subscription_lookup).
_FINISH = (
    update(_TASK)
    .where(_TASK.c.id == bindparam("task_id"), _TASK.c.finished_at.is_(None))
    .values(
        task_status=bindparam("status", type_=String),
        finished_at=bindparam("finished_at", type_=DateTime(timezone=True)),
        task_log=case(
            (_LOG_LINE.is_(None), _TASK.c.task_log),
            (or_(_TASK.c.task_log.is_(None), _TASK.c.task_log == ""), _LOG_LINE),
            else_=_TASK.c.task_log.concat("\n").concat(_LOG_LINE),
        ),
        progress_value=case(
            (and_(bindparam("success", type_=Boolean), _TASK.c.progress_value.is_not(None)), _TASK.c.progress_target),
            else_=_TASK.c.progress_value,
        ),
    )
)
# where the database can say which rows an UPDATE changed: the current step with it (a task that
# never had a step then costs no second statement)
_FINISH_RETURNING = _FINISH.returning(_TASK.c.current_step)
# On success the open step (the task's current one) is cleared: its row count says whether the
# steps changed.
_CLEAR_OPEN_STEP = (
    update(_STEP)
    .where(
        _STEP.c.id == bindparam("task_id"),
        _STEP.c.number == select(_TASK.c.current_step).where(_TASK.c.id == bindparam("task_id")).scalar_subquery(),
        _STEP.c.cleared.is_(False),
    )
    .values(cleared=True)
)
_STATUS = select(_TASK.c.task_status).where(_TASK.c.id == bindparam("task_id"))


def finish_task(db_id: int, status: str, log: str | None) -> bool:
    """Set the final status, finish time and last log line in one commit, then announce it.

    Returns False (and changes nothing) when the task had already finished. Written as two
    prepared UPDATE statements rather than through a loaded ProcessingTask: this runs once per
    task, and loading, changing and flushing the object cost more than the task body of a small
    plugin. Changes the task's own code left in the session are flushed first, as before.
    """
    session = DB.session
    session.flush()
    success = status == TaskStatus.SUCCESS.value
    bound = {"task_id": db_id, "status": status, "finished_at": utc_now(), "log": log or None, "success": success}
    if session.get_bind().dialect.update_returning:
        finished = session.execute(_FINISH_RETURNING, bound).first()
        has_step = finished is not None and finished.current_step >= 0
    else:
        finished = session.execute(_FINISH, bound).rowcount == 1 or None
        has_step = True
    if finished is None:
        session.rollback()
        earlier = session.execute(_STATUS, bound).first()
        if earlier is None:
            raise TaskNotFound(f"No ProcessingTask with id {db_id}.")
        _LOG.warning("Task %s already finished as %s; ignoring %s", db_id, earlier.task_status, status)
        return False
    signals = [TASK_STATUS_CHANGED, TASK_DETAILS_CHANGED]
    if success and has_step and session.execute(_CLEAR_OPEN_STEP, bound).rowcount:
        signals.append(TASK_STEPS_CHANGED)
    _commit_and_announce(db_id, *signals)
    return True


@CELERY.task(name="qhana-plugin-runner.save-result", bind=True, ignore_result=True, inline_after_parent=True, **_UNTIL_THE_DATABASE_IS_BACK)
def save_task_result(self: Any, task_log: str | None, db_id: int) -> None:
    """Mark the task SUCCESS; ``task_log`` (the previous task's return value) is appended."""
    if task_log is not None and not isinstance(task_log, str):
        task_log = repr(task_log)
    finish_task(db_id, TaskStatus.SUCCESS.value, task_log)
    _forget(self.request.parent_id)


@CELERY.task(name="qhana-plugin-runner.save-error", bind=True, ignore_result=True, inline_after_parent=True, **_UNTIL_THE_DATABASE_IS_BACK)
def save_task_error(self: Any, failing_task_id: str, db_id: int) -> None:
    """Errback: mark the task FAILURE with the exception and traceback of ``failing_task_id``."""
    record = CeleryTaskFailure.pop(failing_task_id)
    if record is not None:
        details = f"{record.error}\n\n{record.traceback}"
    else:
        details = _details_from_backend(failing_task_id)
    finish_task(db_id, TaskStatus.FAILURE.value, details)
    _forget(failing_task_id)


def _details_from_backend(failing_task_id: str) -> str:
    if CELERY.conf.result_backend:
        try:
            result = AsyncResult(failing_task_id, app=CELERY)
            if result.failed():
                return f"{result.result!r}\n\n{result.traceback or ''}"
        except Exception:  # noqa: BLE001
            _LOG.warning("Could not read the failure of %s from the result backend", failing_task_id, exc_info=True)
    return f"Task {failing_task_id} failed; no details were recorded."


@CELERY.task(name="qhana-plugin-runner.add-step", bind=True, ignore_result=True, inline_after_parent=True, **_UNTIL_THE_DATABASE_IS_BACK)
def add_step(
    self: Any,
    task_log: str,
    db_id: int,
    step_id: str,
    href: str,
    ui_href: str,
    prog_value: float | None = None,
    prog_start: float = 0,
    prog_target: float = 100,
    prog_unit: str = "%",
) -> None:
    """Open the next step of a multi-step task (``task_log`` is the previous task's return)."""
    if not isinstance(task_log, str):
        raise TypeError(f"task_log must be a str (the previous task's return value), got {type(task_log).__name__}")
    task = _load(db_id)
    if task.is_finished:
        _LOG.warning("Task %s already finished; step %s not added", db_id, step_id)
        return
    last = task.steps[-1] if task.steps else None
    if last is not None and not last.cleared and last.step_id == step_id and last.href == href:
        _LOG.info("Step %s of task %s exists already (message delivered again)", step_id, db_id)
        return
    if prog_value is None:
        done = len(task.steps)
        task.progress_start, task.progress_target, task.progress_value, task.progress_unit = 0, done + 1, done, ""
    else:
        task.progress_start, task.progress_target = prog_start, prog_target
        task.progress_value, task.progress_unit = prog_value, prog_unit
    task.add_next_step(href=href, ui_href=ui_href, step_id=step_id)
    if task_log:
        task.add_task_log_entry(task_log)
    _commit_and_announce(db_id, TASK_STEPS_CHANGED, TASK_DETAILS_CHANGED)
    _forget(self.request.parent_id)
