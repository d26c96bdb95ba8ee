# SPDX-License-Identifier: Apache-2.0
"""The runner's models; importing this package maps all of them."""

from . import failures, tasks, virtual_plugins

__all__ = ["failures", "tasks", "virtual_plugins"]
