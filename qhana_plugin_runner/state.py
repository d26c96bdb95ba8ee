# SPDX-License-Identifier: Apache-2.0
"""Per-app runner state, kept in ``app.extensions["qhana_plugin_runner"]``.

Nothing app-specific is stored on module globals: several apps can live in one process
(the test suite creates many), each with its own plugins and file stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from werkzeug.local import LocalProxy

if TYPE_CHECKING:
    from .plugin_host.loader import LoadReport
    from .plugin_host.registry import PluginRegistry
    from .storage.registry import FileStoreRegistry

__all__ = ["RunnerState", "EXTENSION_KEY", "get_state", "current_runner"]

EXTENSION_KEY = "qhana_plugin_runner"


@dataclass
class RunnerState:
    """Everything the runner keeps for one Flask app."""

    plugins: PluginRegistry
    report: LoadReport | None = None
    file_stores: FileStoreRegistry | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def get_state(app: Flask) -> RunnerState:
    """Return the runner state of ``app`` (created by ``create_app``)."""
    try:
        return app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError(
            "this Flask app was not created by qhana_plugin_runner.create_app()"
        ) from None


current_runner: RunnerState = LocalProxy(lambda: get_state(current_app))  # type: ignore[assignment]
