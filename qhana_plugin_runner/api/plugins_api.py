# SPDX-License-Identifier: Apache-2.0
"""``/plugins/``: the list of loaded plugins (and their virtual plugins), and ``/plugins/<name>/``.

The list is read by the plugin registry, which drops every plugin after a bad entry; so only
mounted plugins with a valid version are listed, and the endpoint answers 200 even when the
virtual-plugin table cannot be read.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import marshmallow as ma
from flask import Response, current_app, redirect, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..db.db import DB
from ..db.models.virtual_plugins import VirtualPlugin
from ..state import current_runner
from .plugin_list_cache import PluginListCache, virtual_plugins_generation
from .replay import offer_replay
from .response_cache import request_host_key
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


_LIST_CACHE = "qhana_plugin_list_body_cache"  # app.extensions key of the PluginListCache

# one constant statement (compiled once); parents are filtered here, not with a varying IN list
_VIRTUAL_QUERY = select(
    VirtualPlugin.parent_id, VirtualPlugin.name, VirtualPlugin.version, VirtualPlugin.href, VirtualPlugin.description, VirtualPlugin.tags
).order_by(VirtualPlugin.id)


def _virtual_entries(parents: dict[str, str]) -> list[dict[str, Any]] | None:
    """Virtual plugins whose parent (identifier or name) is a listed plugin (columns only, no ORM
    objects); None when the table could not be read."""
    if not parents:
        return []
    from ..plugin_host.base import plugin_identifier

    try:
        rows = DB.session.execute(_VIRTUAL_QUERY).all()
    except SQLAlchemyError:
        DB.session.rollback()
        _LOG.exception("Virtual plugins could not be read; listing the loaded plugins only")
        return None
    return [
        {
            "name": name,
            "version": version,
            "identifier": plugin_identifier(name, version),
            "apiRoot": href,
            "description": description,
            "tags": [tag.strip() for tag in tags.splitlines() if tag.strip()],
        }
        for parent, name, version, href, description, tags in rows
        if parent in parents
    ]


def _loaded_entries() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The loaded plugins' entries for this host, built once (the plugin set is fixed at start-up)."""
    cache = current_app.extensions.setdefault("qhana_plugin_list_cache", {})
    key = request.host_url
    cached = cache.get(key)
    if cached is None:
        entries: list[dict[str, Any]] = []
        parents: dict[str, str] = {}
        for plugin in current_runner.plugins.with_api():
            entries.append(
                {
                    "name": plugin.name,
                    "version": plugin.version,
                    "identifier": plugin.identifier,
                    "apiRoot": url_for("plugins-api.PluginView", plugin=plugin.identifier, _external=True),
                    "description": plugin.description,
                    "tags": list(plugin.tags),
                }
            )
            parents[plugin.identifier] = plugin.identifier
            parents[plugin.name] = plugin.identifier
        if len(cache) < 64:  # one entry per host name the runner is reached by
            cache[key] = (entries, parents)
        cached = (entries, parents)
    return cached


def _list_cache() -> PluginListCache:
    cache = current_app.extensions.get(_LIST_CACHE)
    if cache is None:
        ttl = float(current_app.config.get("PLUGIN_LIST_CACHE_SECONDS", 1.0) or 0)
        cache = current_app.extensions[_LIST_CACHE] = PluginListCache(ttl)
    return cache


def plugin_list_body() -> bytes:
    """The JSON body of ``GET /plugins/`` for this request's host (see :mod:`.plugin_list_cache`).

    A body from the cache is offered for replay (:mod:`.replay`) for as long as the cache holds it.
    """
    cache = _list_cache()
    host = request_host_key()
    body = cache.get(host)
    if body is not None:
        _offer_while_cached(cache, host, body)
        return body
    generation = virtual_plugins_generation()
    loaded, parents = _loaded_entries()
    virtual = _virtual_entries(parents)
    entries = loaded + (virtual or [])
    entries.sort(key=lambda e: (e["name"], e["version"]))
    body = json.dumps({"plugins": entries}, separators=(",", ":")).encode()
    if virtual is not None:  # a list without the unreadable virtual plugins is not kept
        cache.put(host, generation, body)
        if cache.holds(host, body):  # not kept either when a change was committed meanwhile
            _offer_while_cached(cache, host, body)
    return body


def _offer_while_cached(cache: PluginListCache, host: Any, body: bytes) -> None:
    extensions = current_app.extensions
    offer_replay(request.environ, body, lambda: extensions.get(_LIST_CACHE) is cache and cache.holds(host, body))


@PLUGINS_BLP.route("/")
class PluginsView(MethodView):
    @PLUGINS_BLP.response(200, PluginListSchema())
    def get(self) -> Response:
        """All loaded plugins with an API, and the virtual plugins of those plugins."""
        return Response(plugin_list_body(), mimetype="application/json")


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
