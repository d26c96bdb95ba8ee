# SPDX-License-Identifier: Apache-2.0
"""The REST API: one flask-smorest ``Api`` per app with the core blueprints mounted.

Public names kept from the original runner: ``EnumField``, ``MaBaseSchema`` and ``ROOT_API``
(now a proxy to the current app's Api).
"""

from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Flask, jsonify
from flask_smorest.globals import current_api
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..errors import BrokerUnavailable
from .extra_fields import CSVList, EnumField
from .jwt_helper import SECURITY_SCHEMES
from .lazy_doc import Api
from .spec_errors import ErrorResponsesPlugin
from .subscriptions import init_process_subscriptions
from .util import MaBaseSchema

__all__ = ["init_api", "ROOT_API", "EnumField", "CSVList", "MaBaseSchema"]

_LOG = logging.getLogger(__name__)

ROOT_API: Api = current_api  # type: ignore[assignment]


def init_api(app: Flask) -> Api:
    """Create the app's Api, register the core endpoints and the JSON error handlers."""
    from . import task_events  # noqa: F401  (adds /tasks/<id>/events to TASKS_BLP)
    from .files_api import FILES_BLP
    from .health_api import HEALTH_BLP
    from .plugins_api import PLUGINS_BLP
    from .root_api import ROOT_BLP
    from .tasks_api import TASKS_BLP

    app.config.setdefault("API_TITLE", "QHAna plugin runner api.")
    app.config.setdefault("API_VERSION", "v1")
    plugin = MarshmallowPlugin(schema_name_resolver=schema_name_resolver)
    api = Api(
        app,
        spec_kwargs={
            "title": app.config["API_TITLE"],
            "version": app.config["API_VERSION"],
            "marshmallow_plugin": plugin,
            "extra_plugins": [ErrorResponsesPlugin()],
        },
    )
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    api.register_field(EnumField, "string", None)
    api.register_field(CSVList, "string", None)
    prefix = str(app.config.get("OPENAPI_URL_PREFIX") or "").rstrip("/")
    api.register_blueprint(ROOT_BLP, url_prefix=prefix or "/")
    api.register_blueprint(HEALTH_BLP, url_prefix=prefix or "/")
    api.register_blueprint(PLUGINS_BLP, url_prefix=f"{prefix}/plugins")
    api.register_blueprint(TASKS_BLP, url_prefix=f"{prefix}/tasks")
    api.register_blueprint(FILES_BLP, url_prefix=f"{prefix}/files")
    init_process_subscriptions(app)
    _register_error_handlers(app)
    return api


def schema_name_resolver(schema: Any) -> str | None:
    """Component name of a schema in the OpenAPI document.

    Plugins often reuse one schema class with modifiers (``partial=True``) and different plugins
    use the same class names, so: schemas with modifiers are inlined, and plugin schemas are
    named after their module.
    """
    cls = resolve_schema_cls(schema)
    if isinstance(schema, ma.Schema) and (schema.only or schema.exclude or schema.partial or schema.load_only or schema.dump_only):
        return None
    name = cls.__name__
    if name.endswith("Schema") and len(name) > 6:
        name = name[:-6]
    if not cls.__module__.startswith("qhana_plugin_runner."):
        name = f"{cls.__module__}.{name}"
    return name


def _error_body(code: int, status: str, message: str) -> dict[str, Any]:
    return {"code": code, "status": status, "message": message}


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(BrokerUnavailable)
    def _broker_unavailable(err: BrokerUnavailable) -> Any:
        response = jsonify(_error_body(503, "Service Unavailable", str(err)))
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(err: DBAPIError) -> Any:
        # the database cannot be reached (restart, failover): a client should try again soon
        _LOG.warning("Database unavailable while serving a request: %s", err.orig or err)
        response = jsonify(_error_body(503, "Service Unavailable", "The database is unavailable; try again shortly."))
        response.status_code = 503
        response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Any:
        if isinstance(err, HTTPException):
            return err  # flask-smorest's handler renders these as JSON
        _LOG.exception("Unhandled error while serving a request")
        response = jsonify(_error_body(500, "Internal Server Error", "The server could not complete the request; the error was logged."))
        response.status_code = 500
        return response

    @app.errorhandler(InternalServerError)
    def _internal(err: InternalServerError) -> Any:
        response = jsonify(_error_body(500, "Internal Server Error", "The server could not complete the request; the error was logged."))
        response.status_code = 500
        return response
