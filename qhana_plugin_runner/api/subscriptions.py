# SPDX-License-Identifier: Apache-2.0
"""Webhook subscriptions: adding one (with catch-up), and subscribing in the process request.

A subscription that arrives after its task finished (or after a step opened) would never see
that event; so a new subscription is sent the events that already happened at once. A client
can also subscribe in the very request that starts a task, with the headers
``X-QHAna-Webhook: <url>`` and optionally ``X-QHAna-Webhook-Events: status,steps``: the
subscription is stored as soon as the plugin answers 303 to its task.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import marshmallow as ma
from flask import Flask, Response, current_app, request, url_for
from flask_smorest import abort
from werkzeug.exceptions import HTTPException

from ..db.db import DB
from ..db.models.tasks import ProcessingTask, TaskUpdateSubscription
from ..tasks.webhooks import EVENT_SIGNALS, dispatch_event, target_refusal

__all__ = ["add_subscription", "init_process_subscriptions", "WEBHOOK_HEADER", "EVENTS_HEADER"]

WEBHOOK_HEADER = "X-QHAna-Webhook"
EVENTS_HEADER = "X-QHAna-Webhook-Events"
_URL = ma.fields.Url(require_tld=False, schemes={"http", "https"})


def validate_webhook(url: str) -> str | None:
    """The reason ``url`` cannot be a webhook, or None."""
    try:
        _URL.deserialize(url)
    except ma.ValidationError:
        return "not a valid http(s) URL"
    return target_refusal(current_app._get_current_object(), url, resolve=False)


def add_subscription(task: ProcessingTask, webhook: str, event: str | None) -> None:
    """Store the subscription (if new), commit, and send the events it has missed.

    What was missed is read after the subscription is written and with the task's row locked
    (``FOR UPDATE``; SQLite's write lock does the same): the bookkeeping reads a task's
    subscriptions while it holds that row, before committing a change, so either it sees this
    subscription and sends the event, or this sees the change and sends it, not both.
    """
    if not TaskUpdateSubscription.get_by_task_and_subscriber(task, webhook, event):
        task_href = url_for("tasks-api.TaskView", task_id=task.id, _external=True)
        DB.session.add(TaskUpdateSubscription(task=task, webhook_href=webhook, task_href=task_href, event_type=event))
        DB.session.flush()
        DB.session.refresh(task, with_for_update=True)
    task_id, finished, open_step = task.id, task.is_finished, task.has_uncleared_step
    DB.session.commit()
    app = current_app._get_current_object()
    if finished and event in (None, "status"):
        dispatch_event(app, task_id, "status", only=webhook)
    elif open_step and event in (None, "steps"):
        dispatch_event(app, task_id, "steps", only=webhook)


def _requested_events() -> list[str | None]:
    raw = request.headers.get(EVENTS_HEADER, "")
    events = [e.strip() for e in raw.split(",") if e.strip()]
    unknown = [e for e in events if e not in EVENT_SIGNALS]
    if unknown:
        abort(422, message=f"{EVENTS_HEADER}: unknown events {unknown}; use status, steps or details")
    return list(events) or [None]


def _task_id_from(location: str) -> int | None:
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, args = adapter.match(urlsplit(location).path, method="GET")
    except HTTPException:
        return None
    return int(args["task_id"]) if endpoint == "tasks-api.TaskView" else None


def init_process_subscriptions(app: Flask) -> None:
    """Check the subscription headers before a request runs; subscribe when it answers 303."""

    @app.before_request
    def _check_headers() -> None:
        webhook = request.headers.get(WEBHOOK_HEADER)
        if webhook is None:
            return
        reason = validate_webhook(webhook)
        if reason:
            abort(422, message=f"{WEBHOOK_HEADER}: {reason}")
        _requested_events()

    @app.after_request
    def _subscribe(response: Response) -> Response:
        webhook = request.headers.get(WEBHOOK_HEADER)
        if webhook is None or response.status_code != 303 or "Location" not in response.headers:
            return response
        task_id = _task_id_from(response.headers["Location"])
        task = ProcessingTask.get_by_id(task_id) if task_id is not None else None
        if task is not None:
            for event in _requested_events():
                add_subscription(task, webhook, event)
        return response

