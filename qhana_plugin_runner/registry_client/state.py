# SPDX-License-Identifier: Apache-2.0
"""Per-app registry client state, kept in the runner state's ``extras["registry_client"]``.

Each app gets one shared :class:`PluginRegistryClient` (not bound to the app: it reads the
current app's configuration) and a memo of the registry endpoint that virtual-plugin
notifications are posted to.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

from ..state import get_state
from .client import PluginRegistryClient

__all__ = ["RegistryClientState", "registry_state", "current_registry_client"]

EXTRA_KEY = "registry_client"
_CREATE_LOCK = threading.Lock()


@dataclass
class RegistryClientState:
    """What the registry client keeps for one app."""

    client: PluginRegistryClient = field(default_factory=PluginRegistryClient)
    # registry API root -> URL of its plugin collection (where notifications are posted)
    endpoints: dict[str, str] = field(default_factory=dict)
    listeners: dict[str, Callable[..., Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def registry_state(app: Flask) -> RegistryClientState:
    """The registry state of ``app``, created on first use."""
    extras = get_state(app).extras
    state = extras.get(EXTRA_KEY)
    if state is None:
        with _CREATE_LOCK:
            state = extras.setdefault(EXTRA_KEY, RegistryClientState())
    return state


def current_registry_client() -> PluginRegistryClient:
    """The shared client of the current app (what ``PLUGIN_REGISTRY_CLIENT`` points to)."""
    return registry_state(current_app._get_current_object()).client  # type: ignore[attr-defined]
