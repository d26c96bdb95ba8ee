# SPDX-License-Identifier: Apache-2.0
"""QHAna plugin runner: hosts QHAna plugins and runs their work in Celery workers."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any

__version__ = "0.3.0.dev0"

__all__ = ["create_app", "__version__"]

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None, silent_log: bool = False) -> Flask:
    """Build a runner app (see :func:`qhana_plugin_runner.app.create_app`).

    Building it imports the libraries and plugins and creates about 200 000 objects that live
    as long as the process. The cyclic garbage collector is paused meanwhile: it would scan
    them again and again while they pile up (about 80 of 560 ms on 2 cores). An app built from
    the environment (no ``test_config``: the one app of a server, worker or CLI process) then
    has them moved to the permanent generation (:func:`gc.freeze`), so no later collection
    scans them either; apps built for tests only get the collector back.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        from .app import create_app as _create_app

        app = _create_app(test_config, silent_log=silent_log)
        if collecting and test_config is None:
            gc.freeze()
        return app
    finally:
        if collecting:
            gc.enable()
