# SPDX-License-Identifier: Apache-2.0
"""Default configuration, one plain class per run mode.

Values that depend on the instance folder (database, broker folders, file store) are filled in
by :func:`qhana_plugin_runner.config.finalize` once the instance path is known.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ProductionConfig", "DebugConfig", "TestingConfig", "DEFAULT_QUEUE"]

DEFAULT_QUEUE = "qhana_plugin_runner"


class ProductionConfig:
    """Safe defaults; every value can be overridden by instance files and the environment."""

    ENV = "production"
    DEBUG = False
    TESTING = False
    SECRET_KEY: str | None = None  # taken from the environment or a per-instance key file
    REVERSE_PROXY_COUNT = 0
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024

    LOG_CONFIG: dict[str, Any] | None = None
    DEFAULT_LOG_SEVERITY = "WARNING"
    DEFAULT_LOG_FORMAT_STYLE = "{"
    DEFAULT_LOG_FORMAT = "{asctime} [{levelname:^7}] [{name:<30}] {message}"
    DEFAULT_LOG_DATE_FORMAT: str | None = None

    # Celery: the broker URL stays unset here; finalize() picks the embedded filesystem
    # broker in the instance folder unless BROKER_URL (or CELERY["broker_url"]) names one.
    CELERY: dict[str, Any] = {"task_default_queue": DEFAULT_QUEUE}
    BROKER_POLLING_INTERVAL = 0.005  # seconds, filesystem broker only
    # Redis broker only: seconds after which the task of a worker that died is delivered again
    BROKER_VISIBILITY_TIMEOUT = 120.0
    # a worker runs save-result, save-error and add-step at the end of a chain right after the
    # plugin task, without a second message (celery.py FlaskTask.apply_async)
    INLINE_BOOKKEEPING = True

    DEFAULT_FILE_STORE = "local_filesystem"
    FILE_STORE_ROOT_PATH = "files"  # relative paths are relative to the instance folder
    # file:// URLs given to plugins may only point below these folders (plus the file store)
    FILE_URL_ALLOWED_ROOTS: list[str] = []
    # CIDR networks outgoing requests may never reach; None: cloud metadata and link-local
    # (util/net_guard.py DEFAULT_DENIED_NETWORKS), [] allows everything. See SECURITY.md.
    REQUEST_DENIED_NETWORKS: list[str] | None = None  # open_url and REQUEST_SESSION
    WEBHOOK_DENIED_NETWORKS: list[str] | None = None  # webhook calls

    PLUGIN_FOLDERS: list[str] = []
    PLUGIN_ENTRY_POINT_GROUP = "qhana_plugin_runner.plugins"
    PLUGIN_REGISTRY_URL: str | None = None
    URL_REWRITE_RULES: list[Any] = []

    SQLALCHEMY_DATABASE_URI: str | None = None  # default: SQLite in the instance folder
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ECHO = False
    SQLITE_FOREIGN_KEYS = True
    SQLITE_BUSY_TIMEOUT_MS = 30_000
    # seconds a pooled connection (PostgreSQL, MySQL) may sit unused before it is tested when
    # taken again; 0 tests every one (db/__init__.py)
    DATABASE_PING_AFTER_IDLE = 1.0
    # connections (PostgreSQL, MySQL) a process keeps open for reuse; at least its thread count
    # (the API's request threads, the worker's concurrency), else the surplus is opened and
    # closed again per use (db/__init__.py)
    DATABASE_POOL_SIZE = 16

    CORS_ORIGINS: str | list[str] = "*"
    # pages allowed to frame the micro-frontends and talk to microfrontend.js (web/framing.py)
    MICROFRONTEND_PARENT_ORIGINS: str | list[str] | None = None
    # /debug/ pages (route list, micro-frontend debugger, task pages); None: on in debug mode
    DEBUG_PAGES: bool | None = None

    # webhooks, event streams, plugin-to-plugin calls (see docs/configuration.md)
    WEBHOOK_SECRET: str | None = None
    WEBHOOK_TIMEOUT = 5
    WEBHOOK_MAX_RETRIES = 6
    WEBHOOK_RETRY_BACKOFF = 1.0
    WEBHOOK_RETRY_BACKOFF_MAX = 300
    EVENT_STREAM_POLL_INTERVAL = 0.05
    EVENT_STREAM_MAX_SECONDS = 300
    INTEROP_REQUEST_TIMEOUT = 10
    INTEROP_MONITOR_MAX_RETRIES = 60
    INTEROP_MONITOR_BACKOFF = 1.0
    INTEROP_MONITOR_BACKOFF_MAX = 300
    PLUGIN_REGISTRY_TIMEOUT = 5
    PLUGIN_REGISTRY_RETRY_BACKOFF = 2.0
    PLUGIN_REGISTRY_RETRY_BACKOFF_MAX = 600
    PLUGIN_REGISTRY_MAX_RETRIES = 8
    PLUGIN_REGISTRY_CACHE_TTL = 86400
    # GET /plugins/ is served from memory; virtual plugins created by other processes are
    # listed after at most this many seconds (this process's own changes at once); 0: no cache
    PLUGIN_LIST_CACHE_SECONDS = 1.0
    # repeated GETs of the plugin list and of finished tasks are answered without running Flask
    # while their cached body holds (api/replay.py): at most this many answers per process; 0: off
    RESPONSE_REPLAY_ENTRIES = 512

    # operations: Celery beat removes finished tasks (and their files) older than this many
    # days, every TASK_CLEANUP_INTERVAL seconds; 0 days keeps everything
    TASK_RETENTION_DAYS = 30.0
    TASK_CLEANUP_INTERVAL = 3600.0
    TASK_CLEANUP_BATCH_SIZE = 500

    API_TITLE = "QHAna plugin runner api."
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.2"
    OPENAPI_JSON_PATH = "api-spec.json"
    OPENAPI_URL_PREFIX = ""
    OPENAPI_REDOC_PATH = "/redoc/"
    OPENAPI_REDOC_URL = "https://cdn.jsdelivr.net/npm/redoc@next/bundles/redoc.standalone.js"
    OPENAPI_RAPIDOC_PATH = "/rapidoc/"
    OPENAPI_RAPIDOC_URL = "https://unpkg.com/rapidoc/dist/rapidoc-min.js"
    OPENAPI_RAPIDOC_CONFIG = {"use-path-in-nav-bar": "true"}
    OPENAPI_SWAGGER_UI_PATH = "/swagger-ui/"
    OPENAPI_SWAGGER_UI_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist/"

    JWT_TOKEN_LOCATION = ["headers"]


class DebugConfig(ProductionConfig):
    """``FLASK_DEBUG=1``: verbose logs, a fixed secret key, the bundled plugin folders."""

    ENV = "development"
    DEBUG = True
    SECRET_KEY = "debug_secret"
    DEFAULT_LOG_SEVERITY = "INFO"
    PLUGIN_FOLDERS = ["./plugins", "./local_plugins"]


class TestingConfig(ProductionConfig):
    """Base of the test suite's configuration (see :mod:`qhana_plugin_runner.testing`)."""

    TESTING = True
    SECRET_KEY = "test-secret-key-of-thirty-two-bytes!"
    SERVER_NAME = "localhost.localdomain"
    DEFAULT_LOG_SEVERITY = "WARNING"
