"""Helpers shared by the test modules (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_PLUGINS = Path(__file__).resolve().parent / "fixture_plugins"


def poll(fetch: Callable[[], dict[str, Any]], predicate: Callable[[dict[str, Any]], bool], timeout: float = 20) -> dict[str, Any]:
    """Call ``fetch`` until ``predicate`` holds for its answer; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = fetch()
        if predicate(body):
            return body
        time.sleep(0.05)
    raise AssertionError(f"condition not reached within {timeout} s; last answer: {body}")


def wait_final(client: Any, task_url: str, timeout: float = 20) -> dict[str, Any]:
    """Poll a task resource through a Flask test client until it is no longer PENDING."""
    return poll(lambda: client.get(task_url).get_json(), lambda b: b["status"] != "PENDING", timeout)


def download(client: Any, url: str) -> tuple[int, dict[str, str], bytes]:
    """GET a file through a Flask test client and close the streamed response."""
    with client.get(url) as response:
        return response.status_code, dict(response.headers), response.get_data()


def finished_task() -> int:
    """The id of a new SUCCESS task with one result file ``out.txt`` (needs an app context)."""
    from qhana_plugin_runner.db.db import DB
    from qhana_plugin_runner.db.models.tasks import ProcessingTask, utc_now
    from qhana_plugin_runner.storage import STORE

    task = ProcessingTask("t", parameters="{}")
    task.save(commit=True)
    STORE.persist_task_result(task.id, "out", "out.txt", "text", "text/plain")
    task.finished_at, task.task_status, task.task_log = utc_now(), "SUCCESS", "done"
    DB.session.commit()
    return task.id
