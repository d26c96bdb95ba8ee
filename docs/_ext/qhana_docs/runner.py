# SPDX-License-Identifier: Apache-2.0
"""One runner app per Sphinx build: test configuration, bundled plugins, a temporary instance.

Nothing is written into the repository: the instance folder (SQLite file, broker folders) is a
temporary directory removed when the build finishes, and no server is contacted (in-memory
broker, no PostgreSQL or Redis).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

LOG = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[3]
BUNDLED_PLUGINS = ROOT / "plugins"
TASKS_FILE = ROOT / "tasks.py"

_STATE: dict[int, dict[str, Any]] = {}


def runner_app(sphinx: Sphinx) -> Any:
    """The Flask app of this build, created on first use."""
    state = _STATE.setdefault(id(sphinx), {})
    if "app" not in state:
        from qhana_plugin_runner.state import get_state
        from qhana_plugin_runner.testing import build_app, make_test_config

        temp = tempfile.TemporaryDirectory(prefix="qhana-docs-")
        state["temp"] = temp
        config = make_test_config(Path(temp.name) / "instance", PLUGIN_FOLDERS=[str(BUNDLED_PLUGINS)])
        app = build_app(config, create_tables=False)
        state["app"] = app
        report = get_state(app).report
        for failure in report.failures if report else []:
            LOG.warning("bundled plugin %s did not load (%s: %s); the reference misses it", failure.plugin or failure.source, failure.stage, failure.reason)
    return state["app"]


def invoke_tasks_module(sphinx: Sphinx) -> ModuleType:
    """``tasks.py`` imported under a private name; the environment is restored afterwards
    (it reads ``.flaskenv`` into ``os.environ``)."""
    state = _STATE.setdefault(id(sphinx), {})
    if "tasks" not in state:
        saved = dict(os.environ)
        try:
            spec = importlib.util.spec_from_file_location("qhana_docs_invoke_tasks", TASKS_FILE)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        state["tasks"] = module
    return state["tasks"]


def cleanup(sphinx: Sphinx, exception: BaseException | None) -> None:
    state = _STATE.pop(id(sphinx), None)
    if not state:
        return
    app = state.get("app")
    if app is not None:
        from qhana_plugin_runner.testing import dispose

        dispose(app)
    temp = state.get("temp")
    if temp is not None:
        temp.cleanup()
