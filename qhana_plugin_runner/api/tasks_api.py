# SPDX-License-Identifier: Apache-2.0
"""``/tasks/<id>/``: the task resource, and webhook (un)subscription by POST.

The representation follows what the QHAna backend binds: ``progress`` holds exactly
start/target/value/unit, each step exactly href/uiHref/stepId/cleared, and ``progress`` and
``steps`` are left out (never null) when there are none.
"""

from __future__ import annotations

import hashlib
import json
from functools import partial
from typing import Any, NamedTuple

import marshmallow as ma
from flask import Response, current_app, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import bindparam, delete, literal_column, null, or_, select, union_all
from sqlalchemy.orm import configure_mappers
from sqlalchemy.orm.attributes import set_committed_value

from ..db.db import DB
from ..db.models.tasks import (
    ProcessingTask,
    Step,
    TaskFile,
    TaskLink,
    TaskStatus,
    TaskUpdateSubscription,
)
from ..storage import STORE
from ..storage.base import TEMP_FILE_TYPE
from .replay import offer_replay
from .response_cache import ResponseCache, request_host_key
from .subscriptions import add_subscription, validate_webhook
from .util import MaBaseSchema

__all__ = ["TASKS_BLP", "task_representation", "EVENT_TYPES"]

TASKS_BLP = Blueprint("tasks-api", __name__, description="Task results and webhook subscriptions.")

EVENT_TYPES = ("status", "steps", "details")


class ProgressSchema(ma.Schema):
    start = ma.fields.Float()
    target = ma.fields.Float()
    value = ma.fields.Float()
    unit = ma.fields.String()


class StepSchema(ma.Schema):
    href = ma.fields.String(required=True)
    uiHref = ma.fields.String(allow_none=True)
    stepId = ma.fields.String(allow_none=True)
    cleared = ma.fields.Boolean(required=True)


class OutputSchema(ma.Schema):
    href = ma.fields.String(required=True)
    dataType = ma.fields.String(required=True)
    contentType = ma.fields.String(required=True)
    name = ma.fields.String()


class LinkSchema(ma.Schema):
    type = ma.fields.String(required=True)
    href = ma.fields.String(required=True)


class TaskStatusSchema(ma.Schema):
    """Documentation of the task resource (the view builds it directly, see ``task_representation``)."""

    status = ma.fields.String(required=True, metadata={"description": "PENDING, SUCCESS, FAILURE or UNKNOWN"})
    log = ma.fields.String()
    progress = ma.fields.Nested(ProgressSchema())
    steps = ma.fields.List(ma.fields.Nested(StepSchema()))
    outputs = ma.fields.List(ma.fields.Nested(OutputSchema()))
    links = ma.fields.List(ma.fields.Nested(LinkSchema()))


class SubscriptionDataSchema(MaBaseSchema):
    command = ma.fields.String(required=True, validate=ma.validate.OneOf(["subscribe", "unsubscribe"]))
    event = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.OneOf(EVENT_TYPES),
        metadata={"description": "status, steps or details; null (or left out) means every event"},
    )
    webhook_href = ma.fields.Url(required=True, require_tld=False, schemes={"http", "https"})


def _number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _own_links(task_id: int) -> list[dict[str, str]]:
    """The links every task has (subscription, event stream), for this request's host."""
    return [
        {"type": "subscribe", "href": url_for("tasks-api.TaskView", task_id=task_id, _external=True)},
        {"type": "events", "href": url_for("tasks-api.TaskEventsView", task_id=task_id, _external=True)},
    ]


def _body(task_id: int, status: str, columns: Any, steps: Any, outputs: list[dict[str, Any]], links: Any, own_links: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The task resource from plain values: ``columns`` has ``task_log`` and the ``progress_*``
    fields, ``steps`` rows with href, ui_href, step_id, cleared and ``links`` rows with type,
    href (ORM objects and result rows both do); ``own_links`` as :func:`_own_links` gives them
    (made here when not given: that needs a request)."""
    body: dict[str, Any] = {"status": status, "log": columns.task_log or ""}
    if columns.progress_value is not None:
        body["progress"] = {
            "start": _number(columns.progress_start),
            "target": _number(columns.progress_target),
            "value": _number(columns.progress_value),
            "unit": columns.progress_unit,
        }
    if steps:
        body["steps"] = [{"href": s.href, "uiHref": s.ui_href, "stepId": s.step_id, "cleared": bool(s.cleared)} for s in steps]
    body["outputs"] = outputs
    body["links"] = [
        *(_own_links(task_id) if own_links is None else own_links),
        *({"type": link.type, "href": link.href} for link in links),
    ]
    return body


def _outputs(task_id: int) -> list[dict[str, Any]]:
    """The outputs of a finished task: its result files with a data and content type."""
    return _outputs_of(TaskFile.get_task_result_files(task_id))


def _outputs_of(files: Any) -> list[dict[str, Any]]:
    outputs = []
    for info in files:
        if info.file_type is None or info.mimetype is None:
            continue
        output = {"href": STORE.get_task_file_url(info), "dataType": info.file_type, "contentType": info.mimetype}
        if info.file_name is not None:
            output["name"] = info.file_name
        outputs.append(output)
    return outputs


def task_representation(task: ProcessingTask) -> dict[str, Any]:
    """The JSON body of ``GET /tasks/<id>/`` (needs a request or SERVER_NAME for URLs)."""
    outputs = _outputs(task.id) if task.is_finished else []
    return _body(task.id, task.status, task, task.steps, outputs, task.links)


_TASK_SCHEMA = TaskStatusSchema()

# One core statement over the four tables, built once with the task id as a bound parameter:
# the task's row, then its steps, its links and its result files, as rows of one shape
# (``part`` says which; a part puts its values into columns of the same type and leaves the
# others NULL). The session runs it without the ORM's compile step, SQLAlchemy reuses the
# compiled form, and a poll costs one round trip instead of three, the first read of a finished
# task one instead of two (on PostgreSQL a pending poll 1.0 -> 0.7 ms in-process, a finished
# task's first read 1.8 -> 1.1 ms).
_TASKS, _STEPS, _LINKS, _FILES = ProcessingTask.__table__.c, Step.__table__.c, TaskLink.__table__.c, TaskFile.__table__.c
_TASK_PART, _STEP_PART, _LINK_PART, _FILE_PART = 0, 1, 2, 3
_NONE = null()


def _part(part: int, order: Any, task: tuple[Any, ...], row: tuple[Any, ...]) -> Any:
    return select(literal_column(str(part)).label("part"), order.label("seq"), *task, *row)


_TASK_READ = union_all(
    _part(
        _TASK_PART,
        literal_column("0"),
        (_TASKS.finished_at.label("finished_at"), _TASKS.task_status.label("task_status"), _TASKS.task_log.label("task_log"),
         _TASKS.progress_start.label("progress_start"), _TASKS.progress_target.label("progress_target"),
         _TASKS.progress_value.label("progress_value"), _TASKS.progress_unit.label("progress_unit")),
        (_NONE.label("href"), _NONE.label("ui_href"), _NONE.label("step_id"), _NONE.label("cleared"), _NONE.label("extra")),
    ).where(_TASKS.id == bindparam("task_id")),
    _part(
        _STEP_PART, _STEPS.number, (_NONE,) * 7, (_STEPS.href, _STEPS.ui_href, _STEPS.step_id, _STEPS.cleared, _NONE)
    ).where(_STEPS.id == bindparam("task_id")),
    _part(
        _LINK_PART, _LINKS.id, (_NONE,) * 7, (_LINKS.href, _LINKS.type, _NONE, _NONE, _NONE)
    ).where(_LINKS.task_id == bindparam("task_id")),
    # result files (temp files left out), as TaskFile.get_task_result_files lists them; the
    # columns they fill are named in _task_file
    _part(
        _FILE_PART,
        _FILES.id,
        (_FILES.created_at, _FILES.file_type, _FILES.file_storage_data, _NONE, _NONE, _NONE, _FILES.mimetype),
        (_FILES.file_name, _FILES.security_tag, _FILES.storage_provider, _NONE, _FILES.celery_task_id),
    ).where(_FILES.task_id == bindparam("task_id"), or_(_FILES.file_type.is_(None), _FILES.file_type != TEMP_FILE_TYPE)),
).order_by(literal_column("part"), literal_column("seq"))

_NEW_TASK_FILE = TaskFile.__mapper__.class_manager.new_instance


def _task_file(task_id: int, row: Any) -> TaskFile:
    """A TaskFile as loaded (detached, nothing to flush) from a row of the file part (the
    mappers must be configured: see read_task_representation)."""
    info = _NEW_TASK_FILE()
    for key, value in (
        ("id", row.seq), ("task_id", task_id), ("created_at", row.finished_at), ("file_type", row.task_status),
        ("file_storage_data", row.task_log), ("mimetype", row.progress_unit), ("file_name", row.href),
        ("security_tag", row.ui_href), ("storage_provider", row.step_id), ("celery_task_id", row.extra),
    ):
        set_committed_value(info, key, value)
    return info


class _Link(NamedTuple):
    type: str
    href: str


def _read_rows(engine: Any, task_id: int) -> list[Any]:
    """The rows of ``_TASK_READ`` for the task (none: no such task)."""
    # without a transaction: no BEGIN and ROLLBACK round trips around the read
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return connection.execute(_TASK_READ, {"task_id": task_id}).all()


def _encode(representation: dict[str, Any]) -> bytes:
    return json.dumps(_TASK_SCHEMA.dump(representation), separators=(",", ":")).encode()


def _refreshed_pending_body(engine: Any, task_id: int, own_links: list[dict[str, str]]) -> bytes | None:
    """A replayed poll's body (see :mod:`.replay`; needs no app context): the task read now;
    None once it finished or vanished, or when the read failed (the request then runs through
    Flask, which answers and logs that)."""
    try:
        rows = _read_rows(engine, task_id)
    except Exception:  # noqa: BLE001  (Flask's handlers turn it into the 503 with its log line)
        return None
    if not rows or rows[0].part != _TASK_PART or rows[0].finished_at is not None:
        return None
    representation, _finished = read_task_representation(task_id, rows, own_links)
    return _encode(representation)


def read_task_representation(task_id: int, rows: list[Any] | None = None, own_links: list[dict[str, str]] | None = None) -> tuple[dict[str, Any], bool]:
    """:func:`task_representation` read with one plain column query (no ProcessingTask, Step,
    TaskLink or TaskFile loaded through the ORM, about half the time; clients poll tasks many
    times a second), and whether the task has finished. 404 if there is no such task.
    ``rows``: that query's rows, when already read."""
    if rows is None:
        rows = _read_rows(DB.engine, task_id)
    if not rows or rows[0].part != _TASK_PART:
        abort(404, message="Task not found.")
    row = rows[0]
    steps = [r for r in rows if r.part == _STEP_PART]
    links = [_Link(r.ui_href, r.href) for r in rows if r.part == _LINK_PART]  # type in ui_href's column
    if row.finished_at is None:
        return _body(task_id, TaskStatus.PENDING.value, row, steps, [], links, own_links), False
    # TaskFile's attributes get their loaders when the mappers are configured, which an ORM
    # query does; this may be a new process's first request (a no-op once configured)
    configure_mappers()
    files = [_task_file(task_id, r) for r in rows if r.part == _FILE_PART]
    status = row.task_status or TaskStatus.UNKNOWN.value
    return _body(task_id, status, row, steps, _outputs_of(files), links, own_links), True


_FINISHED_CACHE = "qhana_task_response_cache"  # app.extensions key of the ResponseCache


def _finished_cache() -> ResponseCache:
    cache = current_app.extensions.get(_FINISHED_CACHE)
    if cache is None:
        cache = current_app.extensions[_FINISHED_CACHE] = ResponseCache(size=4096, ttl=60.0)
    return cache


def _json_response(body: bytes, etag: str | None) -> Response:
    response = Response(body, status=200, mimetype="application/json")
    if etag is not None:
        response.set_etag(etag)
        if request.if_none_match.contains(etag):
            response = Response(status=304)
            response.set_etag(etag)
    return response


def task_response(task_id: int) -> Response:
    """``GET /tasks/<id>/``: finished tasks are built once per process and then served as is
    (from the second read on also without Flask, see :mod:`.replay`); a task that has not
    finished is read on every request, a repeated request also without Flask."""
    cache = _finished_cache()
    key = (task_id, *request_host_key())
    cached = cache.get(key)
    if cached is not None:
        _offer_while_cached(cache, key, cached[0])
        return _json_response(*cached)
    engine = DB.engine
    own_links = _own_links(task_id)
    representation, finished = read_task_representation(task_id, _read_rows(engine, task_id), own_links)
    body = _encode(representation)
    if not finished:
        # polled many times a second while it runs: an identical poll is answered by the replay
        # layer with the task read anew, without Flask (about half the work of a poll)
        offer_replay(request.environ, body, refresh=partial(_refreshed_pending_body, engine, task_id, own_links))
        return _json_response(body, None)
    etag = hashlib.blake2b(body, digest_size=12).hexdigest()
    cache.put(key, body, etag)
    _offer_while_cached(cache, key, body)
    return _json_response(body, etag)


def _offer_while_cached(cache: ResponseCache, key: tuple[Any, ...], body: bytes) -> None:
    """Offer the answer for replay while the cache still holds this body (a 304 answer, to a
    request with a matching If-None-Match, is not kept: see :mod:`.replay`)."""
    extensions = current_app.extensions
    offer_replay(request.environ, body, lambda: extensions.get(_FINISHED_CACHE) is cache and cache.holds(key, body))


def _get_task(task_id: int) -> ProcessingTask:
    task = ProcessingTask.get_by_id(task_id)
    if task is None:
        abort(404, message="Task not found.")
    return task


@TASKS_BLP.route("/<int:task_id>/")
class TaskView(MethodView):
    @TASKS_BLP.response(200, TaskStatusSchema())
    @TASKS_BLP.alt_response(304, description="Not modified: If-None-Match names the ETag of this finished task.")
    @TASKS_BLP.alt_response(404, description="No task with this id.")
    def get(self, task_id: int) -> Any:
        """The task's status, log, progress, steps, outputs and links.

        A finished task's answer carries an ETag; ``If-None-Match`` with it gets 304.
        """
        return task_response(task_id)

    @TASKS_BLP.arguments(SubscriptionDataSchema(), location="json")
    @TASKS_BLP.response(200, TaskStatusSchema())
    @TASKS_BLP.alt_response(404, description="No task with this id.")
    def post(self, subscription: dict[str, Any], task_id: int) -> Any:
        """Subscribe a webhook to the task's events, or unsubscribe it.

        A new subscription is sent the events it missed (a finished task's status, an open
        step) at once. Unsubscribing without ``event`` removes every subscription of that
        webhook to the task. Webhooks in denied networks (link-local, cloud metadata) get 422.
        """
        task = _get_task(task_id)
        webhook, event = subscription["webhook_href"], subscription["event"]
        if subscription["command"] == "subscribe":
            reason = validate_webhook(webhook)
            if reason:
                abort(422, errors={"json": {"webhookHref": [reason]}})
            add_subscription(task, webhook, event)
        else:
            query = delete(TaskUpdateSubscription).where(
                TaskUpdateSubscription.task_id == task.id, TaskUpdateSubscription.webhook_href == webhook
            )
            if event is not None:
                query = query.where(TaskUpdateSubscription.event_type == event)
            DB.session.execute(query)
            DB.session.commit()
        return task_representation(task)
