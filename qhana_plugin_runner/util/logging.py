# SPDX-License-Identifier: Apache-2.0
"""Logging helpers for plugins: named child loggers and redaction of secrets before logging.

Plugins log their parameters for debugging; those parameters can hold access tokens, which
must never reach log files. :func:`redact_log_data` makes a safe copy to log instead.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["get_logger", "redact_log_data", "REDACTED", "DEFAULT_PRIVATE_FIELDS"]

REDACTED: Final = "****"
DEFAULT_PRIVATE_FIELDS: Final = ("ibmq_token", "ibmqToken", "db_password")


def get_logger(app: Flask, name: str) -> logging.Logger:
    """The logger ``<app import name>.<name>``, a child of the app's logger hierarchy.

    Being a child, it inherits the handlers and level the runner configured for the app.
    """
    return logging.getLogger(f"{app.import_name}.{name}")


def redact_log_data(
    data: Mapping[str, Any], private_fields: Collection[str] = DEFAULT_PRIVATE_FIELDS
) -> dict[str, Any]:
    """A copy of ``data`` with the values of ``private_fields`` replaced by ``"****"``.

    Nested mappings and lists are redacted too (the original only looked at the top level),
    because plugin parameters often nest backend settings. ``data`` itself is not changed.
    """
    return {
        key: REDACTED if key in private_fields else _redact_value(value, private_fields)
        for key, value in data.items()
    }


def _redact_value(value: Any, private_fields: Collection[str]) -> Any:
    if isinstance(value, Mapping):
        return redact_log_data(value, private_fields)
    if isinstance(value, list):
        return [_redact_value(item, private_fields) for item in value]
    if isinstance(value, tuple):
        return tuple(_redact_value(item, private_fields) for item in value)
    return value
