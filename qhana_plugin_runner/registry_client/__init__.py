# SPDX-License-Identifier: Apache-2.0
"""Client of the QHAna plugin registry, and the notifier for virtual plugins (public).

``PLUGIN_REGISTRY_CLIENT`` is a proxy to the current app's shared
:class:`~.client.PluginRegistryClient`; plugins use it as ``with PLUGIN_REGISTRY_CLIENT as
client: client.search_by_rel("plugin", {"name": ...})``, or build their own
``PluginRegistryClient(app)``. :func:`init_registry_client` (called by ``create_app``) connects
the virtual-plugin signals of an app to the Celery task that tells the registry; the task
module is imported there, by name, not as a side effect of importing this package.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.local import LocalProxy

from .client import PluginRegistryClient
from .errors import RegistryError, RegistryRequestError, RegistryResponseError, RegistryUnavailable
from .state import current_registry_client, registry_state
from .types import ApiLink, ApiObject, ApiResponse, KeyedApiLink, match_api_link

__all__ = [
    "PLUGIN_REGISTRY_CLIENT",
    "PluginRegistryClient",
    "init_registry_client",
    "ApiLink",
    "KeyedApiLink",
    "ApiObject",
    "ApiResponse",
    "match_api_link",
    "RegistryError",
    "RegistryUnavailable",
    "RegistryRequestError",
    "RegistryResponseError",
]

PLUGIN_REGISTRY_CLIENT: PluginRegistryClient = LocalProxy(current_registry_client)  # type: ignore[assignment]


def init_registry_client(app: Flask) -> PluginRegistryClient:
    """Give ``app`` its shared registry client and connect the virtual-plugin notifier.

    Safe to call twice: the listeners are connected once per app.
    """
    from . import notifier  # the runner's registry task module, imported by name

    state = registry_state(app)
    notifier.connect_listeners(app, state)
    return state.client
