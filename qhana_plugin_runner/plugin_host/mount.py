# SPDX-License-Identifier: Apache-2.0
"""Mount each loaded plugin's blueprint under ``/plugins/<identifier>/`` on the smorest Api."""

from __future__ import annotations

import traceback

from flask import Flask
from flask_smorest import Api

from .loader import LoadFailure, LoadReport
from .registry import PluginRegistry

__all__ = ["mount_plugins", "plugin_url_prefix"]


def plugin_url_prefix(app: Flask, identifier: str) -> str:
    prefix = str(app.config.get("OPENAPI_URL_PREFIX") or "").rstrip("/")
    return f"{prefix}/plugins/{identifier}/"


def mount_plugins(app: Flask, api: Api, registry: PluginRegistry, report: LoadReport) -> None:
    """Register every plugin blueprint; a plugin whose blueprint fails stays unlisted."""
    for plugin in list(report.plugins):
        identifier = plugin.identifier
        try:
            blueprint = plugin.get_api_blueprint()
        except NotImplementedError:
            continue  # a plugin without API (for example one that only provides a file store)
        except Exception as err:  # plugin code
            report.fail(LoadFailure(plugin.identifier, "mount", f"get_api_blueprint() failed: {err!r}", plugin=identifier, detail=traceback.format_exc()))
            continue
        if blueprint is None:
            continue
        try:
            api.register_blueprint(blueprint, url_prefix=plugin_url_prefix(app, identifier))
        except Exception as err:  # a clash of blueprint names, a bad rule, ...
            report.fail(LoadFailure(identifier, "mount", f"blueprint could not be registered: {err!r}", plugin=identifier, detail=traceback.format_exc()))
            continue
        registry.mark_mounted(identifier)
        plugin.has_api = True
    registry.freeze()
