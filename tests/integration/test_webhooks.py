"""Webhooks: a local receiver gets the task's events, also when it fails at first, signed when
a secret is set; targets in denied networks are refused."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from qhana_plugin_runner.tasks.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature

from helpers import FIXTURE_PLUGINS, ROOT, poll, wait_final

HELLO = "/plugins/hello-world@v0-2-1/process/"
MULTI = "/plugins/hello-world-multi-step@v0-2-1/process/"


class Receiver:
    """An HTTP server on 127.0.0.1 recording every call; can be told to fail N times first."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail_first = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                with receiver._lock:
                    failing = receiver.fail_first > 0
                    if failing:
                        receiver.fail_first -= 1
                    query = parse_qs(urlsplit(self.path).query)
                    receiver.calls.append(
                        {
                            "at": time.monotonic(),
                            "path": self.path,
                            "source": query.get("source", [None])[0],
                            "event": query.get("event", [None])[0],
                            "headers": dict(self.headers),
                            "answered": 500 if failing else 204,
                        }
                    )
                self.send_response(500 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def delivered(self, event: str) -> list[dict[str, Any]]:
        with self._lock:
            return [c for c in self.calls if c["event"] == event and c["answered"] == 204]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def runner_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    return {
        **runner_config,
        "PLUGIN_FOLDERS": [str(ROOT / "plugins"), str(FIXTURE_PLUGINS / "good")],
        "WEBHOOK_RETRY_BACKOFF": 0.05,
        "WEBHOOK_SECRET": "s3cret",
    }


def _task_id(location: str) -> int:
    return int(location.rstrip("/").rsplit("/", 1)[-1])


def test_status_webhook_arrives_with_the_task_url_and_a_valid_signature(client: Any, celery_worker: Any, receiver: Receiver) -> None:
    response = client.post(HELLO, data={"inputStr": "hook input"}, headers={"X-QHAna-Webhook": receiver.url()})
    assert response.status_code == 303
    final = wait_final(client, response.headers["Location"])
    assert final["status"] == "SUCCESS"
    [call] = poll(lambda: {"calls": receiver.delivered("status")}, lambda b: len(b["calls"]) >= 1)["calls"]
    assert call["source"] == f"http://localhost.localdomain/tasks/{_task_id(response.headers['Location'])}/"
    timestamp = call["headers"][TIMESTAMP_HEADER]
    assert call["headers"][SIGNATURE_HEADER] == signature("s3cret", timestamp, receiver.url() + call["path"][len("/hook"):])


def test_subscription_after_the_task_finished_still_gets_the_status(client: Any, celery_worker: Any, receiver: Receiver) -> None:
    response = client.post(HELLO, data={"inputStr": "late"})
    task_url = response.headers["Location"]
    wait_final(client, task_url)
    subscribed = client.post(task_url, json={"command": "subscribe", "webhookHref": receiver.url(), "event": "status"})
    assert subscribed.status_code == 200
    poll(lambda: {"calls": receiver.delivered("status")}, lambda b: len(b["calls"]) == 1)


def test_failing_receiver_gets_the_event_after_retries(client: Any, celery_worker: Any, receiver: Receiver) -> None:
    receiver.fail_first = 2
    response = client.post(HELLO, data={"inputStr": "retry"}, headers={"X-QHAna-Webhook": receiver.url(), "X-QHAna-Webhook-Events": "status"})
    wait_final(client, response.headers["Location"])
    poll(lambda: {"calls": receiver.delivered("status")}, lambda b: len(b["calls"]) == 1, timeout=30)
    answers = [c["answered"] for c in receiver.calls if c["event"] == "status"]
    assert answers == [500, 500, 204]


def test_multi_step_sends_steps_and_status_events(client: Any, celery_worker: Any, receiver: Receiver) -> None:
    response = client.post(MULTI, data={"inputStr": "input text"}, headers={"X-QHAna-Webhook": receiver.url()})
    task_url = response.headers["Location"]
    body = poll(lambda: client.get(task_url).get_json(), lambda b: bool(b.get("steps")))
    poll(lambda: {"calls": receiver.delivered("steps")}, lambda b: len(b["calls"]) >= 1)
    client.post(body["steps"][0]["href"], data={"inputStr": "more"})
    wait_final(client, task_url)
    poll(lambda: {"calls": receiver.delivered("status")}, lambda b: len(b["calls"]) == 1)
    assert len(receiver.delivered("steps")) >= 2  # step opened, step cleared
    assert receiver.delivered("details")


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/x", "ftp://example.org/x"])
def test_webhooks_in_denied_networks_are_refused(client: Any, url: str) -> None:
    response = client.post(HELLO, data={"inputStr": "x"}, headers={"X-QHAna-Webhook": url})
    assert response.status_code == 422 and "X-QHAna-Webhook" in response.get_json()["message"]
    from qhana_plugin_runner.db.models.tasks import ProcessingTask

    assert ProcessingTask.get_by_id(1) is None, "nothing was started"


def test_unknown_event_header_is_refused(client: Any, receiver: Receiver) -> None:
    response = client.post(HELLO, data={"inputStr": "x"}, headers={"X-QHAna-Webhook": receiver.url(), "X-QHAna-Webhook-Events": "status,everything"})
    assert response.status_code == 422 and "everything" in response.get_json()["message"]


def test_subscribe_endpoint_refuses_metadata_address(client: Any) -> None:
    from qhana_plugin_runner.db.models.tasks import ProcessingTask

    task = ProcessingTask(task_name="t")
    task.save(commit=True)
    response = client.post(f"/tasks/{task.id}/", json={"command": "subscribe", "webhookHref": "http://169.254.169.254/x"})
    assert response.status_code == 422
    assert "denied network" in response.get_json()["errors"]["json"]["webhookHref"][0]
