# SPDX-License-Identifier: Apache-2.0
"""``GET /health`` (the process answers) and ``GET /ready`` (its database and broker answer).

Container health checks and load balancers use ``/health``: it touches nothing but the process,
so a database outage does not get every API process restarted. ``/ready`` says whether requests
can be served: it runs ``SELECT 1`` and opens a broker connection, each with a short time limit,
and answers 503 with the failing check named when one fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import text

__all__ = ["HEALTH_BLP"]

HEALTH_BLP = Blueprint("health", __name__, description="Liveness and readiness of the runner.")


class CheckSchema(ma.Schema):
    ok = ma.fields.Boolean(required=True)
    latency_ms = ma.fields.Float(required=True, data_key="latencyMs")
    error = ma.fields.String(metadata={"description": "why the check failed"})


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"description": "ok"})


class ReadySchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"description": "ok or unavailable"})
    checks = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(CheckSchema), required=True)


@HEALTH_BLP.route("/health")
class HealthView(MethodView):
    @HEALTH_BLP.response(200, HealthSchema())
    def get(self) -> dict[str, str]:
        """The process is up (no database or broker access)."""
        return {"status": "ok"}


@HEALTH_BLP.route("/ready")
class ReadyView(MethodView):
    @HEALTH_BLP.response(200, ReadySchema())
    @HEALTH_BLP.alt_response(503, schema=ReadySchema(), description="A check failed.")
    def get(self) -> tuple[dict[str, Any], int]:
        """The database and the task queue broker can be reached."""
        checks = {"database": _timed(_check_database), "broker": _timed(_check_broker)}
        ok = all(check["ok"] for check in checks.values())
        return {"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503


def _timed(check: Callable[[], None]) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        check()
    except Exception as err:  # any failure makes the runner not ready; say which
        return {"ok": False, "latency_ms": _ms(start), "error": f"{type(err).__name__}: {err}"[:500]}
    return {"ok": True, "latency_ms": _ms(start)}


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


def _check_database() -> None:
    from ..db.db import DB

    try:
        DB.session.execute(text("SELECT 1"))
    finally:
        DB.session.rollback()


def _check_broker() -> None:
    celery = current_app.extensions["celery"]
    url = str(celery.conf.broker_url or "")
    if url.startswith("filesystem://"):
        options = celery.conf.broker_transport_options or {}
        folder = Path(options.get("data_folder_in", ""))
        if not folder.is_dir():
            raise FileNotFoundError(f"broker folder {folder} is missing")
        return
    timeout = float(celery.conf.broker_connection_timeout or 2)
    with celery.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
