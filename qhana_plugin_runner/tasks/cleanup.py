# SPDX-License-Identifier: Apache-2.0
"""Removal of old finished tasks and their files (Celery beat runs it periodically).

A task is removed when it finished more than ``TASK_RETENTION_DAYS`` days ago. Tasks that never
finished are kept: they are either still running or a sign of trouble worth looking at.

Rows go first, files after: the rows of a batch are deleted in one transaction, and only once it
committed are the files removed. A crash in between leaves files without rows (found again by
the next run through the task folders of the local store), never rows pointing at missing files.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, select

from ..celery import CELERY
from ..db.db import DB
from ..db.models.failures import CeleryTaskFailure
from ..db.models.tasks import (
    ProcessingTask,
    Step,
    TaskFile,
    TaskLink,
    TaskUpdateSubscription,
    utc_now,
)

__all__ = ["CleanupReport", "remove_old_tasks", "cleanup_old_tasks", "CLEANUP_TASK_NAME"]

_LOG = logging.getLogger(__name__)

CLEANUP_TASK_NAME = "qhana-plugin-runner.cleanup-old-tasks"
_CHILD_TABLES = (Step, TaskFile, TaskLink, TaskUpdateSubscription)


@dataclass
class CleanupReport:
    """What one cleanup run removed."""

    cutoff: datetime
    tasks: int = 0
    files: int = 0
    failure_records: int = 0
    file_errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "cutoff": self.cutoff.isoformat(),
            "tasks": self.tasks,
            "files": self.files,
            "failure_records": self.failure_records,
            "file_errors": list(self.file_errors),
        }


def remove_old_tasks(older_than: timedelta, *, batch_size: int = 500, dry_run: bool = False) -> CleanupReport:
    """Delete tasks that finished before ``now - older_than``, with their rows and files."""
    if older_than <= timedelta(0):
        raise ValueError("older_than must be positive")
    report = CleanupReport(cutoff=utc_now() - older_than)
    last_id = 0
    while True:
        ids = DB.session.scalars(
            select(ProcessingTask.id)
            .where(ProcessingTask.finished_at.is_not(None), ProcessingTask.finished_at < report.cutoff, ProcessingTask.id > last_id)
            .order_by(ProcessingTask.id)
            .limit(batch_size)
        ).all()
        if not ids:
            break
        last_id = ids[-1]
        files = DB.session.execute(
            select(TaskFile.storage_provider, TaskFile.file_storage_data).where(TaskFile.task_id.in_(ids))
        ).all()
        report.tasks += len(ids)
        report.files += len(files)
        if dry_run:
            continue
        for model in _CHILD_TABLES:
            column = model.id if model is Step else model.task_id
            DB.session.execute(delete(model).where(column.in_(ids)))
        DB.session.execute(delete(ProcessingTask).where(ProcessingTask.id.in_(ids)))
        DB.session.commit()
        _remove_files(ids, files, report)
    if not dry_run:
        # failure records are read by the errback within seconds; old ones were never read
        result = DB.session.execute(delete(CeleryTaskFailure).where(CeleryTaskFailure.created_at < report.cutoff))
        report.failure_records = result.rowcount or 0
        DB.session.commit()
    return report


def _remove_files(task_ids: list[int], files: list[tuple[str, str]], report: CleanupReport) -> None:
    from ..storage import STORE

    stores = STORE.stores
    for provider, storage_data in files:
        store = stores.get(provider)
        remove = getattr(store, "remove_file", None)
        if remove is None:
            continue  # e.g. the url store: the file lives elsewhere
        try:
            remove(storage_data)
        except Exception as err:  # keep going: one unreadable file must not stop the cleanup
            report.file_errors.append(f"{provider}:{storage_data}: {err}")
            _LOG.warning("Could not remove file %s of an old task: %s", storage_data, err)
    local = stores.get("local_filesystem")
    root = getattr(local, "root", None)
    if isinstance(root, Path):
        # task folders also hold temp files and leftovers of crashed writes
        for task_id in task_ids:
            folder = root / f"task_{task_id}"
            if folder.is_dir() and not folder.is_symlink():
                shutil.rmtree(folder, ignore_errors=True)


@CELERY.task(name=CLEANUP_TASK_NAME, bind=True, ignore_result=True)
def cleanup_old_tasks(self: object) -> dict[str, object]:
    """Periodic job: remove tasks older than ``TASK_RETENTION_DAYS``."""
    config = current_app.config
    days = float(config.get("TASK_RETENTION_DAYS") or 0)
    if days <= 0:
        return {"skipped": "TASK_RETENTION_DAYS is 0"}
    report = remove_old_tasks(timedelta(days=days), batch_size=int(config.get("TASK_CLEANUP_BATCH_SIZE") or 500))
    _LOG.info("Cleanup removed %d tasks and %d files finished before %s", report.tasks, report.files, report.cutoff)
    return report.as_dict()


def beat_schedule(config: dict[str, object]) -> dict[str, dict[str, object]]:
    """The beat entry for the cleanup job (empty when retention is off)."""
    days = float(config.get("TASK_RETENTION_DAYS") or 0)  # type: ignore[arg-type]
    interval = float(config.get("TASK_CLEANUP_INTERVAL") or 3600)  # type: ignore[arg-type]
    if days <= 0:
        return {}
    return {"qhana-plugin-runner cleanup of old tasks": {"task": CLEANUP_TASK_NAME, "schedule": interval}}
