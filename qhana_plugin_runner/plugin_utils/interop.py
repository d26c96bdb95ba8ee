# SPDX-License-Identifier: Apache-2.0
"""Calling other plugins from a plugin: start them, read their tasks, learn when they change.

A plugin that hands work to another plugin (on this runner or another one) finds the other
plugin's process endpoint (:func:`get_plugin_endpoint`), starts it with a form POST
(:func:`call_plugin_endpoint`, which answers the URL of the new task) and then subscribes a
webhook of its own to that task (:func:`subscribe`). Runners that cannot subscribe, or that do
not send a late subscriber the events it missed, are polled by the Celery tasks
:func:`monitor_result` and :func:`monitor_external_substep`; they back off exponentially and
give up after ``INTEROP_MONITOR_MAX_RETRIES`` polls. A webhook is always called through
:func:`call_webhook`.

Every request goes through :data:`~qhana_plugin_runner.requests.REQUEST_SESSION` with the
operator's URL rewrite rules and a time-out (``INTEROP_REQUEST_TIMEOUT``). The Celery task
names are the original runner's, so messages queued by either runner are understood by both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urljoin

from celery import Task
from flask import current_app, has_app_context

from ..celery import CELERY
from ..db.models.tasks import TaskStatus
from ..errors import RunnerError
from ..requests import _session as _request_session
from ..requests import open_url
from ..requests import rewrite_url as rewrite_url
from ..tasks.webhooks import call_webhook

if TYPE_CHECKING:
    import requests

__all__ = [
    "get_plugin_endpoint",
    "call_plugin_endpoint",
    "get_task_result_no_wait",
    "subscribe",
    "monitor_result",
    "monitor_external_substep",
    "call_webhook",
    "ResultUnchangedError",
    "InteropError",
]

_LOG = logging.getLogger(__name__)

#: Config defaults: seconds per request, polls before a monitor gives up, back-off and its cap.
DEFAULT_TIMEOUT: Final = 10.0
DEFAULT_MAX_RETRIES: Final = 60
DEFAULT_BACKOFF: Final = 1.0
DEFAULT_BACKOFF_MAX: Final = 300.0
_MAX_REDIRECTS: Final = 5
_MONITORS: Final = ("status", "steps", "all")
_KNOWN_STATUSES: Final = (
    TaskStatus.PENDING.value,
    TaskStatus.SUCCESS.value,
    TaskStatus.FAILURE.value,
)


class ResultUnchangedError(RunnerError):
    """The monitored task has not (yet) changed the way the monitor waits for."""


class InteropError(RunnerError, ValueError):
    """Another plugin or runner answered something that cannot be used (not JSON, no link)."""


def _config(key: str, default: float) -> float:
    value = current_app.config.get(key) if has_app_context() else None
    return default if value is None else float(value)


def _timeout() -> float:
    return _config("INTEROP_REQUEST_TIMEOUT", DEFAULT_TIMEOUT)


def _get_json(url: str) -> dict[str, Any]:
    """GET ``url`` and return its JSON object; HTTP errors raise ``requests.HTTPError``."""
    with open_url(url, timeout=_timeout()) as response:
        try:
            body = response.json()
        except ValueError:
            kind = response.headers.get("Content-Type") or "no content type"
            raise InteropError(
                f"{url} answered {response.status_code} with {kind}, not JSON"
            ) from None
    if not isinstance(body, dict):
        raise InteropError(f"{url} answered JSON that is not an object")
    return body


def _raise_for_status(response: requests.Response, method: str, url: str, debug: bool) -> None:
    """Raise ``requests.HTTPError`` naming the URL and the server's message for 4xx/5xx."""
    if debug:
        _LOG.warning(
            "%s %s answered %s: %s", method, url, response.status_code, response.text[:2000]
        )
    if response.status_code < 400:
        return
    try:
        body = response.json()
        detail = (body.get("errors") or body.get("message")) if isinstance(body, dict) else body
    except ValueError:
        detail = response.text[:500]
    from requests import HTTPError

    raise HTTPError(
        f"{method} {url} answered {response.status_code} {response.reason}: {detail}",
        response=response,
    )


def get_plugin_endpoint(plugin_url: str, interaction_endpoint: str | None = None) -> str:
    """The absolute URL of a plugin's process endpoint, read from its metadata at ``plugin_url``.

    With ``interaction_endpoint``, the metadata link of that type is returned instead.

    Raises:
        requests.HTTPError: the metadata could not be fetched (e.g. 404).
        InteropError: the answer is not plugin metadata, or has no link of the asked type
            (a ``ValueError``).
    """
    metadata = _get_json(plugin_url)
    if interaction_endpoint is None:
        entry_point = metadata.get("entryPoint")
        href = entry_point.get("href") if isinstance(entry_point, dict) else None
        if not isinstance(href, str) or not href:
            raise InteropError(f"the metadata at {plugin_url} has no entryPoint.href")
        return urljoin(plugin_url, href)
    links = [link for link in metadata.get("links") or [] if isinstance(link, dict)]
    for link in links:
        if link.get("type") == interaction_endpoint and isinstance(link.get("href"), str):
            return urljoin(plugin_url, link["href"])
    known = ", ".join(sorted(str(link.get("type")) for link in links)) or "none"
    raise InteropError(
        f"the plugin at {plugin_url} has no link of type {interaction_endpoint!r} (its link types: {known})"
    )


def call_plugin_endpoint(
    endpoint_url: str, data: Mapping[str, Any] | None, debug: bool = False
) -> str:
    """POST ``data`` as a form to a process (or step) endpoint; return the started task's URL.

    The endpoint answers with a redirect (303) to its task; the task URL is resolved against
    the URL called (before rewriting) and checked to answer JSON. With ``debug`` every answer
    body is logged.

    Raises:
        requests.HTTPError: the endpoint or the task answered an error (the message includes
            the server's explanation, e.g. the fields that failed validation).
        InteropError: the endpoint answered without naming a task.
    """
    method, url, body = "POST", endpoint_url, dict(data) if data is not None else None
    for _ in range(_MAX_REDIRECTS):
        with _request_session().request(
            method, rewrite_url(url), data=body, timeout=_timeout(), allow_redirects=False
        ) as response:
            _raise_for_status(response, method, url, debug)
            status, location = response.status_code, response.headers.get("Location")
        if location is None:
            raise InteropError(f"{method} {url} answered {status} without the URL of a task")
        url = urljoin(url, location)
        if status not in (307, 308):  # 307/308 ask for the same POST again at the new URL
            _get_json(url)  # the task exists and is a task resource, not an HTML page
            return url
    raise InteropError(f"{endpoint_url} redirected more than {_MAX_REDIRECTS} times")


def get_task_result_no_wait(result_url: str) -> tuple[str, dict[str, Any]]:
    """Read a task once: ``(status, task JSON)``.

    The status is PENDING, SUCCESS or FAILURE; anything else (``ERROR``, which the original
    documentation used, ``UNKNOWN``, a missing status) counts as FAILURE.
    """
    body = _get_json(result_url)
    status = body.get("status")
    if status not in _KNOWN_STATUSES:
        status = TaskStatus.FAILURE.value
    return status, body


def _link(task: Mapping[str, Any], link_type: str) -> str | None:
    for link in task.get("links") or []:
        if (
            isinstance(link, dict)
            and link.get("type") == link_type
            and isinstance(link.get("href"), str)
        ):
            return link["href"]
    return None


def _event_list(events: str | Sequence[str]) -> list[str | None]:
    """One entry per subscription to make; None stands for "all events"."""
    if events == "all":
        return [None]
    wanted: list[str | None] = [events] if isinstance(events, str) else list(dict.fromkeys(events))
    if not wanted:
        raise ValueError("subscribe() needs at least one event (or 'all')")
    return wanted


def _monitor_for(events: Sequence[str | None]) -> str | None:
    """What a catch-up monitor must watch for these subscribed events (``details``: nothing)."""
    wanted = {"status", "steps"} if None in events else set(events) & {"status", "steps"}
    if len(wanted) == 2:
        return "all"
    return next(iter(wanted), None)


def subscribe(
    result_url: str,
    webhook_url: str,
    events: str | Sequence[str] = "all",
    check_for_updates: bool = True,
) -> bool:
    """Subscribe ``webhook_url`` to the task at ``result_url``; True if subscribed.

    ``events`` is ``"all"`` (one subscription for every event), one event name or a sequence
    of them (``status``, ``steps``, ``details``). With ``check_for_updates``, events that
    happened before the subscription are still reported: this runner (recognisable by the
    ``events`` link of its tasks) sends them itself; for other runners :func:`monitor_result`
    checks the task once. A task without a ``subscribe`` link cannot be subscribed to: then
    False is returned and, with ``check_for_updates``, the task is polled instead.

    Raises:
        requests.HTTPError: the task or the subscription request answered an error.
        ValueError: ``events`` names no event.
    """
    wanted = _event_list(events)
    _, task = get_task_result_no_wait(result_url)
    monitor = _monitor_for(wanted)
    subscribe_url = _link(task, "subscribe")
    if subscribe_url is None:
        _LOG.info("Task %s offers no subscription; polling it instead", result_url)
        if check_for_updates and monitor:
            monitor_result.apply_async((result_url, webhook_url, monitor), {"retry": True})
        return False
    for event in wanted:
        payload = {"command": "subscribe", "webhookHref": webhook_url, "event": event}
        with _request_session().post(
            rewrite_url(subscribe_url), json=payload, timeout=_timeout(), allow_redirects=False
        ) as response:
            _raise_for_status(response, "POST", subscribe_url, False)
    if check_for_updates and monitor and _link(task, "events") is None:
        # the subscription is stored: one look now catches what happened before it
        monitor_result.apply_async(
            (result_url, webhook_url, monitor), {"retry": False}, countdown=1
        )
    return True


def _backoff(retries: int) -> float:
    base = _config("INTEROP_MONITOR_BACKOFF", DEFAULT_BACKOFF)
    return min(base * (2**retries), _config("INTEROP_MONITOR_BACKOFF_MAX", DEFAULT_BACKOFF_MAX))


def _transient(err: Exception) -> bool:
    """Worth polling again: unchanged, unreachable, timed out, 429 or a server error."""
    import requests

    if isinstance(err, requests.HTTPError):
        status = err.response.status_code if err.response is not None else 500
        return status >= 500 or status == 429
    return isinstance(err, (ResultUnchangedError, requests.ConnectionError, requests.Timeout))


def _poll(
    task: Task,
    result_url: str,
    webhook_url: str,
    retry: bool,
    check: Callable[[str, dict[str, Any]], str | None],
) -> str | None:
    """Read the task once; call the webhook with the event ``check`` finds, or poll again later.

    ``check`` raises ResultUnchangedError while there is nothing to report and returns None
    when there never will be. Returns the event sent, or None.
    """
    from requests import RequestException

    try:
        event = check(*get_task_result_no_wait(result_url))
    except (RequestException, RunnerError) as err:
        if not _transient(err):
            _LOG.warning("Stopped monitoring %s: %s", result_url, err)
            return None
        if not retry:
            return None
        limit = int(_config("INTEROP_MONITOR_MAX_RETRIES", DEFAULT_MAX_RETRIES))
        if task.request.retries >= limit:
            _LOG.warning("Gave up monitoring %s after %d polls: %s", result_url, limit + 1, err)
            return None
        raise task.retry(countdown=_backoff(task.request.retries), max_retries=limit) from None
    if event is not None:
        call_webhook.apply_async((webhook_url, result_url, event))
    return event


def _result_event(monitor: str, status: str, body: dict[str, Any]) -> str | None:
    if status != TaskStatus.PENDING.value:
        return "status" if monitor in ("status", "all") else None  # no step opens any more
    steps = body.get("steps") or []
    if (
        monitor in ("steps", "all")
        and steps
        and isinstance(steps[-1], dict)
        and not steps[-1].get("cleared")
    ):
        return "steps"
    raise ResultUnchangedError(f"task {monitor} unchanged")


def _find_step(steps: list[Any], substep: str | int) -> dict[str, Any] | None:
    if isinstance(substep, int):
        found = steps[substep] if substep < len(steps) else None
        return found if isinstance(found, dict) else None
    matches = [s for s in steps if isinstance(s, dict) and s.get("stepId") == substep]
    return matches[-1] if matches else None  # the latest: a step id may come back in a loop


def _substep_event(substep: str | int, status: str, body: dict[str, Any]) -> str:
    step = _find_step(body.get("steps") or [], substep)
    if step is not None and step.get("cleared"):
        return "steps"
    if status != TaskStatus.PENDING.value:
        return "status"  # finished without clearing that step: it never will
    raise ResultUnchangedError(f"step {substep!r} not cleared yet")


@CELERY.task(
    name="qhana_plugin_runner.plugin_utils.interop.monitor_result", bind=True, max_retries=None
)
def monitor_result(
    self: Task, result_url: str, webhook_url: str, monitor: str = "status", retry: bool = True
) -> str | None:
    """Poll a task until it finishes (``status``) or waits at an open step (``steps``).

    ``monitor="all"`` reports whichever comes first. On a match the webhook is called with
    that event; with ``retry=False`` the task is looked at once. Returns the event sent.
    """
    if monitor not in _MONITORS:
        raise ValueError(f"monitor must be one of {_MONITORS}, not {monitor!r}")
    return _poll(self, result_url, webhook_url, retry, lambda s, b: _result_event(monitor, s, b))


@CELERY.task(
    name="qhana_plugin_runner.plugin_utils.interop.monitor_external_substep",
    bind=True,
    max_retries=None,
)
def monitor_external_substep(
    self: Task, result_url: str, webhook_url: str, substep: str | int, retry: bool = True
) -> str | None:
    """Poll a task until one of its steps is cleared, then call the webhook with ``steps``.

    ``substep`` is a step id (the latest step with that id counts) or a position (0 = first
    step). If the task finishes without that step being cleared, the webhook gets ``status``.
    """
    if (
        isinstance(substep, bool)
        or not isinstance(substep, (str, int))
        or (isinstance(substep, int) and substep < 0)
    ):
        raise ValueError(f"substep must be a step id or a position >= 0, not {substep!r}")
    return _poll(self, result_url, webhook_url, retry, lambda s, b: _substep_event(substep, s, b))
