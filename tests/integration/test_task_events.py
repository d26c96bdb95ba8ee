"""``GET /tasks/<id>/events``: a multi-step task's changes as server-sent events, resumable."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from werkzeug.serving import make_server

from helpers import ROOT, poll

MULTI = "/plugins/hello-world-multi-step@v0-2-1/process/"


def parse_events(text: str) -> list[dict[str, Any]]:
    events = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith(":") or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        if "event" in fields:
            events.append({"event": fields["event"], "id": fields["id"], "data": json.loads(fields["data"])})
    return events


@pytest.fixture
def runner_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    return {**runner_config, "PLUGIN_FOLDERS": [str(ROOT / "plugins")], "EVENT_STREAM_POLL_INTERVAL": 0.01}


@pytest.fixture
def server(app: Any) -> Any:
    """The app served over real HTTP (a streamed response needs a real server to interleave)."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_stream_shows_every_change_of_a_multi_step_task(app: Any, client: Any, celery_worker: Any, server: str) -> None:
    import requests

    response = client.post(MULTI, data={"inputStr": "input text"})
    task_path = response.headers["Location"]
    collected: list[str] = []

    def listen() -> None:
        with requests.get(server + task_path + "events", stream=True, timeout=30) as stream:
            assert stream.headers["Content-Type"].startswith("text/event-stream")
            for chunk in stream.iter_content(chunk_size=None, decode_unicode=True):
                collected.append(chunk)

    listener = threading.Thread(target=listen)
    listener.start()
    body = poll(lambda: client.get(task_path).get_json(), lambda b: bool(b.get("steps")))
    client.post(body["steps"][0]["href"], data={"inputStr": "more"})
    listener.join(30)
    assert not listener.is_alive(), "the stream ends after the final status"

    events = parse_events("".join(collected))
    kinds = [e["event"] for e in events]
    assert kinds[0] == "status" and events[0]["data"]["status"] == "PENDING"
    assert kinds[-1] == "status" and events[-1]["data"]["status"] == "SUCCESS"
    # the open step is seen (in the first snapshot if it opened before the stream connected,
    # else in a steps event), then a steps event for its clearing
    assert any(e["data"].get("steps") and e["data"]["steps"][0]["cleared"] is False for e in events), kinds
    assert "steps" in kinds and "details" in kinds
    assert events[-1]["data"]["steps"][0]["cleared"] is True
    assert len({e["id"] for e in events if e["event"] == "steps"}) == kinds.count("steps")

    # resuming from the first event sends what changed since, ending with the final status
    with requests.get(server + task_path + "events", headers={"Last-Event-ID": events[0]["id"]}, timeout=10) as again:
        resumed = parse_events(again.text)
    assert [e["event"] for e in resumed] == ["steps", "details", "status"]
    # resuming from the last event sends nothing new but the stream still closes
    with requests.get(server + task_path + "events", headers={"Last-Event-ID": events[-1]["id"]}, timeout=10) as done:
        assert parse_events(done.text) == []


def test_unknown_task_stream_is_404(client: Any) -> None:
    response = client.get("/tasks/4242/events")
    assert response.status_code == 404 and response.get_json()["message"] == "Task not found."


@pytest.mark.redis
def test_stream_wakes_on_the_redis_event_bus(runner_config: dict[str, Any], redis_url: str) -> None:
    """With a 30 s timer, only Redis notifications can end the stream within its 15 s time-out."""
    import requests
    from celery.contrib.testing.worker import start_worker

    from qhana_plugin_runner.celery import CELERY
    from qhana_plugin_runner.testing import build_app, dispose

    app = build_app({**runner_config, "EVENT_BUS_URL": redis_url, "EVENT_STREAM_POLL_INTERVAL": 30})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        with app.app_context(), start_worker(CELERY, pool="threads", perform_ping_check=False):
            client = app.test_client()
            task_path = client.post(MULTI, data={"inputStr": "bus"}).headers["Location"]
            body = poll(lambda: client.get(task_path).get_json(), lambda b: bool(b.get("steps")))
            submit = threading.Timer(1.0, lambda: client.post(body["steps"][0]["href"], data={"inputStr": "more"}))
            submit.start()
            with requests.get(f"http://127.0.0.1:{httpd.server_port}{task_path}events", timeout=15) as stream:
                events = parse_events(stream.text)
            submit.join()
        assert events[0]["data"]["status"] == "PENDING"
        assert events[-1]["event"] == "status" and events[-1]["data"]["status"] == "SUCCESS"
    finally:
        httpd.shutdown()
        httpd.server_close()
        app.extensions["qhana_event_bus"].close()
        dispose(app)
