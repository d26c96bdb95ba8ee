# SPDX-License-Identifier: Apache-2.0
"""QHAna plugin runner: hosts QHAna plugins and runs their work in Celery workers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.3.0.dev0"

__all__ = ["create_app", "__version__"]

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None, silent_log: bool = False) -> Flask:
    """Build a runner app (see :func:`qhana_plugin_runner.app.create_app`)."""
    from .app import create_app as _create_app

    return _create_app(test_config, silent_log=silent_log)
