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


def parse_bool(value: str) -> bool:
    """true/false, yes/no, on/off, 1/0 (any case; empty is false); else ValueError."""
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
    """``{regex: replacement}``; checked here so an error names ``URL_MAP``, not the config key.

    Empty means no rules (compose files pass ``URL_MAP: ${URL_MAP:-}``).
    """
    if not value.strip():
        return {}
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
    ``description`` is one line of Markdown for the configuration reference of the docs.
    """

    key: str
    env: str
    parse: Callable[[str], Any] = _str
    celery_key: str | None = None
    description: str = ""


ENV_OVERRIDES: tuple[EnvOverride, ...] = (
    EnvOverride("SECRET_KEY", "SECRET_KEY", description="Flask and JWT secret. Unset in production: a random key is created once in `instance/secret_key` (mode 0600), so every process of one installation uses the same key"),
    EnvOverride("SECRET_KEY", "QHANA_SECRET_KEY", description="the same as `SECRET_KEY` (read after it, so it wins when both are set)"),
    EnvOverride("CELERY", "BROKER_URL", celery_key="broker_url", description="Celery broker URL (e.g. `redis://redis:6379`); unset: the filesystem broker in `instance/celery-broker/` (one host only)"),
    EnvOverride("CELERY", "RESULT_BACKEND", celery_key="result_backend", description="Celery result backend; unset with the filesystem broker: `file://` in `instance/celery-results/`"),
    EnvOverride("CELERY", "CELERY_QUEUE", celery_key="task_default_queue", description="queue the runner's tasks are sent to and workers consume"),
    EnvOverride("PLUGIN_FOLDERS", "PLUGIN_FOLDERS", _path_list, description="folders to load plugins from"),
    EnvOverride("SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_DATABASE_URI", description="database URI; unset: SQLite in the instance folder. `postgresql://` URIs use psycopg 3"),
    EnvOverride("URL_REWRITE_RULES", "URL_MAP", _url_map, description="rewrites of URLs the runner and plugins fetch (a URL valid in the browser mapped to one the worker reaches); an invalid regex stops start-up"),
    EnvOverride("DEFAULT_FILE_STORE", "DEFAULT_FILE_STORE", description="file store for task outputs"),
    EnvOverride("FILE_STORE_ROOT_PATH", "FILE_STORE_ROOT_PATH", description="root folder of the local file store (relative: inside the instance folder)"),
    EnvOverride("SERVER_NAME", "SERVER_NAME", description="`host[:port]` for URLs built outside a request (in workers)"),
    EnvOverride("PLUGIN_REGISTRY_URL", "PLUGIN_REGISTRY_URL", description="API root of the QHAna plugin registry to notify about virtual plugins; unset: no notifications"),
    EnvOverride("REVERSE_PROXY_COUNT", "REVERSE_PROXY_COUNT", _int, description="number of reverse proxies in front of the runner whose `X-Forwarded-*` headers are trusted"),
    EnvOverride("MAX_CONTENT_LENGTH", "MAX_CONTENT_LENGTH", _int, description="largest request body in bytes; larger bodies get 413"),
    EnvOverride("CORS_ORIGINS", "CORS_ORIGINS", _csv, description="origins allowed to call the API from a browser"),
    EnvOverride("MICROFRONTEND_PARENT_ORIGINS", "MICROFRONTEND_PARENT_ORIGINS", description="origins (`https://ui.example:8080`, space or comma separated) allowed to frame the micro-frontends and exchange messages with them; unset: any page"),
    EnvOverride("DEBUG_PAGES", "DEBUG_PAGES", parse_bool, description="serve the `/debug/` pages (route list, micro-frontend debugger, task pages); unset: only in debug mode"),
    EnvOverride("DEFAULT_LOG_SEVERITY", "DEFAULT_LOG_LEVEL", description="root log level (`DEBUG`, `INFO`, `WARNING`, `ERROR`)"),
    EnvOverride("DEFAULT_LOG_SEVERITY", "LOG_LEVEL", description="the same as `DEFAULT_LOG_LEVEL` (read after it, so it wins when both are set)"),
    EnvOverride("BROKER_POLLING_INTERVAL", "BROKER_POLLING_INTERVAL", _float, description="seconds between polls of the filesystem broker where inotify is missing (on Linux the worker waits on the queue folder and wakes when a message arrives)"),
    EnvOverride("BROKER_VISIBILITY_TIMEOUT", "BROKER_VISIBILITY_TIMEOUT", _float, description="Redis broker: seconds after which the tasks of a worker that died (SIGKILL, out of memory) are delivered to another worker"),
    EnvOverride("DATABASE_PING_AFTER_IDLE", "DATABASE_PING_AFTER_IDLE", _float, description="seconds a pooled database connection (not SQLite) may sit unused before it is tested when it is taken again, so one the database dropped is replaced instead of failing a request; `0` tests every one"),
    EnvOverride("DATABASE_POOL_SIZE", "DATABASE_POOL_SIZE", _int, description="pooled connections a process keeps open to a database server (not SQLite); give at least the process's threads (`GUNICORN_THREADS`, `CONCURRENCY`): connections beyond it are opened for one use and closed again"),
    EnvOverride("SQLALCHEMY_ECHO", "SQLALCHEMY_ECHO", parse_bool, description="log every SQL statement"),
    EnvOverride("WEBHOOK_SECRET", "WEBHOOK_SECRET", description="key of the HMAC-SHA256 signature of webhook calls; unset: calls are not signed"),
    EnvOverride("EVENT_BUS_URL", "EVENT_BUS_URL", description="Redis URL on which task changes are published so event streams on any host wake at once"),
    EnvOverride("TASK_RETENTION_DAYS", "TASK_RETENTION_DAYS", _float, description="finished tasks and their files older than this many days are removed by the periodic cleanup (Celery beat); `0` keeps everything"),
    EnvOverride("PLUGIN_LIST_CACHE_SECONDS", "PLUGIN_LIST_CACHE_SECONDS", _float, description="`GET /plugins/` is answered from memory; virtual plugins added or removed by another process are listed after at most this many seconds (the same process's at once); `0` reads them on every request"),
    EnvOverride("RESPONSE_REPLAY_ENTRIES", "RESPONSE_REPLAY_ENTRIES", _int, description="repeated `GET`s of the plugin list and of a finished task are answered from memory without running Flask while the answer cannot have changed; at most this many answers per API process; `0` turns that off"),
    EnvOverride("TASK_CLEANUP_INTERVAL", "TASK_CLEANUP_INTERVAL", _float, description="seconds between two runs of the periodic cleanup"),
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
