# SPDX-License-Identifier: Apache-2.0
"""``/plugins/``: the list of loaded plugins (and their virtual plugins), and ``/plugins/<name>/``.

The list is read by the plugin registry, which drops every plugin after a bad entry; so only
mounted plugins with a valid version are listed, and the endpoint answers 200 even when the
virtual-plugin table cannot be read.
"""

from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
from flask import current_app, redirect, url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy.exc import SQLAlchemyError

from ..db.models.virtual_plugins import VirtualPlugin
from ..state import current_runner
from .util import MaBaseSchema

__all__ = ["PLUGINS_BLP"]

_LOG = logging.getLogger(__name__)

PLUGINS_BLP = Blueprint("plugins-api", __name__, description="The plugins this runner serves.")


class PluginEntrySchema(MaBaseSchema):
    name = ma.fields.String(required=True)
    version = ma.fields.String(required=True)
    identifier = ma.fields.String(required=True)
    api_root = ma.fields.Url(required=True)
    description = ma.fields.String(required=True)
    tags = ma.fields.List(ma.fields.String(), required=True)


class PluginListSchema(MaBaseSchema):
    plugins = ma.fields.List(ma.fields.Nested(PluginEntrySchema()), required=True)


def _virtual_entries(parents: dict[str, str]) -> list[dict[str, Any]]:
    """Virtual plugins whose parent (identifier or name) is a listed plugin."""
    if not parents:
        return []
    try:
        virtual = VirtualPlugin.get_all(for_parents=list(parents))
    except SQLAlchemyError:
        _LOG.exception("Virtual plugins could not be read; listing the loaded plugins only")
        return []
    return [
        {
            "name": v.name,
            "version": v.version,
            "identifier": v.identifier,
            "api_root": v.href,
            "description": v.description,
            "tags": v.tag_list,
        }
        for v in virtual
    ]


@PLUGINS_BLP.route("/")
class PluginsView(MethodView):
    @PLUGINS_BLP.response(200, PluginListSchema())
    def get(self) -> dict[str, Any]:
        """All loaded plugins with an API, and the virtual plugins of those plugins."""
        entries: list[dict[str, Any]] = []
        parents: dict[str, str] = {}
        for plugin in current_runner.plugins.with_api():
            entries.append(
                {
                    "name": plugin.name,
                    "version": plugin.version,
                    "identifier": plugin.identifier,
                    "api_root": url_for("plugins-api.PluginView", plugin=plugin.identifier, _external=True),
                    "description": plugin.description,
                    "tags": list(plugin.tags),
                }
            )
            parents[plugin.identifier] = plugin.identifier
            parents[plugin.name] = plugin.identifier
        entries.extend(_virtual_entries(parents))
        entries.sort(key=lambda e: (e["name"], e["version"]))
        return {"plugins": entries}


@PLUGINS_BLP.route("/<string:plugin>/")
class PluginView(MethodView):
    @PLUGINS_BLP.response(302)
    @PLUGINS_BLP.alt_response(404, description="No plugin with that name or identifier.")
    def get(self, plugin: str) -> Any:
        """Redirect a plugin name to its newest version (plugins answer their own identifier)."""
        registry = current_runner.plugins
        if plugin in registry:
            abort(404, message="The plugin does not provide a blueprint.")
        newest = registry.newest(plugin)
        if newest is None:
            abort(404, message="No plugin registered with that name.")
        prefix = str(current_app.config.get("OPENAPI_URL_PREFIX") or "").rstrip("/")
        return redirect(f"{prefix}/plugins/{newest.identifier}/", code=302)
