# SPDX-License-Identifier: Apache-2.0
"""The runner's named errors.

Every error the runner raises on purpose derives from :class:`RunnerError`. The API turns the
ones that carry an HTTP status into the JSON error body every endpoint uses.
"""

from __future__ import annotations

from requests import RequestException

__all__ = [
    "RunnerError",
    "ConfigError",
    "PluginLoadError",
    "PluginValidationError",
    "FileStoreNotConfigured",
    "TaskNotFound",
    "BrokerUnavailable",
    "DeniedTarget",
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


class DeniedTarget(RunnerError, RequestException):
    """An outgoing request was refused: its target lies in a denied network (see SECURITY.md).

    Also a ``requests.RequestException``, so code that handles failed requests handles this
    one too; it is not a ``ConnectionError``, so nothing retries it.
    """
