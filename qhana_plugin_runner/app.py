# SPDX-License-Identifier: Apache-2.0
"""``create_app()``: the start-up story, one step per subsystem, each handed what it needs."""

from __future__ import annotations

import os
from types import FunctionType
from typing import Any

from flask import Flask

from .api import init_api
from .api.jwt_helper import init_jwt
from .api.replay import ReplayMiddleware
from .celery import init_celery
from .cli import register_cli
from .config import load_config
from .db import init_db
from .log_setup import configure_logging
from .plugin_host import PluginRegistry, load_plugins, mount_plugins
from .registry_client import init_registry_client
from .state import EXTENSION_KEY, RunnerState
from .storage import init_storage
from .tasks.event_bus import init_event_bus
from .tasks.webhooks import init_webhooks
from .web import init_web
from .web.converters import DatabaseIntConverter

__all__ = ["create_app"]

INSTANCE_ENV_VAR = "QHANA_PLUGIN_RUNNER_INSTANCE_FOLDER"


class _RunnerFlask(Flask):
    """Flask, with ``ensure_sync`` decided once per hook function instead of on every request
    (Flask asks ``inspect.iscoroutinefunction`` for each before/after/teardown hook each time)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_functions: dict[FunctionType, Any] = {}

    def ensure_sync(self, func: Any) -> Any:
        if type(func) is not FunctionType:  # bound methods of per-request view objects: not kept
            return super().ensure_sync(func)
        known = self._sync_functions.get(func)
        if known is None:
            known = self._sync_functions[func] = super().ensure_sync(func)
        return known


def create_app(test_config: dict[str, Any] | None = None, *, silent_log: bool = False) -> Flask:
    """Build a runner app: config, logging, database, Celery, API, plugins, storage, web."""
    instance = os.environ.get(INSTANCE_ENV_VAR) if test_config is None else None
    if test_config is not None and test_config.get("INSTANCE_PATH"):
        instance = str(test_config["INSTANCE_PATH"])
    app = _RunnerFlask(
        "qhana_plugin_runner",
        instance_path=os.path.abspath(instance) if instance else None,
        template_folder="web/templates",
        static_folder="web/static",
    )
    app.url_map.converters["int"] = DatabaseIntConverter  # before any route is added
    load_config(app, test_config)
    configure_logging(app, silent=silent_log)

    state = RunnerState(plugins=PluginRegistry())
    app.extensions[EXTENSION_KEY] = state

    init_db(app)
    init_celery(app)
    init_jwt(app)
    api = init_api(app)
    state.report = load_plugins(app, state.plugins)
    mount_plugins(app, api, state.plugins, state.report)
    init_storage(app)
    init_webhooks(app)
    init_event_bus(app)
    init_registry_client(app)
    init_web(app)
    register_cli(app)
    # outermost WSGI layer: it keys answers by the request as the client sent it (api/replay.py)
    app.wsgi_app = ReplayMiddleware(app.wsgi_app, int(app.config.get("RESPONSE_REPLAY_ENTRIES") or 0))  # type: ignore[method-assign]
    return app
