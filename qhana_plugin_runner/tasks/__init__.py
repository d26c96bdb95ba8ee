# SPDX-License-Identifier: Apache-2.0
"""Task bookkeeping for plugins (public path ``qhana_plugin_runner.tasks``)."""

from .bookkeeping import TASK_LOGGER, add_step, save_task_error, save_task_result
from .signals import TASK_DETAILS_CHANGED, TASK_SIGNALS, TASK_STATUS_CHANGED, TASK_STEPS_CHANGED

__all__ = [
    "add_step",
    "save_task_result",
    "save_task_error",
    "TASK_LOGGER",
    "TASK_SIGNALS",
    "TASK_STATUS_CHANGED",
    "TASK_STEPS_CHANGED",
    "TASK_DETAILS_CHANGED",
]
