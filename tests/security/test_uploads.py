"""Request bodies are bounded by ``MAX_CONTENT_LENGTH``: oversized form, multipart, JSON and
chunked bodies get a JSON 413 before a plugin or the subscription endpoint sees them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.db.models.tasks import ProcessingTask, TaskUpdateSubscription

LIMIT = 2048
PROCESS = "/plugins/fx-security@1-0-0/process/"
UI = "/plugins/fx-security@1-0-0/ui/"


@pytest.fixture
def runner_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    return {**runner_config, "MAX_CONTENT_LENGTH": LIMIT}


@pytest.fixture
def task(app: Any) -> ProcessingTask:
    task = ProcessingTask(task_name="t")
    task.save(commit=True)
    return task


def _task_count() -> int:
    return DB.session.query(ProcessingTask).count()


def _assert_json_413(response: Any) -> None:
    assert response.status_code == 413, response.get_data(as_text=True)
    assert response.is_json and response.get_json()["code"] == 413


def _chunked(client: Any, url: str, body: bytes, content_type: str) -> Any:
    """A body without Content-Length, as a WSGI server passes a chunked request on."""
    return client.post(
        url,
        input_stream=io.BytesIO(body),
        content_type=content_type,
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_oversized_form_to_a_process_endpoint(client: Any, task: ProcessingTask) -> None:
    before = _task_count()
    _assert_json_413(client.post(PROCESS, data={"text": "x" * (LIMIT + 1)}))
    _assert_json_413(client.post(PROCESS, data={"text": "a", "upload": (io.BytesIO(b"y" * LIMIT), "big.bin")}))
    assert _task_count() == before, "no task was started"


def test_oversized_body_with_a_false_content_length(client: Any) -> None:
    response = client.post(
        PROCESS,
        input_stream=io.BytesIO(b"text=" + b"x" * 4 * LIMIT),
        content_type="application/x-www-form-urlencoded",
        headers={"Content-Length": str(4 * LIMIT + 5)},
    )
    _assert_json_413(response)


def test_oversized_subscription(client: Any, task: ProcessingTask) -> None:
    hook = "http://receiver.example/" + "x" * LIMIT
    _assert_json_413(client.post(f"/tasks/{task.id}/", json={"command": "subscribe", "webhookHref": hook}))
    assert TaskUpdateSubscription.get_by_task_and_subscriber(task, hook) == []


def test_chunked_bodies_over_the_limit_are_refused_not_truncated(client: Any, task: ProcessingTask) -> None:
    before = _task_count()
    _assert_json_413(_chunked(client, PROCESS, b"text=" + b"x" * LIMIT, "application/x-www-form-urlencoded"))
    body = b'{"command": "subscribe", "webhookHref": "http://receiver.example/' + b"x" * LIMIT + b'"}'
    _assert_json_413(_chunked(client, f"/tasks/{task.id}/", body, "application/json"))
    assert _task_count() == before


def test_chunked_bodies_within_the_limit_are_read_whole(client: Any, task: ProcessingTask) -> None:
    text = "y" * (LIMIT - len("text="))
    response = _chunked(client, UI, f"text={text}".encode(), "application/x-www-form-urlencoded")
    assert response.status_code == 200 and f'value="{text}"' in response.get_data(as_text=True)
    body = b'{"command": "subscribe", "webhookHref": "http://receiver.example/hook"}'
    assert _chunked(client, f"/tasks/{task.id}/", body, "application/json").status_code == 200


def test_chunked_upload_over_http_is_refused(runner_url: str, task: ProcessingTask) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"text="
        for _ in range(8):
            yield b"x" * (LIMIT // 2)

    try:
        response = requests.post(
            runner_url + PROCESS,
            data=chunks(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=10,
        )
    except requests.ConnectionError:
        pytest.skip("the server closed the connection before answering (allowed for 413)")
    assert response.status_code == 413 and response.json()["code"] == 413


def test_a_large_chunked_upload_is_spooled_not_held_in_memory(app: Any, client: Any) -> None:
    """A chunked body is read before the form parser sees it (to enforce the limit): into a
    temporary file, not into memory, so a large upload does not grow the API process."""
    import tracemalloc

    mib = 1024 * 1024
    app.config["MAX_CONTENT_LENGTH"] = 32 * mib
    boundary = "b0undary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\nhello\r\n--{boundary}\r\nContent-Disposition: form-data; name="upload"; filename="big.bin"\r\n\r\n'.encode()
    body = head + b"z" * (16 * mib) + f"\r\n--{boundary}--\r\n".encode()
    tracemalloc.start()
    try:
        response = _chunked(client, UI, body, f"multipart/form-data; boundary={boundary}")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200 and 'value="hello"' in response.get_data(as_text=True)
    assert peak < 4 * mib, f"{peak / mib:.1f} MiB allocated while receiving a 16 MiB upload"


def test_spool_body_stops_at_the_limit() -> None:
    from werkzeug.exceptions import RequestEntityTooLarge

    from qhana_plugin_runner.web.request_limits import spool_body

    with spool_body(io.BytesIO(b"x" * 3000), 3000) as spooled:
        assert spooled.read() == b"x" * 3000
    with spool_body(io.BytesIO(b"y" * (3 * 1024 * 1024)), 4 * 1024 * 1024) as big:
        assert big._rolled and big.read(4) == b"yyyy"  # on disk beyond 1 MiB
    with pytest.raises(RequestEntityTooLarge):
        spool_body(io.BytesIO(b"x" * 3001), 3000)
