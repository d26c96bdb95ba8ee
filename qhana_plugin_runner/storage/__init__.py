# SPDX-License-Identifier: Apache-2.0
"""File storage for task results (public path ``qhana_plugin_runner.storage``).

``STORE`` is a proxy to the current app's :class:`FileStoreRegistry`; use it inside an app
context (requests and Celery tasks have one).
"""

from __future__ import annotations

import logging
import sys

from flask import Flask, current_app
from werkzeug.local import LocalProxy

from ..state import get_state
from .base import STORE_CLASSES, FileStore, FileStoreInterface
from .local import LocalFileStore
from .registry import FileStoreRegistry
from .url import UrlFileStore

__all__ = ["STORE", "FileStore", "FileStoreInterface", "FileStoreRegistry", "LocalFileStore", "UrlFileStore", "init_storage"]

_LOG = logging.getLogger(__name__)


def init_storage(app: Flask) -> FileStoreRegistry:
    """Instantiate every known store class for ``app``; a store that fails is left out."""
    stores: dict[str, FileStore] = {}
    for name, cls in list(STORE_CLASSES.items()):
        if cls.__module__ not in sys.modules:
            continue  # defined by a plugin module whose import failed
        try:
            stores[name] = cls(app)
        except Exception as err:  # plugin code, or a store whose service is unreachable
            _LOG.warning("File store %s not available: %r", name, err, exc_info=True)
    registry = FileStoreRegistry(stores, app.config.get("DEFAULT_FILE_STORE"))
    if registry.default_name and registry.default_name not in stores:
        _LOG.error("The default file store %r is not available; saving task results will fail.", registry.default_name)
    get_state(app).file_stores = registry
    return registry


def _current_registry() -> FileStoreRegistry:
    registry = get_state(current_app).file_stores
    if registry is None:
        raise RuntimeError("file stores are not initialised for this app")
    return registry


STORE: FileStoreRegistry = LocalProxy(_current_registry)  # type: ignore[assignment]
