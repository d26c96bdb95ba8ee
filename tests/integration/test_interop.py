"""Interop over real HTTP: a runner with the demo plugins served on 127.0.0.1, a Celery worker
thread, a local webhook receiver and a stand-in for another runner with fixed answers."""

from __future__ import annotations

import http.server
import json
import re
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from werkzeug.serving import BaseWSGIServer

from qhana_plugin_runner.celery import CELERY
from qhana_plugin_runner.plugin_utils import interop
from qhana_plugin_runner.plugin_utils.interop import (
    InteropError,
    call_plugin_endpoint,
    get_plugin_endpoint,
    get_task_result_no_wait,
    monitor_external_substep,
    monitor_result,
    subscribe,
)
from qhana_plugin_runner.requests import REQUEST_SESSION, open_url
from qhana_plugin_runner.tasks import webhooks

from helpers import ROOT, poll

HELLO = "/plugins/hello-world@v0-2-1/"
MULTI = "/plugins/hello-world-multi-step@v0-2-1/"


class LocalServer:
    """An HTTP server on 127.0.0.1 that records every request.

    ``answer(path, *responses)`` sets what a path answers; the responses are used in turn and
    the last one repeats. Unknown paths answer 204 to POST (a webhook receiver) and 404 to GET.
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.routes: dict[str, list[tuple[int, str, bytes]]] = {}
        self.redirects: dict[str, tuple[int, str]] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                status, content_type, payload = server._record(
                    self.command, parts.path, parse_qs(parts.query), body
                )
                redirect = server.redirects.get(parts.path)
                if redirect is not None:
                    status, content_type, payload = redirect[0], "text/plain", b""
                self.send_response(status)
                if redirect is not None:
                    self.send_header("Location", redirect[1])
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _handle  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def _record(
        self, method: str, path: str, query: dict[str, list[str]], body: bytes
    ) -> tuple[int, str, bytes]:
        with self._lock:
            self.requests.append({"method": method, "path": path, "query": query, "body": body})
            answers = self.routes.get(path)
            if answers:
                return answers.pop(0) if len(answers) > 1 else answers[0]
        return (
            (204, "text/plain", b"")
            if method == "POST"
            else (404, "application/json", b'{"message": "Not found."}')
        )

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def answer(self, path: str, *bodies: Any, status: int = 200) -> None:
        self.routes[path] = [(status, "application/json", json.dumps(b).encode()) for b in bodies]

    def answer_raw(self, path: str, status: int, content_type: str, payload: bytes) -> None:
        self.routes[path] = [(status, content_type, payload)]

    def calls(self, method: str, path: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["method"] == method and r["path"] == path]

    def hooks(self, event: str | None = None) -> list[dict[str, Any]]:
        """Webhook calls received at /hook as ``{"source", "event"}``."""
        return [
            {
                "source": c["query"].get("source", [None])[0],
                "event": c["query"].get("event", [None])[0],
            }
            for c in self.calls("POST", "/hook")
            if event is None or c["query"].get("event", [None])[0] == event
        ]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)








@pytest.fixture
def runner_config(runner_config: dict[str, Any], runner_server: BaseWSGIServer) -> dict[str, Any]:
    return {
        **runner_config,
        "PLUGIN_FOLDERS": [str(ROOT / "plugins")],
        "SERVER_NAME": f"127.0.0.1:{runner_server.server_port}",
        "INTEROP_MONITOR_BACKOFF": 0.05,
        "INTEROP_MONITOR_BACKOFF_MAX": 0.2,
        "WEBHOOK_RETRY_BACKOFF": 0.05,
    }




@pytest.fixture
def receiver() -> Iterator[LocalServer]:
    server = LocalServer()
    yield server
    server.close()


@pytest.fixture
def other_runner() -> Iterator[LocalServer]:
    """Stands in for another (for example an older) runner."""
    server = LocalServer()
    yield server
    server.close()
    REQUEST_SESSION.close()


def _wait_final(task_url: str) -> tuple[str, dict[str, Any]]:
    def fetch() -> dict[str, Any]:
        status, task = get_task_result_no_wait(task_url)
        return {"status": status, "task": task}

    body = poll(fetch, lambda b: b["status"] != "PENDING")
    return body["status"], body["task"]


def _start(runner_url: str, plugin: str, text: str) -> str:
    return call_plugin_endpoint(get_plugin_endpoint(runner_url + plugin), {"inputStr": text})


# --- names -----------------------------------------------------------------------------------


def test_wire_names_and_exports_are_the_originals() -> None:
    prefix = "qhana_plugin_runner.plugin_utils.interop."
    assert monitor_result.name == prefix + "monitor_result"
    assert monitor_external_substep.name == prefix + "monitor_external_substep"
    assert {prefix + "monitor_result", prefix + "monitor_external_substep"} <= set(CELERY.tasks)
    assert (
        interop.call_webhook is webhooks.call_webhook
        and interop.call_webhook.name == prefix + "call_webhook"
    )
    assert {"ResultUnchangedError", "call_webhook", "subscribe", "get_plugin_endpoint"} <= set(
        interop.__all__
    )
    assert issubclass(InteropError, ValueError)


# --- calling plugins ------------------------------------------------------------------------


def test_endpoint_discovery_resolves_the_entry_point(runner_url: str) -> None:
    assert get_plugin_endpoint(runner_url + HELLO) == f"{runner_url}{HELLO}process/"
    assert get_plugin_endpoint(runner_url + MULTI) == f"{runner_url}{MULTI}process/"


def test_interaction_endpoint_is_looked_up_among_the_links(
    runner_url: str, other_runner: LocalServer
) -> None:
    metadata = {
        "entryPoint": {"href": "process/"},
        "links": [{"type": "interaction", "href": "./interact/"}],
    }
    other_runner.answer("/plugins/p@v1/", metadata)
    plugin = other_runner.url("/plugins/p@v1/")
    assert get_plugin_endpoint(plugin) == other_runner.url("/plugins/p@v1/process/")
    assert get_plugin_endpoint(plugin, "interaction") == other_runner.url("/plugins/p@v1/interact/")
    with pytest.raises(ValueError, match=r"no link of type 'config'.*interaction"):
        get_plugin_endpoint(plugin, "config")
    with pytest.raises(InteropError, match=r"link types: none"):
        get_plugin_endpoint(runner_url + HELLO, "interaction")


def test_hello_world_started_over_http_succeeds(runner_url: str, celery_worker: Any) -> None:
    task_url = _start(runner_url, HELLO, "some input")
    assert re.fullmatch(rf"{runner_url}/tasks/\d+/", task_url)
    status, task = _wait_final(task_url)
    assert status == "SUCCESS"
    [output] = task["outputs"]
    with open_url(output["href"]) as response:
        assert response.text == "some output"


def test_url_rewrite_rules_apply_and_urls_stay_in_the_callers_space(
    app: Flask, runner_url: str, celery_worker: Any
) -> None:
    app.config["URL_REWRITE_RULES"] = [(re.compile(r"^http://runner\.example"), runner_url)]
    endpoint = get_plugin_endpoint("http://runner.example" + HELLO)
    assert endpoint == f"http://runner.example{HELLO}process/"
    task_url = call_plugin_endpoint(endpoint, {"inputStr": "input"})
    assert task_url.startswith("http://runner.example/tasks/")
    assert _wait_final(task_url)[0] == "SUCCESS"


def test_unknown_plugin_url_raises_http_404(runner_url: str) -> None:
    with pytest.raises(requests.HTTPError) as info:
        get_plugin_endpoint(runner_url + "/plugins/no-such-plugin@v1/")
    assert info.value.response is not None and info.value.response.status_code == 404


def test_non_json_answers_raise_a_clear_error(other_runner: LocalServer) -> None:
    other_runner.answer_raw("/page/", 200, "text/html", b"<html>hello</html>")
    with pytest.raises(InteropError, match=r"answered 200 with text/html, not JSON"):
        get_plugin_endpoint(other_runner.url("/page/"))
    with pytest.raises(InteropError, match="not JSON"):
        get_task_result_no_wait(other_runner.url("/page/"))
    other_runner.answer("/plugins/bad@v1/", {"title": "no entry point"})
    with pytest.raises(InteropError, match="no entryPoint.href"):
        get_plugin_endpoint(other_runner.url("/plugins/bad@v1/"))


def test_invalid_form_raises_with_the_servers_explanation(runner_url: str) -> None:
    with pytest.raises(requests.HTTPError, match=r"422.*inputStr") as info:
        call_plugin_endpoint(f"{runner_url}{HELLO}process/", {}, debug=True)
    assert info.value.response is not None and info.value.response.status_code == 422


def test_307_repeats_the_post_and_303_leads_to_the_task(other_runner: LocalServer) -> None:
    other_runner.redirects["/old/process/"] = (307, "/new/process/")
    other_runner.redirects["/new/process/"] = (303, "../../tasks/3/")
    other_runner.answer("/tasks/3/", {"status": "PENDING"})
    task_url = call_plugin_endpoint(other_runner.url("/old/process/"), {"inputStr": "x"})
    assert task_url == other_runner.url("/tasks/3/")
    assert [c["body"] for c in other_runner.calls("POST", "/new/process/")] == [b"inputStr=x"]
    other_runner.redirects["/loop/"] = (307, "/loop/")
    with pytest.raises(InteropError, match="redirected more than"):
        call_plugin_endpoint(other_runner.url("/loop/"), None)


def test_endpoint_answering_without_a_task_is_refused(other_runner: LocalServer) -> None:
    other_runner.answer("/process/", {"done": True})
    with pytest.raises(InteropError, match="without the URL of a task"):
        call_plugin_endpoint(other_runner.url("/process/"), {"a": "b"})
    assert other_runner.calls("POST", "/process/")[0]["body"] == b"a=b"


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ("PENDING", "PENDING"),
        ("SUCCESS", "SUCCESS"),
        ("FAILURE", "FAILURE"),
        ("ERROR", "FAILURE"),
        ("UNKNOWN", "FAILURE"),
        (None, "FAILURE"),
    ],
)
def test_task_status_is_normalised(other_runner: LocalServer, sent: str | None, read: str) -> None:
    other_runner.answer("/tasks/1/", {"status": sent, "log": ""})
    status, body = get_task_result_no_wait(other_runner.url("/tasks/1/"))
    assert status == read and body["status"] == sent


# --- subscribing ----------------------------------------------------------------------------


def test_subscribe_to_a_finished_task_of_this_runner_delivers_the_status(
    runner_url: str, celery_worker: Any, receiver: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Any] = []
    monkeypatch.setattr(
        interop.monitor_result, "apply_async", lambda *a, **k: started.append((a, k))
    )
    task_url = _start(runner_url, HELLO, "input")
    _wait_final(task_url)
    assert subscribe(task_url, receiver.url()) is True
    [call] = poll(lambda: {"hooks": receiver.hooks("status")}, lambda b: len(b["hooks"]) == 1)[
        "hooks"
    ]
    assert call == {"source": task_url, "event": "status"}
    assert started == [], "this runner sends missed events itself; no monitor is needed"


def test_subscribe_sends_one_request_per_event_and_checks_once_on_other_runners(
    other_runner: LocalServer, receiver: LocalServer, celery_worker: Any
) -> None:
    task_url = other_runner.url("/tasks/5/")
    other_runner.answer(
        "/tasks/5/", {"status": "SUCCESS", "links": [{"type": "subscribe", "href": task_url}]}
    )
    assert subscribe(task_url, receiver.url(), ["status", "steps"]) is True
    bodies = [json.loads(c["body"]) for c in other_runner.calls("POST", "/tasks/5/")]
    assert bodies == [
        {"command": "subscribe", "webhookHref": receiver.url(), "event": e}
        for e in ("status", "steps")
    ]
    [call] = poll(lambda: {"hooks": receiver.hooks()}, lambda b: len(b["hooks"]) == 1, timeout=10)[
        "hooks"
    ]
    assert call == {"source": task_url, "event": "status"}


def test_subscribe_all_is_a_single_request_with_event_null(
    other_runner: LocalServer, receiver: LocalServer
) -> None:
    task_url = other_runner.url("/tasks/6/")
    other_runner.answer(
        "/tasks/6/",
        {
            "status": "PENDING",
            "links": [
                {"type": "subscribe", "href": task_url},
                {"type": "events", "href": task_url + "events"},
            ],
        },
    )
    assert subscribe(task_url, receiver.url(), "all") is True
    assert [json.loads(c["body"])["event"] for c in other_runner.calls("POST", "/tasks/6/")] == [
        None
    ]
    with pytest.raises(ValueError, match="at least one event"):
        subscribe(task_url, receiver.url(), [])


def test_task_without_subscribe_link_is_polled_instead(
    other_runner: LocalServer, receiver: LocalServer, celery_worker: Any
) -> None:
    task_url = other_runner.url("/tasks/7/")
    other_runner.answer(
        "/tasks/7/",
        {"status": "PENDING"},
        {"status": "PENDING"},
        {"status": "PENDING"},
        {"status": "SUCCESS"},
    )
    assert subscribe(task_url, receiver.url(), "status") is False
    [call] = poll(lambda: {"hooks": receiver.hooks()}, lambda b: len(b["hooks"]) == 1, timeout=10)[
        "hooks"
    ]
    assert call == {"source": task_url, "event": "status"}
    assert len(other_runner.calls("GET", "/tasks/7/")) == 4  # subscribe's look, then three polls


# --- monitoring -----------------------------------------------------------------------------


def test_monitor_result_reports_the_finished_status(
    runner_url: str, celery_worker: Any, receiver: LocalServer
) -> None:
    task_url = _start(runner_url, HELLO, "input")
    assert monitor_result.delay(task_url, receiver.url(), "status").get(timeout=20) == "status"
    assert get_task_result_no_wait(task_url)[0] == "SUCCESS"
    poll(
        lambda: {"hooks": receiver.hooks()},
        lambda b: b["hooks"] == [{"source": task_url, "event": "status"}],
    )


def test_monitor_result_reports_an_open_step(
    runner_url: str, celery_worker: Any, receiver: LocalServer
) -> None:
    task_url = _start(runner_url, MULTI, "input")
    assert monitor_result.delay(task_url, receiver.url(), "steps").get(timeout=20) == "steps"
    status, task = get_task_result_no_wait(task_url)
    assert status == "PENDING" and task["steps"][-1]["cleared"] is False
    poll(
        lambda: {"hooks": receiver.hooks()},
        lambda b: b["hooks"] == [{"source": task_url, "event": "steps"}],
    )


@pytest.mark.parametrize("substep", ["demo-step", 0])
def test_monitor_external_substep_waits_for_the_step_to_be_cleared(
    runner_url: str, celery_worker: Any, receiver: LocalServer, substep: str | int
) -> None:
    task_url = _start(runner_url, MULTI, "first")
    task = poll(lambda: get_task_result_no_wait(task_url)[1], lambda b: bool(b.get("steps")))
    result = monitor_external_substep.delay(task_url, receiver.url(), substep)
    poll(lambda: {"state": result.state}, lambda b: b["state"] == "RETRY")
    assert receiver.hooks() == [], "the step is still open"
    assert call_plugin_endpoint(task["steps"][0]["href"], {"inputStr": "second"}) == task_url
    assert result.get(timeout=20) == "steps"
    poll(
        lambda: {"hooks": receiver.hooks()},
        lambda b: b["hooks"] == [{"source": task_url, "event": "steps"}],
    )
    assert _wait_final(task_url)[0] == "SUCCESS"


def test_substep_picks_the_latest_step_with_that_id(
    other_runner: LocalServer, receiver: LocalServer, celery_worker: Any
) -> None:
    task_url = other_runner.url("/tasks/8/")
    loop = [
        {"href": "a", "stepId": "loop", "cleared": True},
        {"href": "b", "stepId": "loop", "cleared": False},
    ]
    other_runner.answer(
        "/tasks/8/",
        {"status": "PENDING", "steps": loop},
        {"status": "PENDING", "steps": [loop[0], {**loop[1], "cleared": True}]},
    )
    assert (
        monitor_external_substep.delay(task_url, receiver.url(), "loop").get(timeout=20) == "steps"
    )
    assert len(other_runner.calls("GET", "/tasks/8/")) == 2


def test_substep_of_a_task_that_ended_without_it_reports_the_status(
    other_runner: LocalServer, receiver: LocalServer, celery_worker: Any
) -> None:
    task_url = other_runner.url("/tasks/9/")
    other_runner.answer("/tasks/9/", {"status": "ERROR", "steps": []})
    assert monitor_external_substep.delay(task_url, receiver.url(), 2).get(timeout=20) == "status"
    poll(
        lambda: {"hooks": receiver.hooks()},
        lambda b: b["hooks"] == [{"source": task_url, "event": "status"}],
    )


def test_monitor_survives_server_errors_with_backoff(
    other_runner: LocalServer, receiver: LocalServer, celery_worker: Any
) -> None:
    task_url = other_runner.url("/tasks/10/")
    other_runner.routes["/tasks/10/"] = [
        (503, "application/json", b'{"message": "busy"}'),
        (200, "application/json", b'{"status": "PENDING"}'),
        (200, "application/json", b'{"status": "SUCCESS"}'),
    ]
    assert monitor_result.delay(task_url, receiver.url(), "all").get(timeout=20) == "status"
    assert len(other_runner.calls("GET", "/tasks/10/")) == 3


@pytest.mark.parametrize(
    "start",
    [
        lambda url, hook: monitor_result.delay(url, hook, "all"),
        lambda url, hook: monitor_external_substep.delay(url, hook, "never"),
    ],
)
def test_monitors_give_up_after_the_configured_number_of_polls(
    app: Flask,
    other_runner: LocalServer,
    receiver: LocalServer,
    celery_worker: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    start: Any,
) -> None:
    monkeypatch.setitem(app.config, "INTEROP_MONITOR_MAX_RETRIES", 2)
    task_url = other_runner.url("/tasks/11/")
    other_runner.answer(
        "/tasks/11/",
        {"status": "PENDING", "steps": [{"href": "x", "stepId": "other", "cleared": True}]},
    )
    with caplog.at_level("WARNING", logger=interop.__name__):
        assert start(task_url, receiver.url()).get(timeout=20) is None
    assert len(other_runner.calls("GET", "/tasks/11/")) == 3  # the first poll and two retries
    assert receiver.hooks() == []
    assert any(
        "Gave up monitoring" in r.getMessage() and task_url in r.getMessage()
        for r in caplog.records
    )


def test_retry_false_looks_once(
    other_runner: LocalServer, receiver: LocalServer, celery_worker: Any
) -> None:
    task_url = other_runner.url("/tasks/12/")
    other_runner.answer("/tasks/12/", {"status": "PENDING"})
    assert (
        monitor_result.delay(task_url, receiver.url(), "status", retry=False).get(timeout=20)
        is None
    )
    assert len(other_runner.calls("GET", "/tasks/12/")) == 1 and receiver.hooks() == []


def test_monitor_stops_at_once_when_the_task_is_gone(
    other_runner: LocalServer, receiver: LocalServer, celery_worker: Any
) -> None:
    task_url = other_runner.url("/tasks/404/")
    assert monitor_result.delay(task_url, receiver.url()).get(timeout=20) is None
    assert len(other_runner.calls("GET", "/tasks/404/")) == 1 and receiver.hooks() == []


def test_bad_monitor_arguments_fail_the_task(other_runner: LocalServer, celery_worker: Any) -> None:
    with pytest.raises(ValueError, match="monitor must be one of"):
        monitor_result.delay(other_runner.url("/tasks/1/"), other_runner.url(), "everything").get(
            timeout=20
        )
    with pytest.raises(ValueError, match="substep must be"):
        monitor_external_substep.delay(other_runner.url("/tasks/1/"), other_runner.url(), -1).get(
            timeout=20
        )
    assert other_runner.requests == []
