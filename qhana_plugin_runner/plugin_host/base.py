# SPDX-License-Identifier: Apache-2.0
"""``QHAnaPluginBase``, the class every plugin subclasses, and ``plugin_identifier``.

Defining a subclass only *marks* it: the class gets its single ``instance`` at once (plugins
read ``Plugin.instance.identifier`` at import time, for example to name Celery tasks) and is
noted under its module. Which plugins an app serves is decided by the loader
(:mod:`qhana_plugin_runner.plugin_host.loader`), which imports plugin sources, validates the
classes noted for them and registers the good ones in the app's registry.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from contextvars import ContextVar
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from flask import current_app, has_app_context
from packaging.version import Version

if TYPE_CHECKING:
    from flask import Blueprint, Flask

__all__ = ["QHAnaPluginBase", "plugin_identifier"]

_LOG = logging.getLogger(__name__)

# The app a loader is currently importing plugins for (None outside a load).
LOADING_APP: ContextVar[Flask | None] = ContextVar("qhana_loading_app", default=None)
# Every plugin class ever defined in this process, by the module that defined it.
CLASSES_BY_MODULE: defaultdict[str, list[type[QHAnaPluginBase]]] = defaultdict(list)


def plugin_identifier(name: str, version: str) -> str:
    """The URL-safe id of a plugin: dots become dashes, name and version joined by ``@``."""
    return f"{name.replace('.', '-')}@{version.replace('.', '-')}"


class QHAnaPluginBase:
    """Base class of every plugin. Override the hooks below; the loader calls them."""

    name: ClassVar[str]
    version: ClassVar[str]
    description: ClassVar[str] = ""
    tags: ClassVar[list[str]] = []

    instance: ClassVar[Any] = None
    """The one instance of this plugin class, created when the class is defined."""

    has_api: bool = False
    """Set on the instance once its blueprint is mounted (read-only for plugins)."""

    construction_error: ClassVar[BaseException | None] = None
    """The exception that kept ``instance`` from being created, if any (for the load report)."""

    __app__: ClassVar[Any] = current_app
    __plugins__: ClassVar[dict[str, QHAnaPluginBase]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "tags" not in cls.__dict__:
            cls.tags = list(cls.tags)  # never share the base class's list
        cls.instance = None
        cls.construction_error = None
        CLASSES_BY_MODULE[cls.__module__].append(cls)
        if not getattr(cls, "name", None) or not getattr(cls, "version", None):
            return  # the loader reports the missing name or version
        try:
            instance = cls(app=LOADING_APP.get())
        except Exception as err:  # plugin code: record it, the loader reports it
            cls.construction_error = err
            _LOG.warning("Plugin class %s could not be instantiated: %r", cls.__qualname__, err, exc_info=True)
            return
        cls.instance = instance
        QHAnaPluginBase.__plugins__[instance.identifier] = instance

    def __init__(self, app: Flask | None = None) -> None:
        self.app = app
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Hook: set up the plugin for ``app`` (config, CLI commands, signal listeners)."""

    def get_api_blueprint(self) -> Blueprint:
        """Hook: return the blueprint serving the plugin's API and micro-frontend."""
        raise NotImplementedError()

    def get_requirements(self) -> str:
        """Hook: return the plugin's requirements in requirements.txt format."""
        raise NotImplementedError()

    @cached_property
    def identifier(self) -> str:
        """``plugin_identifier(name, version)``."""
        return plugin_identifier(self.name, self.version)

    @cached_property
    def parsed_version(self) -> Version:
        """The version as a ``packaging`` Version (raises InvalidVersion if it is not PEP 440)."""
        return Version(self.version)

    @staticmethod
    def get_plugins() -> dict[str, QHAnaPluginBase]:
        """The plugins of the current app (identifier → instance); all defined ones outside an app."""
        if has_app_context():
            from ..state import EXTENSION_KEY

            state = current_app.extensions.get(EXTENSION_KEY)
            if state is not None:
                return state.plugins.as_dict()
        return dict(QHAnaPluginBase.__plugins__)
