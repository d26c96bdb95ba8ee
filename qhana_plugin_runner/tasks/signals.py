# SPDX-License-Identifier: Apache-2.0
"""The three task signals. Send them with the app object and ``task_id=<ProcessingTask id>``,
after the change is committed."""

from blinker import Namespace

__all__ = ["TASK_SIGNALS", "TASK_STATUS_CHANGED", "TASK_STEPS_CHANGED", "TASK_DETAILS_CHANGED"]

TASK_SIGNALS = Namespace()
TASK_STATUS_CHANGED = TASK_SIGNALS.signal("task-status-changed")
TASK_STEPS_CHANGED = TASK_SIGNALS.signal("task-steps-changed")
TASK_DETAILS_CHANGED = TASK_SIGNALS.signal("task-details-changed")
