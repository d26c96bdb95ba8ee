# SPDX-License-Identifier: Apache-2.0
"""Sphinx extension of the runner's documentation: reference pages generated from the code.

Directives (usable from MyST Markdown as ```` ```{name} ````):

- ``qhana-config-keys`` and ``qhana-env-vars``: configuration keys and environment variables
  (:mod:`.config_ref`);
- ``qhana-openapi``: the REST API from the OpenAPI document (:mod:`.openapi_ref`);
- ``qhana-flask-cli``, ``qhana-invoke-tasks``, ``qhana-launcher-help``, ``qhana-worker-help``: the command lines
  (:mod:`.cli_ref`).

The runner app they read is built once per build from the test configuration with a temporary
instance folder and the bundled plugins (:mod:`.runner`); no server is needed.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

from .cli_ref import (
    FlaskCliDirective,
    InvokeTasksDirective,
    LauncherHelpDirective,
    WorkerHelpDirective,
)
from .config_ref import ConfigKeysDirective, EnvVarsDirective
from .openapi_ref import OpenApiDirective
from .runner import cleanup


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("qhana-config-keys", ConfigKeysDirective)
    app.add_directive("qhana-env-vars", EnvVarsDirective)
    app.add_directive("qhana-openapi", OpenApiDirective)
    app.add_directive("qhana-flask-cli", FlaskCliDirective)
    app.add_directive("qhana-invoke-tasks", InvokeTasksDirective)
    app.add_directive("qhana-launcher-help", LauncherHelpDirective)
    app.add_directive("qhana-worker-help", WorkerHelpDirective)
    app.connect("build-finished", cleanup)
    return {"version": "1", "parallel_read_safe": False, "parallel_write_safe": True}
