"""Finished tasks are answered from a per-process cache (with an ETag); pending ones never are."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask

from qhana_plugin_runner.api.response_cache import ResponseCache
from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.db.models.tasks import ProcessingTask, utc_now

from helpers import finished_task


@pytest.fixture
def runner_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    # no SERVER_NAME: URLs come from the request, as behind a proxy with several host names
    return {**runner_config, "SERVER_NAME": None}


def _count_queries(app: Flask) -> list[str]:
    from sqlalchemy import event

    statements: list[str] = []
    with app.app_context():
        event.listen(DB.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


def test_a_finished_task_is_built_once_and_then_served_without_the_database(app: Flask, client: Any) -> None:
    task_id = finished_task()
    statements = _count_queries(app)

    first = client.get(f"/tasks/{task_id}/")
    queries_first = len(statements)
    second = client.get(f"/tasks/{task_id}/")

    assert first.status_code == second.status_code == 200
    assert first.get_data() == second.get_data()
    assert first.get_json()["outputs"][0]["name"] == "out.txt"
    assert queries_first > 0 and len(statements) == queries_first, "the second answer came from the cache"
    assert first.headers["ETag"] and first.headers["ETag"] == second.headers["ETag"]


def test_if_none_match_gets_304(client: Any) -> None:
    task_id = finished_task()
    etag = client.get(f"/tasks/{task_id}/").headers["ETag"]
    again = client.get(f"/tasks/{task_id}/", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    other = client.get(f"/tasks/{task_id}/", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_pending_tasks_are_never_cached(client: Any) -> None:
    task = ProcessingTask("t", parameters="{}")
    task.save(commit=True)
    assert client.get(f"/tasks/{task.id}/").get_json()["status"] == "PENDING"
    assert "ETag" not in client.get(f"/tasks/{task.id}/").headers
    task.task_status, task.finished_at = "SUCCESS", utc_now()
    DB.session.commit()
    assert client.get(f"/tasks/{task.id}/").get_json()["status"] == "SUCCESS"


def test_urls_follow_the_host_asked(client: Any) -> None:
    task_id = finished_task()
    one = client.get(f"/tasks/{task_id}/", base_url="http://one.example").get_json()
    two = client.get(f"/tasks/{task_id}/", base_url="http://two.example").get_json()
    assert one["outputs"][0]["href"].startswith("http://one.example/files/")
    assert two["outputs"][0]["href"].startswith("http://two.example/files/")


def test_cache_expiry_size_and_discard(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ResponseCache(size=2, ttl=10)
    body = b"a"
    cache.put((1, "h"), body, "e1")
    assert cache.holds((1, "h"), body) and not cache.holds((1, "h"), b"other") and not cache.holds((9, "h"), body)
    cache.put((2, "h"), b"b", "e2")
    assert cache.get((1, "h")) == (b"a", "e1")  # now most recently used
    cache.put((3, "h"), b"c", "e3")
    assert cache.get((2, "h")) is None and cache.get((1, "h")) is not None
    cache.discard(1)
    assert cache.get((1, "h")) is None
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + 11)
    assert cache.get((3, "h")) is None
    assert ResponseCache(size=0).get((1, "h")) is None
