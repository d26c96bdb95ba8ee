# SPDX-License-Identifier: Apache-2.0
"""Internal: the exception of a failed Celery task, kept until ``save_task_error`` reads it.

Errbacks in the original form receive only the failing Celery task id; the original runner read
the exception back from the result backend and lost it when none was configured. The worker now
records it here before Celery dispatches the errback, so it survives without a result backend.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import DB, MODEL
from .tasks import utc_now

__all__ = ["CeleryTaskFailure"]


class CeleryTaskFailure(MODEL):
    __tablename__ = "CeleryTaskFailure"

    celery_task_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    task_name: Mapped[str] = mapped_column(String(500))
    error: Mapped[str] = mapped_column(Text)
    traceback: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default_factory=utc_now)

    @classmethod
    def pop(cls, celery_task_id: str) -> CeleryTaskFailure | None:
        """Return and delete the record of ``celery_task_id`` (the caller commits)."""
        record = DB.session.get(cls, celery_task_id)
        if record is not None:
            DB.session.delete(record)
        return record
