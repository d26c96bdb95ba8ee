# SPDX-License-Identifier: Apache-2.0
"""The runner's named errors.

Every error the runner raises on purpose derives from :class:`RunnerError`. The API turns the
ones that carry an HTTP status into the JSON error body every endpoint uses.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = [
    "RunnerError",
    "ConfigError",
    "PluginLoadError",
    "PluginValidationError",
    "FileStoreNotConfigured",
    "TaskNotFound",
    "BrokerUnavailable",
    "DeniedTarget",  # noqa: F822  (defined on first access, see __getattr__)
]


class RunnerError(Exception):
    """Base class of every error the runner raises on purpose."""


class ConfigError(RunnerError):
    """A configuration value is missing or cannot be parsed; start-up stops."""

    def __init__(self, key: str, value: object, reason: str) -> None:
        shown = "<hidden>" if "SECRET" in key or "PASSWORD" in key else repr(value)
        super().__init__(f"invalid configuration {key}={shown}: {reason}")
        self.key = key
        self.reason = reason


class PluginLoadError(RunnerError):
    """A plugin source could not be imported."""


class PluginValidationError(RunnerError):
    """A plugin class was imported but breaks a rule of the plugin contract."""

    def __init__(self, plugin: str, message: str) -> None:
        super().__init__(f"plugin {plugin}: {message}")
        self.plugin = plugin


class FileStoreNotConfigured(RunnerError, NotImplementedError):
    """No file store of the requested name (or no default store) is configured.

    Also a ``NotImplementedError`` because the original runner raised that here.
    """


class TaskNotFound(RunnerError, KeyError):
    """No ProcessingTask with the given id exists."""


class BrokerUnavailable(RunnerError):
    """A Celery message could not be sent; the task it belonged to was marked FAILURE."""

    status_code = 503


_LAZY_LOCK = threading.Lock()


def __getattr__(name: str) -> Any:
    """``DeniedTarget`` is defined when first asked for: it derives from
    ``requests.RequestException``, and importing requests (with urllib3, 127 modules, about
    5 MB and 30-50 ms) is left to the first process that makes an outgoing request."""
    if name != "DeniedTarget":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _LAZY_LOCK:
        defined = globals().get(name)
        if defined is None:
            defined = globals()[name] = _define_denied_target()
    return defined


def _define_denied_target() -> type:
    from requests import RequestException

    class DeniedTarget(RunnerError, RequestException):
        """An outgoing request was refused: its target lies in a denied network (see SECURITY.md).

        Also a ``requests.RequestException``, so code that handles failed requests handles this
        one too; it is not a ``ConnectionError``, so nothing retries it.
        """

    DeniedTarget.__module__, DeniedTarget.__qualname__ = __name__, "DeniedTarget"
    return DeniedTarget
