# SPDX-License-Identifier: Apache-2.0
"""Tell the plugin registry when a virtual plugin appears or disappears.

Plugins send ``VIRTUAL_PLUGIN_CREATED`` / ``VIRTUAL_PLUGIN_REMOVED`` (sender: the app,
``plugin_url=<href>``) after their change is committed. The listeners connected by
``init_registry_client`` only enqueue the Celery task :func:`notify_registry`, so a request
never waits for the registry and never fails because of it (a broker that cannot be reached is
logged, not raised). The task posts ``<plugin collection>?url=<href>``; the registry then
fetches ``href`` itself: plugin metadata registers it, a 404 deletes it. That is why the same
call serves both events, and why a removed plugin's href must answer 404 before the signal.
While the registry is unreachable or answers 5xx/429 the task retries with exponential
back-off (``PLUGIN_REGISTRY_RETRY_BACKOFF`` doubling up to ``PLUGIN_REGISTRY_RETRY_BACKOFF_MAX``,
at most ``PLUGIN_REGISTRY_MAX_RETRIES`` times).

The plugin collection is found once per app and registry: the root's ``plugin`` collection
link, and on that page the ``post`` link; without such links, ``<root>/plugins/`` when the root
ends in ``/api``, else ``<root>/api/plugins/``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, current_app

from ..celery import CELERY
from ..db.models.virtual_plugins import VIRTUAL_PLUGIN_CREATED, VIRTUAL_PLUGIN_REMOVED
from ..errors import BrokerUnavailable
from .client import PluginRegistryClient
from .errors import RegistryError, RegistryRequestError, RegistryUnavailable
from .state import RegistryClientState, registry_state

__all__ = [
    "NOTIFY_TASK_NAME",
    "EVENT_SIGNALS",
    "notify_registry",
    "enqueue_notification",
    "deliver",
    "default_plugins_endpoint",
    "connect_listeners",
]

_LOG = logging.getLogger(__name__)

NOTIFY_TASK_NAME: Final = "qhana-plugin-runner.notify-registry"
EVENT_SIGNALS: Final = {"created": VIRTUAL_PLUGIN_CREATED, "removed": VIRTUAL_PLUGIN_REMOVED}


@dataclass(frozen=True)
class Outcome:
    """What one notification attempt achieved."""

    delivered: bool
    retry: bool
    detail: str


def _without_query(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(query="", fragment=""))


def default_plugins_endpoint(registry_url: str) -> str:
    """The registry's plugin collection when its root does not link to it."""
    parts = urlsplit(registry_url)
    path = parts.path.rstrip("/")
    path = f"{path}/plugins/" if path.endswith("/api") else f"{path}/api/plugins/"
    return urlunsplit(parts._replace(path=path, query="", fragment=""))


def _discover(client: PluginRegistryClient, registry_url: str) -> str:
    """Follow root → ``plugin`` collection → ``post`` link; fall back to the default path.

    Raises:
        RegistryError: the registry is unreachable or failing (worth a retry).
    """
    try:
        root = client.fetch_root()
        collections = root.get_links_by_rel(["plugin", "collection"]) if root is not None else []
        if not collections:
            return default_plugins_endpoint(registry_url)
        page = client.fetch_by_api_link(collections[0])
        posts = page.get_links_by_rel(["plugin", "post"]) if page is not None else []
        return _without_query((posts or collections)[0]["href"])
    except (RegistryUnavailable, RegistryRequestError) as err:
        if err.retryable:
            raise
        _LOG.info("Registry root %s gave no plugin collection (%s); using the default path", registry_url, err)
    except RegistryError as err:  # an answer that is not JSON
        _LOG.info("Registry root %s gave no plugin collection (%s); using the default path", registry_url, err)
    return default_plugins_endpoint(registry_url)


def _plugins_endpoint(client: PluginRegistryClient, state: RegistryClientState, registry_url: str) -> str:
    with state.lock:
        known = state.endpoints.get(registry_url)
    if known is not None:
        return known
    endpoint = _discover(client, registry_url)
    with state.lock:
        state.endpoints[registry_url] = endpoint
    return endpoint


def deliver(app: Flask, plugin_url: str) -> Outcome:
    """One attempt at ``POST <plugin collection>?url=<plugin_url>`` (inside an app context)."""
    state = registry_state(app)
    client = state.client
    registry_url = client.plugin_registry_url
    if registry_url is None:
        return Outcome(False, False, "no PLUGIN_REGISTRY_URL is configured")
    try:
        with client:
            endpoint = _plugins_endpoint(client, state, registry_url)
            link = {"href": endpoint, "rel": ["post"], "resourceType": "plugin"}
            answer = client.fetch_by_api_link(link, query_params={"url": plugin_url})
    except RegistryError as err:
        return Outcome(False, err.retryable, str(err))
    if answer is None:  # 404: the collection moved; look for it again on the next attempt
        with state.lock:
            state.endpoints.pop(registry_url, None)
        client.cache.clear()  # the cached root may still point to the old place
        return Outcome(False, True, f"{endpoint} answered 404")
    return Outcome(True, False, f"{endpoint} accepted it")


def _backoff(app: Flask, retries: int) -> float:
    base = float(app.config.get("PLUGIN_REGISTRY_RETRY_BACKOFF", 2.0))
    return min(base * (2**retries), float(app.config.get("PLUGIN_REGISTRY_RETRY_BACKOFF_MAX", 600)))


@CELERY.task(name=NOTIFY_TASK_NAME, bind=True, ignore_result=True, max_retries=None)
def notify_registry(self: Any, plugin_url: str, event: str = "changed") -> None:
    """Tell the registry to look at ``plugin_url`` again; retried while the registry fails."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    outcome = deliver(app, plugin_url)
    if outcome.delivered:
        _LOG.info("Registry told that virtual plugin %s was %s: %s", plugin_url, event, outcome.detail)
        return
    limit = int(app.config.get("PLUGIN_REGISTRY_MAX_RETRIES", 8))
    if outcome.retry and self.request.retries < limit:
        _LOG.info("Registry notification for %s (%s) failed, retrying: %s", plugin_url, event, outcome.detail)
        raise self.retry(countdown=_backoff(app, self.request.retries), max_retries=limit)
    _LOG.warning("Registry not told that virtual plugin %s was %s: %s", plugin_url, event, outcome.detail)


def enqueue_notification(app: Flask, plugin_url: str | None, event: str) -> bool:
    """Queue a notification for ``plugin_url``; False if none was queued. Never raises."""
    if not str(app.config.get("PLUGIN_REGISTRY_URL") or "").strip():
        return False
    if not plugin_url:
        _LOG.warning("Virtual plugin %s signal without plugin_url; the registry is not told", event)
        return False
    try:
        notify_registry.apply_async((plugin_url, event))
    except BrokerUnavailable as err:
        _LOG.error("Registry not told that virtual plugin %s was %s: %s", plugin_url, event, err)
        return False
    except Exception:  # the caller is a request that must not fail because of the registry
        _LOG.error("Could not queue the registry notification for %s (%s)", plugin_url, event, exc_info=True)
        return False
    return True


def connect_listeners(app: Flask, state: RegistryClientState) -> None:
    """Connect this app's virtual-plugin signals to :func:`enqueue_notification` (once)."""

    def listener_for(event: str) -> Any:
        def listener(sender: Flask, plugin_url: str | None = None, **kwargs: Any) -> None:
            enqueue_notification(sender, plugin_url, event)

        return listener

    with state.lock:
        for event, signal in EVENT_SIGNALS.items():
            if event not in state.listeners:
                state.listeners[event] = listener_for(event)
                signal.connect(state.listeners[event], sender=app, weak=False)
