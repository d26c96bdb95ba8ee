# SPDX-License-Identifier: Apache-2.0
"""Webhook delivery: every task change reaches the webhooks subscribed to it.

When a task's status, steps or details change, the process that committed the change sends a
signal; :func:`init_webhooks` connects listeners that look up the subscriptions and hand each
call to a small thread pool of that process, so the first attempt leaves within milliseconds
and never blocks the task or the request. A call that fails (connection error, time-out, 5xx)
is handed to the Celery task :func:`call_webhook`, which retries with exponential back-off
(durable in the broker). A call is ``POST <webhook>?source=<task URL>&event=<event>`` without a
body, as the original runner sent it; with ``WEBHOOK_SECRET`` set it carries an HMAC-SHA256
signature (see :func:`signature`). Calls to ``WEBHOOK_DENIED_NETWORKS`` are refused (also when a
host name resolves there) and never retried; redirects are not followed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import logging
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import SplitResult, quote, unquote, urlencode, urlsplit, urlunsplit

from flask import Flask, current_app

from ..celery import CELERY
from ..db.models.tasks import TaskUpdateSubscription, WebhookRef
from ..util.net_guard import (
    DEFAULT_DENIED_NETWORKS,
    address_refusal,
    denied_networks,
    is_ip_literal,
    peer_refusal,
)
from .signals import TASK_DETAILS_CHANGED, TASK_STATUS_CHANGED, TASK_STEPS_CHANGED

__all__ = [
    "call_webhook",
    "init_webhooks",
    "dispatch_event",
    "signature",
    "target_refusal",
    "DEFAULT_DENIED_NETWORKS",
    "EVENT_SIGNALS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
]

_LOG = logging.getLogger(__name__)

EVENT_SIGNALS = {"status": TASK_STATUS_CHANGED, "steps": TASK_STEPS_CHANGED, "details": TASK_DETAILS_CHANGED}
SIGNATURE_HEADER = "X-QHAna-Signature"
TIMESTAMP_HEADER = "X-QHAna-Timestamp"
DENIED_NETWORKS_KEY = "WEBHOOK_DENIED_NETWORKS"
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="qhana-webhook")


@dataclass(frozen=True)
class _Outcome:
    delivered: bool
    retry: bool
    detail: str


def signature(secret: str, timestamp: str, url: str) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>.<full request URL>">`` with the secret."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{url}".encode(), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def target_refusal(app: Flask, url: str, resolve: bool = True) -> str | None:
    """Why ``url`` may not be called (a denied network, a bad scheme), or None if it may.

    With ``resolve``, host names are resolved and every address is checked, so a name that
    points into a denied network is refused too. Delivery checks again, by the address each
    connection reached (:mod:`~qhana_plugin_runner.util.net_guard`).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "only http(s) URLs with a host can be webhooks"
    host = parts.hostname
    addresses = [host]
    if not is_ip_literal(host):
        if not resolve:
            return None
        try:
            infos = socket.getaddrinfo(host, parts.port or 80, proto=socket.IPPROTO_TCP)
        except OSError:
            return None  # unresolvable now: delivery fails and is retried, nothing is reached
        addresses = [str(info[4][0]) for info in infos]
    networks = denied_networks(DENIED_NETWORKS_KEY, app.config)
    for address in addresses:
        reason = address_refusal(address, networks)
        if reason:
            return f"{host}: {reason}"
    return None


class _Refused(Exception):
    """The connection reached an address in a denied network (nothing was sent)."""


_USER_AGENT = "qhana-plugin-runner"


@cache
def _tls_context() -> Any:
    """The TLS context of https calls, made on the first one: certificates checked against
    certifi's bundle, as requests checked them before."""
    import ssl

    import certifi

    return ssl.create_default_context(cafile=certifi.where())


_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"  # kept as they are in path and query (requests' set)


def _call_url(webhook_url: str, task_url: str, event: str) -> str:
    """The webhook URL with ``source`` and ``event`` added to its query: what is signed and
    called. Characters a request line cannot carry are percent-encoded (escapes kept), a
    non-ASCII host name IDNA-encoded, the fragment dropped (a server never sees it)."""
    parts = urlsplit(webhook_url)
    query = urlencode({"source": task_url, "event": event})
    query = f"{parts.query}&{query}" if parts.query else query
    netloc = parts.netloc if parts.netloc.isascii() else _idna_netloc(parts.netloc)
    return urlunsplit(
        (
            parts.scheme,
            netloc,
            quote(parts.path or "/", safe=_URL_SAFE),
            quote(query, safe=_URL_SAFE),
            "",
        )
    )


def _idna_netloc(netloc: str) -> str:
    userinfo, at, hostport = netloc.rpartition("@")
    host, colon, port = hostport.partition(":")
    return f"{userinfo}{at}{host.encode('idna').decode('ascii')}{colon}{port}"


def _post(parts: SplitResult, headers: dict[str, str], timeout: float, networks: Any) -> int:
    """POST to the URL of ``parts`` without a body over a new connection; returns the answer's
    status.

    The connection is checked by the address it reached before anything is sent (before the
    TLS handshake too), so a host name resolving into a denied network reaches nothing
    (raises ``_Refused``). Redirects are answers like any other: not followed. A plain
    ``http.client`` call: requests' session, adapter and pool cost the worker about 0.5 ms of
    CPU per webhook, paid while it finishes the task the webhook is about.
    """
    host, port = parts.hostname or "", parts.port  # .port raises ValueError for a bad port
    https = parts.scheme == "https"
    sock = socket.create_connection((host, port or (443 if https else 80)), timeout)
    try:
        reason = peer_refusal(sock, networks)
        if reason:
            raise _Refused(f"{host} resolves to {reason}")
        if https:
            sock = _tls_context().wrap_socket(sock, server_hostname=host)
            # the context given: without one, each connection object would build (and load the
            # system's certificates into) a context of its own, unused since the socket is ours
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(host, port, timeout=timeout, context=_tls_context())
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        conn.sock = sock
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request("POST", target, body=b"", headers=headers)
        response = conn.getresponse()
        response.close()
        return response.status
    finally:
        sock.close()


def _deliver(app: Flask, webhook_url: str, task_url: str, event: str) -> _Outcome:
    refusal = target_refusal(app, webhook_url, resolve=False)  # names: checked on connect
    if refusal:
        return _Outcome(False, False, f"refused: {refusal}")
    try:
        url = _call_url(webhook_url, task_url, event)
    except ValueError as err:
        return _Outcome(False, False, f"bad URL: {err}")
    headers = {"User-Agent": _USER_AGENT, "Accept": "*/*", "Connection": "close"}
    parts = urlsplit(url)
    if parts.username is not None:  # user:password@host, sent as basic authentication
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode(
            "latin-1", "replace"
        )
        headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode("ascii")
    secret = app.config.get("WEBHOOK_SECRET")
    if secret:
        timestamp = str(int(time.time()))
        headers[TIMESTAMP_HEADER] = timestamp
        headers[SIGNATURE_HEADER] = signature(secret, timestamp, url)
    timeout = float(app.config.get("WEBHOOK_TIMEOUT", 5))
    try:
        status = _post(parts, headers, timeout, denied_networks(DENIED_NETWORKS_KEY, app.config))
    except _Refused as err:
        return _Outcome(False, False, f"refused to connect: {err}")
    except http.client.InvalidURL as err:
        return _Outcome(False, False, f"bad URL: {err}")
    except (OSError, http.client.HTTPException) as err:  # refused, reset, time-out, TLS, garbled
        return _Outcome(False, True, f"{type(err).__name__}: {err}")
    except ValueError as err:  # a bad port, a host name that cannot be encoded: never better
        return _Outcome(False, False, f"bad URL: {err}")
    if status >= 500 or status == 429:
        return _Outcome(False, True, f"answered {status}")
    if status >= 400:
        return _Outcome(False, False, f"answered {status}")
    return _Outcome(True, False, f"answered {status}")


def _backoff(app: Flask, retries: int) -> float:
    base = float(app.config.get("WEBHOOK_RETRY_BACKOFF", 1.0))
    return min(base * (2**retries), float(app.config.get("WEBHOOK_RETRY_BACKOFF_MAX", 300)))


@CELERY.task(name="qhana_plugin_runner.plugin_utils.interop.call_webhook", bind=True, ignore_result=True, max_retries=None)
def call_webhook(self: Any, webhook_url: str, task_url: str, event_type: str) -> None:
    """Call one webhook; retried with exponential back-off while the receiver fails."""
    app = current_app._get_current_object()
    outcome = _deliver(app, webhook_url, task_url, event_type)
    if outcome.delivered:
        return
    limit = int(app.config.get("WEBHOOK_MAX_RETRIES", 6))
    if outcome.retry and self.request.retries < limit:
        _LOG.info("Webhook %s (%s of %s) failed, retrying: %s", webhook_url, event_type, task_url, outcome.detail)
        raise self.retry(countdown=_backoff(app, self.request.retries + 1), max_retries=limit)
    _LOG.warning("Webhook %s (%s of %s) given up: %s", webhook_url, event_type, task_url, outcome.detail)


def _first_attempt(app: Flask, webhook_url: str, task_url: str, event: str) -> None:
    try:
        with app.app_context():
            outcome = _deliver(app, webhook_url, task_url, event)
            if outcome.delivered:
                return
            if not outcome.retry:
                _LOG.warning("Webhook %s (%s of %s) not delivered: %s", webhook_url, event, task_url, outcome.detail)
                return
            call_webhook.apply_async((webhook_url, task_url, event), countdown=_backoff(app, 0))
    except Exception:  # a background thread: log, never raise into nothing
        _LOG.exception("Webhook %s (%s of %s) could not be handed on for retries", webhook_url, event, task_url)


_LOOKUP: ContextVar[dict[int, list[tuple[str, str, str | None]]] | None] = ContextVar("qhana_webhook_lookup", default=None)


@contextmanager
def one_subscription_lookup(task_id: int | None = None) -> Iterator[None]:
    """Within this block, each task's subscriptions are read once for all its events (the
    bookkeeping announces a status and a details change together).

    With ``task_id``, that task's subscriptions are read at once, in the session's current
    transaction: the bookkeeping reads them after writing the change and before committing it,
    while it holds the task's row, so a subscription added at the same time either is read
    here or finds the change committed (see ``add_subscription``), never both or neither.
    """
    token = _LOOKUP.set({})
    try:
        if task_id is not None:
            _LOOKUP.get()[task_id] = TaskUpdateSubscription.get_all_by_task(task_id)  # type: ignore[index]
        yield
    finally:
        _LOOKUP.reset(token)


def _subscribers(task_id: int, event: str) -> list[WebhookRef]:
    cache = _LOOKUP.get()
    if cache is None:
        return TaskUpdateSubscription.get_by_task_and_event(task_id, event)
    rows = cache.get(task_id)
    if rows is None:
        rows = cache[task_id] = TaskUpdateSubscription.get_all_by_task(task_id)
    refs = (WebhookRef(webhook, task_url) for webhook, task_url, kind in rows if kind is None or kind == event)
    return list(dict.fromkeys(refs))  # distinct, in order


def dispatch_event(app: Flask, task_id: int, event: str, only: str | None = None) -> int:
    """Send ``event`` of task ``task_id`` to its subscribers (or to the webhook ``only``).

    Returns how many calls were started. Never raises: a failure is logged.
    """
    try:
        refs = _subscribers(task_id, event)
    except Exception:  # the caller is a task or a request that must not fail for this
        _LOG.exception("Subscriptions of task %s could not be read", task_id)
        return 0
    started = 0
    for ref in refs:
        if only is not None and ref.webhook_href != only:
            continue
        _POOL.submit(_first_attempt, app, ref.webhook_href, ref.task_href, event)
        started += 1
    return started


def init_webhooks(app: Flask) -> None:
    """Connect the listeners that turn this app's task signals into webhook calls."""

    def listener_for(event: str) -> Any:
        def listener(sender: Flask, task_id: int | None = None, **kwargs: Any) -> None:
            if task_id is not None:
                dispatch_event(sender, int(task_id), event)

        return listener

    listeners = {event: listener_for(event) for event in EVENT_SIGNALS}
    for event, signal in EVENT_SIGNALS.items():
        signal.connect(listeners[event], sender=app, weak=False)
    app.extensions["qhana_webhook_listeners"] = listeners
