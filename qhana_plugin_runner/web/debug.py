# SPDX-License-Identifier: Apache-2.0
"""Debug pages under ``/debug/``: the route list, the micro-frontend debugger and task pages.

A plugin author tries every plugin in a browser without the QHAna UI: the debugger
(``/debug/frontend-debugger``) embeds a plugin's micro-frontend in an iframe the way the UI
does and answers its requests (``static/debug/debugger.js``): data-URL pickers offering task
outputs and the sample files below ``static/debug/samples/``, plugin URL look-ups through
``/plugins/``. After a submit it follows the task: status, progress, steps (each step's UI is
embedded and answered the same way), log and output previews.

Registered by :func:`init_debug_pages` when ``DEBUG_PAGES`` is true, or when it is unset
(``None``) and the app runs in debug mode. The pages list every route and show any task, so
they stay off in production.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from http import HTTPStatus

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask_smorest import abort

__all__ = ["DEBUG_BLP", "SAMPLE_FILES", "DataSource", "init_debug_pages", "debug_pages_enabled"]

DEBUG_BLP = Blueprint("debug", __name__, url_prefix="/debug")

_MEDIA_PATTERN = re.compile(r"^(\*|[\w.+-]+/(\*|[\w.+-]+))$")
_MAX_LIMIT = 1000


@dataclass(frozen=True)
class DataSource:
    """One file the debugger's data picker offers (a sample file or a task output)."""

    href: str
    name: str
    dataType: str  # noqa: N815  (the protocol's field names)
    contentType: str  # noqa: N815
    source: str
    taskId: int | None = None  # noqa: N815


#: (file below static/debug/samples/, QHAna data type, content type)
SAMPLE_FILES: tuple[tuple[str, str, str], ...] = (
    ("measurements.csv", "entity/list", "text/csv"),
    ("points.csv", "entity/vector", "text/csv"),
    ("entities.json", "entity/list", "application/json"),
    ("hello.txt", "text/plain", "text/plain"),
)


def debug_pages_enabled(app: Flask) -> bool:
    """``DEBUG_PAGES`` if set, else whether the app runs in debug mode."""
    setting = app.config.get("DEBUG_PAGES")
    return bool(app.debug) if setting is None else bool(setting)


def init_debug_pages(app: Flask) -> None:
    """Mount ``/debug/`` when :func:`debug_pages_enabled` says so."""
    if debug_pages_enabled(app):
        app.register_blueprint(DEBUG_BLP)


def _matches(pattern: str | None, value: str) -> bool:
    """``entity/list`` matches itself, ``entity/*`` and ``*``; no pattern matches everything."""
    if not pattern or pattern == "*":
        return True
    wanted_major, _, wanted_minor = pattern.partition("/")
    major, _, minor = value.partition("/")
    return wanted_major == major and wanted_minor in ("*", minor)


def _media_arg(name: str) -> str | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if not _MEDIA_PATTERN.match(value):
        abort(HTTPStatus.BAD_REQUEST, message=f"{name}={value!r} is not a type like 'entity/list', 'entity/*' or '*'.")
    return value


def _limit_arg() -> int:
    raw = request.args.get("limit", "200")
    try:
        limit = int(raw)
    except ValueError:
        abort(HTTPStatus.BAD_REQUEST, message=f"limit={raw!r} is not a whole number.")
    if not 1 <= limit <= _MAX_LIMIT:
        abort(HTTPStatus.BAD_REQUEST, message=f"limit must be between 1 and {_MAX_LIMIT}, not {limit}.")
    return limit


def _sample_sources() -> list[DataSource]:
    return [
        DataSource(
            href=url_for("static", filename=f"debug/samples/{name}", _external=True),
            name=name, dataType=data_type, contentType=content_type, source="sample",
        )
        for name, data_type, content_type in SAMPLE_FILES
    ]


def _task_sources(limit: int) -> list[DataSource]:
    """Outputs of finished tasks, newest first (the files a later plugin would be given)."""
    from ..db.db import DB
    from ..db.models.tasks import ProcessingTask, TaskFile
    from ..storage import STORE

    query = (
        DB.select(TaskFile)
        .join(ProcessingTask, TaskFile.task_id == ProcessingTask.id)
        .where(
            ProcessingTask.finished_at.is_not(None),
            TaskFile.file_type.is_not(None),
            TaskFile.mimetype.is_not(None),
            TaskFile.file_type != "temp-file",
        )
        .order_by(TaskFile.id.desc())
        .limit(limit)
    )
    return [
        DataSource(
            href=STORE.get_task_file_url(info), name=info.file_name, dataType=info.file_type or "",
            contentType=info.mimetype or "", source="task", taskId=info.task_id,
        )
        for info in DB.session.scalars(query)
    ]


@DEBUG_BLP.route("/")
def index() -> str:
    """Links to the debug pages and to the debugger for every loaded plugin."""
    from ..state import current_runner

    plugins = sorted(current_runner.plugins.with_api(), key=lambda p: (p.name, p.version))
    failures = current_runner.report.failures if current_runner.report else []
    return render_template("debug/index.html", plugins=plugins, failures=failures)


@DEBUG_BLP.route("/routes")
def routes() -> Response | str:
    """Every URL rule of the app (HTML, or JSON with ``?format=json``)."""
    rules = [
        {
            "rule": rule.rule,
            "endpoint": rule.endpoint,
            "methods": sorted(m for m in (rule.methods or ()) if m not in ("HEAD", "OPTIONS")),
        }
        for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))
    ]
    if request.args.get("format") == "json":
        return jsonify({"routes": rules})
    return render_template("debug/routes.html", rules=rules)


@DEBUG_BLP.route("/frontend-debugger")
def frontend_debugger() -> str:
    """The micro-frontend debugger; ``?url=`` (a micro-frontend URL) or ``?plugin=`` (an
    identifier) preselects what it shows."""
    plugin = request.args.get("plugin", "")
    return render_template("debug/debugger.html", initial_url=_initial_url(), initial_plugin=plugin, task_id=None)


@DEBUG_BLP.route("/tasks/<int:task_id>/")
def task_page(task_id: int) -> str:
    """The debugger following one task (status, progress, steps, log, outputs)."""
    from ..db.db import DB
    from ..db.models.tasks import ProcessingTask

    if DB.session.get(ProcessingTask, task_id) is None:
        abort(HTTPStatus.NOT_FOUND, message=f"No task with id {task_id}.")
    return render_template("debug/debugger.html", initial_url="", initial_plugin="", task_id=task_id)


@DEBUG_BLP.route("/data-sources")
def data_sources() -> Response:
    """Files the data picker offers: ``?dataType=``, ``?contentType=`` filter, ``?limit=`` caps
    the task outputs (default 200)."""
    data_type, content_type, limit = _media_arg("dataType"), _media_arg("contentType"), _limit_arg()
    items = [
        asdict(item)
        for item in _sample_sources() + _task_sources(limit)
        if _matches(data_type, item.dataType) and _matches(content_type, item.contentType)
    ]
    return jsonify({"items": items})


def _initial_url() -> str:
    url = request.args.get("url", "")
    if url and not ((url.startswith("/") and not url.startswith("//")) or re.match(r"^https?://", url)):
        abort(HTTPStatus.BAD_REQUEST, message="url must be a path on this runner or an http(s) URL.")
    return url
