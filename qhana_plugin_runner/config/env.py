# SPDX-License-Identifier: Apache-2.0
"""Environment overrides as a table: one row per (config key, environment variable, parser).

A value that does not parse stops start-up with a :class:`~qhana_plugin_runner.errors.ConfigError`
naming the variable and the value.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

__all__ = ["EnvOverride", "ENV_OVERRIDES", "apply_env_overrides"]


def _str(value: str) -> str:
    return value


def _int(value: str) -> int:
    return int(value.strip())


def _float(value: str) -> float:
    return float(value.strip())


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true/false, yes/no, on/off or 1/0")


def _path_list(value: str) -> list[str]:
    return [part for part in value.split(os.pathsep if os.pathsep != ";" else ":") if part]


def _json_object(value: str) -> dict[str, Any]:
    parsed = json.loads(value)
    if not isinstance(parsed, dict):
        raise ValueError("expected a JSON object")
    return parsed


def _url_map(value: str) -> dict[str, Any]:
    """``{regex: replacement}``; checked here so an error names ``URL_MAP``, not the config key."""
    rules = _json_object(value)
    for pattern in rules:
        try:
            re.compile(pattern)
        except re.error as err:
            raise ValueError(f"invalid regular expression {pattern!r}: {err}") from None
    return rules


def _csv(value: str) -> str | list[str]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    return "*" if items == ["*"] else items


@dataclass(frozen=True)
class EnvOverride:
    """One environment variable and the config key it sets.

    ``celery_key`` puts the value into the ``CELERY`` dict instead of a top-level key.
    """

    key: str
    env: str
    parse: Callable[[str], Any] = _str
    celery_key: str | None = None


ENV_OVERRIDES: tuple[EnvOverride, ...] = (
    EnvOverride("SECRET_KEY", "SECRET_KEY"),
    EnvOverride("SECRET_KEY", "QHANA_SECRET_KEY"),
    EnvOverride("CELERY", "BROKER_URL", celery_key="broker_url"),
    EnvOverride("CELERY", "RESULT_BACKEND", celery_key="result_backend"),
    EnvOverride("CELERY", "CELERY_QUEUE", celery_key="task_default_queue"),
    EnvOverride("PLUGIN_FOLDERS", "PLUGIN_FOLDERS", _path_list),
    EnvOverride("SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_DATABASE_URI"),
    EnvOverride("URL_REWRITE_RULES", "URL_MAP", _url_map),
    EnvOverride("DEFAULT_FILE_STORE", "DEFAULT_FILE_STORE"),
    EnvOverride("FILE_STORE_ROOT_PATH", "FILE_STORE_ROOT_PATH"),
    EnvOverride("SERVER_NAME", "SERVER_NAME"),
    EnvOverride("PLUGIN_REGISTRY_URL", "PLUGIN_REGISTRY_URL"),
    EnvOverride("REVERSE_PROXY_COUNT", "REVERSE_PROXY_COUNT", _int),
    EnvOverride("MAX_CONTENT_LENGTH", "MAX_CONTENT_LENGTH", _int),
    EnvOverride("CORS_ORIGINS", "CORS_ORIGINS", _csv),
    EnvOverride("DEFAULT_LOG_SEVERITY", "DEFAULT_LOG_LEVEL"),
    EnvOverride("DEFAULT_LOG_SEVERITY", "LOG_LEVEL"),
    EnvOverride("BROKER_POLLING_INTERVAL", "BROKER_POLLING_INTERVAL", _float),
    EnvOverride("SQLALCHEMY_ECHO", "SQLALCHEMY_ECHO", _bool),
    EnvOverride("WEBHOOK_SECRET", "WEBHOOK_SECRET"),
    EnvOverride("EVENT_BUS_URL", "EVENT_BUS_URL"),
    EnvOverride("TASK_RETENTION_DAYS", "TASK_RETENTION_DAYS", _float),
    EnvOverride("TASK_CLEANUP_INTERVAL", "TASK_CLEANUP_INTERVAL", _float),
)


def apply_env_overrides(config: dict[str, Any], environ: Mapping[str, str]) -> None:
    """Apply every row of :data:`ENV_OVERRIDES` whose variable is set in ``environ``."""
    for row in ENV_OVERRIDES:
        raw = environ.get(row.env)
        if raw is None:
            continue
        try:
            value = row.parse(raw)
        except ValueError as err:
            raise ConfigError(row.env, raw, str(err)) from None
        if row.celery_key is not None:
            celery = dict(config.get("CELERY") or {})
            celery[row.celery_key] = value
            config["CELERY"] = celery
        else:
            config[row.key] = value
