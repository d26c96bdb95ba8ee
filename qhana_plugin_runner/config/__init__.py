# SPDX-License-Identifier: Apache-2.0
"""Configuration loading: defaults → instance files → settings file → environment → overrides.

:func:`load_config` is the only entry point. After the layers are merged,
:func:`finalize` derives what depends on the instance folder (database URI, broker folders,
file store root, secret key) and checks the values, raising
:class:`~qhana_plugin_runner.errors.ConfigError` for anything it cannot use.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from ..errors import ConfigError
from .defaults import DEFAULT_QUEUE, DebugConfig, ProductionConfig, TestingConfig
from .env import apply_env_overrides
from .secret_keys import weak_secret_reason

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["load_config", "finalize", "SETTINGS_ENV_VAR", "REDIS_BROKER_SCHEMES", "DEFAULT_DATABASE_FILE"]

# broker URLs served by kombu's Redis transport (and the runner's fixes in broker_redis.py);
# kept here so neither config nor celery.py imports that transport for other brokers
REDIS_BROKER_SCHEMES = ("redis://", "rediss://", "redis+socket://", "sentinel://")

SETTINGS_ENV_VAR = "QHANA_PLUGIN_RUNNER_SETTINGS"
DEFAULT_DATABASE_FILE = "qhana_plugin_runner.db"
"""The SQLite database in the instance folder when ``SQLALCHEMY_DATABASE_URI`` is not set."""
EMBEDDED_BROKER_PREFIX = "filesystem://"


def load_config(app: Flask, overrides: Mapping[str, Any] | None = None) -> None:
    """Fill ``app.config`` from every layer, in order, then finalize it.

    With ``overrides`` (tests), instance files and the environment are skipped: a test sees
    exactly the defaults plus what it asked for.
    """
    if overrides is not None:
        app.config.from_object(TestingConfig)
        app.config.from_mapping(overrides)
    else:
        debug = app.debug or os.environ.get("FLASK_ENV") == "development"
        app.config.from_object(DebugConfig if debug else ProductionConfig)
        _load_instance_files(app)
        settings = os.environ.get(SETTINGS_ENV_VAR)
        if settings:
            # absolute: from_pyfile would resolve a relative path against the package folder
            settings_file = Path(settings).resolve()
            if not settings_file.is_file():
                raise ConfigError(SETTINGS_ENV_VAR, settings, "file not found")
            app.config.from_pyfile(str(settings_file))
        apply_env_overrides(app.config, os.environ)
    finalize(app)


def _load_instance_files(app: Flask) -> None:
    instance = Path(app.instance_path)
    app.config.from_pyfile(str(instance / "config.py"), silent=True)
    json_file = instance / "config.json"
    if json_file.is_file():
        try:
            app.config.from_file(str(json_file), load=json.load)
        except ValueError as err:
            raise ConfigError("config.json", str(json_file), str(err)) from None
    toml_file = instance / "config.toml"
    if toml_file.is_file():
        try:
            app.config.from_file(str(toml_file), load=tomllib.load, text=False)
        except tomllib.TOMLDecodeError as err:
            raise ConfigError("config.toml", str(toml_file), str(err)) from None


def finalize(app: Flask) -> None:
    """Derive instance-dependent values and check the merged configuration."""
    config = app.config
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)

    production = not (config.get("DEBUG") or config.get("TESTING"))
    if config.get("SECRET_KEY") is None or (not production and not config.get("SECRET_KEY")):
        config["SECRET_KEY"] = _instance_secret_key(instance)
    if production:
        _refuse_weak_secrets(config)

    uri = config.get("SQLALCHEMY_DATABASE_URI") or f"sqlite:///{instance / DEFAULT_DATABASE_FILE}"
    config["SQLALCHEMY_DATABASE_URI"] = _normalize_database_uri(uri)

    store_root = Path(config.get("FILE_STORE_ROOT_PATH") or "files")
    config["FILE_STORE_ROOT_PATH"] = str(store_root if store_root.is_absolute() else instance / store_root)

    folders = config.get("PLUGIN_FOLDERS") or []
    if isinstance(folders, str):
        folders = [part for part in folders.split(":") if part]
    config["PLUGIN_FOLDERS"] = list(folders)

    config["URL_REWRITE_RULES"] = _compile_rewrite_rules(config.get("URL_REWRITE_RULES"))

    for key in ("REVERSE_PROXY_COUNT", "MAX_CONTENT_LENGTH", "DATABASE_POOL_SIZE"):
        value = config.get(key)
        if value is not None and (not isinstance(value, int) or value < 0):
            raise ConfigError(key, value, "expected a non-negative integer")

    for key in ("TASK_RETENTION_DAYS", "TASK_CLEANUP_INTERVAL"):
        value = config.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ConfigError(key, value, "expected a non-negative number")
    timeout = config.get("BROKER_VISIBILITY_TIMEOUT")
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise ConfigError("BROKER_VISIBILITY_TIMEOUT", timeout, "expected a positive number of seconds")

    config["CELERY"] = _celery_config(config, instance)


def _instance_secret_key(instance: Path) -> str:
    """A random key kept in the instance folder, so every process of one install agrees.

    The key is written to a private temporary file that is then hard-linked into place: a
    process starting at the same moment sees either no key file or a complete one, never an
    empty one, and the first link wins.
    """
    key_file = instance / "secret_key"
    if not key_file.exists():
        key = secrets.token_urlsafe(48)
        fd, temp_name = tempfile.mkstemp(dir=instance, prefix=".secret_key-")  # mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(key)
            os.link(temp_name, key_file)
            return key
        except FileExistsError:
            pass  # another process was faster: use its key
        finally:
            os.unlink(temp_name)
    key = key_file.read_text().strip()
    if key:
        return key
    raise ConfigError("SECRET_KEY", str(key_file), "the key file is empty")


def _refuse_weak_secrets(config: Mapping[str, Any]) -> None:
    """Production signs with these keys: a guessable one would let anyone forge tokens."""
    for key in ("SECRET_KEY", "JWT_SECRET_KEY"):
        reason = weak_secret_reason(config.get(key)) if key in config else None
        if reason:
            fallback = "the generated instance/secret_key" if key == "SECRET_KEY" else "SECRET_KEY"
            raise ConfigError(
                key,
                config.get(key),
                f"{reason}; production needs a random key of at least 16 bytes "
                f"(or leave {key} unset to use {fallback})",
            )


def _normalize_database_uri(uri: str) -> str:
    """We ship psycopg 3: plain and psycopg2 PostgreSQL URIs are pointed at it."""
    for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
        if uri.startswith(prefix):
            return "postgresql+psycopg://" + uri[len(prefix):]
    return uri


def _compile_rewrite_rules(rules: Any) -> list[tuple[re.Pattern[str], str]]:
    if not rules:
        return []
    pairs = rules.items() if isinstance(rules, Mapping) else rules
    compiled: list[tuple[re.Pattern[str], str]] = []
    for pair in pairs:
        try:
            pattern, replacement = pair
        except (TypeError, ValueError):
            raise ConfigError("URL_REWRITE_RULES", pair, "expected (pattern, replacement)") from None
        if isinstance(pattern, re.Pattern):
            compiled.append((pattern, str(replacement)))
            continue
        try:
            compiled.append((re.compile(str(pattern)), str(replacement)))
        except re.error as err:
            raise ConfigError("URL_REWRITE_RULES", pattern, f"invalid regular expression: {err}") from None
    for pattern, replacement in compiled:
        try:
            pattern.sub(replacement, "")  # compiles the template: bad escapes and group references
        except (re.error, IndexError) as err:
            raise ConfigError("URL_REWRITE_RULES", replacement, f"invalid replacement: {err}") from None
    return compiled


def _celery_config(config: Mapping[str, Any], instance: Path) -> dict[str, Any]:
    celery: dict[str, Any] = {
        "task_default_queue": DEFAULT_QUEUE,
        # a task of a worker that dies is delivered again instead of being lost
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        # a send to a dead broker fails within about a second (the request answers 503)
        "task_publish_retry_policy": {
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        "broker_connection_timeout": 2,
        "worker_hijack_root_logger": False,
    }
    celery.update(config.get("CELERY") or {})
    broker = celery.get("broker_url")
    if not broker:
        broker = EMBEDDED_BROKER_PREFIX + "localhost/"  # a host keeps kombu from warning
        celery["broker_url"] = broker
    if str(broker).startswith(EMBEDDED_BROKER_PREFIX):
        folder = instance / "celery-broker"
        queue_folder = folder / "queue"
        queue_folder.mkdir(parents=True, exist_ok=True)
        (folder / "control").mkdir(parents=True, exist_ok=True)
        options = dict(celery.get("broker_transport_options") or {})
        options.setdefault("data_folder_in", str(queue_folder))
        options.setdefault("data_folder_out", str(queue_folder))
        options.setdefault("control_folder", str(folder / "control"))
        options.setdefault("store_processed", False)
        options.setdefault("polling_interval", config.get("BROKER_POLLING_INTERVAL", 0.005))
        celery["broker_transport_options"] = options
        if not celery.get("result_backend"):
            results = instance / "celery-results"
            results.mkdir(parents=True, exist_ok=True)
            celery["result_backend"] = f"file://{results}"
    elif str(broker).startswith(REDIS_BROKER_SCHEMES):
        from ..broker_redis import redis_transport_options

        # a killed worker's tasks come back after this time, not after Celery's default hour
        options = celery.get("broker_transport_options") or {}
        celery["broker_transport_options"] = redis_transport_options(options, config["BROKER_VISIBILITY_TIMEOUT"])
    return celery
