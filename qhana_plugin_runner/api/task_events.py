# SPDX-License-Identifier: Apache-2.0
"""``GET /tasks/<id>/events``: the task's changes as a server-sent event stream.

Every event carries the whole task representation (as ``GET /tasks/<id>/`` answers it) and an
id that describes the task's state (status, steps, details), so a client that reconnects with
``Last-Event-ID`` is sent only the kinds of change it missed. The stream starts with the
current status, sends ``steps`` and ``details`` events as they happen, and ends after the final
status. A stream re-reads its task when the event bus (Redis, see
:mod:`qhana_plugin_runner.tasks.event_bus`) says it changed, or every
``EVENT_STREAM_POLL_INTERVAL`` seconds without one; so it works whichever process or host made
the change. A long stream is closed after
``EVENT_STREAM_MAX_SECONDS`` (the client reconnects with ``Last-Event-ID``).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

from flask import Response, current_app, request, stream_with_context
from flask.views import MethodView
from flask_smorest import abort

from ..db.db import DB
from ..db.models.tasks import ProcessingTask
from ..tasks.event_bus import change_waiter
from .tasks_api import TASKS_BLP, task_representation

__all__ = ["TaskEventsView", "state_id"]

_HEARTBEAT_SECONDS = 15.0


def _details_digest(body: dict[str, Any]) -> str:
    details = json.dumps([body.get("log"), body.get("progress"), body.get("links")], sort_keys=True)
    return hashlib.sha1(details.encode(), usedforsecurity=False).hexdigest()[:12]


def state_id(body: dict[str, Any]) -> str:
    """``<status>.<steps>.<cleared steps>.<details digest>``: the event id of a task state."""
    steps = body.get("steps") or []
    cleared = sum(1 for step in steps if step["cleared"])
    return f"{body['status']}.{len(steps)}.{cleared}.{_details_digest(body)}"


def _changes(previous: str | None, current: str) -> list[str]:
    if previous is None:
        return ["status"]
    old, new = previous.split("."), current.split(".")
    if len(old) != 4:
        return ["status", "steps", "details"]
    kinds = []
    if old[1:3] != new[1:3]:
        kinds.append("steps")
    if old[3] != new[3]:
        kinds.append("details")
    if old[0] != new[0]:
        kinds.append("status")  # last: a final status ends the stream
    return kinds


def _format(event: str, event_id: str, body: dict[str, Any]) -> str:
    return f"id: {event_id}\nevent: {event}\ndata: {json.dumps(body, separators=(',', ':'))}\n\n"


def _stream(task_id: int, last_id: str | None) -> Iterator[str]:
    app = current_app._get_current_object()
    with change_waiter(app, task_id) as wait:
        yield from _events(task_id, last_id, wait)


def _events(task_id: int, last_id: str | None, wait: Any) -> Iterator[str]:
    config = current_app.config
    # with an event bus the timer is only a safety net for a lost notification
    interval = float(config.get("EVENT_STREAM_POLL_INTERVAL", 0.05))
    if "qhana_event_bus" in current_app.extensions:
        interval = max(interval, 1.0)
    deadline = time.monotonic() + float(config.get("EVENT_STREAM_MAX_SECONDS", 300))
    yield "retry: 1000\n\n"
    heartbeat = time.monotonic() + _HEARTBEAT_SECONDS
    while True:
        DB.session.expire_all()
        task = ProcessingTask.get_by_id(task_id)
        if task is None:
            return
        body = task_representation(task)
        current = state_id(body)
        for event in _changes(last_id, current):
            yield _format(event, current, body)
        last_id = current
        DB.session.rollback()  # end the read transaction while waiting
        if body["status"] != "PENDING" or time.monotonic() > deadline:
            return
        if time.monotonic() > heartbeat:
            yield ": keep-alive\n\n"
            heartbeat = time.monotonic() + _HEARTBEAT_SECONDS
        wait(interval)


@TASKS_BLP.route("/<int:task_id>/events")
class TaskEventsView(MethodView):
    @TASKS_BLP.response(200, content_type="text/event-stream")
    @TASKS_BLP.alt_response(404, description="No task with this id.")
    def get(self, task_id: int) -> Response:
        """Server-sent events for each status, steps and details change, until the final status."""
        if ProcessingTask.get_by_id(task_id) is None:
            abort(404, message="Task not found.")
        last_id = request.headers.get("Last-Event-ID") or request.args.get("lastEventId")
        response = Response(stream_with_context(_stream(task_id, last_id)), mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"
        return response
