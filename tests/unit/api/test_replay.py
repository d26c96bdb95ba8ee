"""Repeated GETs of the plugin list and of finished tasks are answered by the replay layer
without running Flask, only for the very same request and only while the view's cache holds."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy.exc import OperationalError

from qhana_plugin_runner.api.replay import ReplayMiddleware, offer_replay
from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.db.models.tasks import ProcessingTask, utc_now
from qhana_plugin_runner.db.models.virtual_plugins import VirtualPlugin

from helpers import ROOT, finished_task

PARENT = "hello-world@v0-2-1"


@pytest.fixture
def runner_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    return {**runner_config, "PLUGIN_FOLDERS": [str(ROOT / "plugins")], "PLUGIN_LIST_CACHE_SECONDS": 30.0, "SERVER_NAME": None}


@pytest.fixture
def flask_calls(app: Flask) -> list[str]:
    """Paths of the requests that reached Flask (the layer below the replay middleware)."""
    replay = app.wsgi_app
    assert isinstance(replay, ReplayMiddleware), "the replay layer is the outermost WSGI layer"
    calls: list[str] = []
    inner = replay.app

    def counting(environ: dict[str, Any], start_response: Any) -> Any:
        calls.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    replay.app = counting
    return calls


def test_the_same_plugin_list_request_is_answered_without_flask(client: Any, flask_calls: list[str]) -> None:
    first = client.get("/plugins/", headers={"Origin": "http://ui.example"})
    second = client.get("/plugins/", headers={"Origin": "http://ui.example"})
    assert flask_calls == ["/plugins/"], "the second request was answered without Flask"
    assert second.status_code == first.status_code == 200
    assert second.get_data() == first.get_data()
    assert sorted(second.headers.items()) == sorted(first.headers.items())
    assert second.headers["Access-Control-Allow-Origin"] == "http://ui.example"


def test_another_header_or_host_is_another_request(client: Any, flask_calls: list[str]) -> None:
    client.get("/plugins/", headers={"Origin": "http://ui.example"})
    other_origin = client.get("/plugins/", headers={"Origin": "http://other.example"})
    other_host = client.get("/plugins/", base_url="http://two.example", headers={"Origin": "http://ui.example"})
    assert flask_calls == ["/plugins/"] * 3
    assert other_origin.headers["Access-Control-Allow-Origin"] == "http://other.example"
    assert all(entry["apiRoot"].startswith("http://two.example/") for entry in other_host.get_json()["plugins"])


def test_a_virtual_plugin_change_ends_the_replay(app: Flask, client: Any, flask_calls: list[str]) -> None:
    client.get("/plugins/")
    client.get("/plugins/")
    assert len(flask_calls) == 1
    with app.app_context():
        DB.session.add(VirtualPlugin(PARENT, "vp-replay", "v1", "d", "", f"http://x/plugins/{PARENT}/vp-replay/"))
        DB.session.commit()
    names = [entry["name"] for entry in client.get("/plugins/").get_json()["plugins"]]
    assert "vp-replay" in names and len(flask_calls) == 2


def test_a_new_list_cache_ends_the_replay(app: Flask, client: Any, flask_calls: list[str]) -> None:
    client.get("/plugins/")
    app.extensions.pop("qhana_plugin_list_body_cache")  # as a changed PLUGIN_LIST_CACHE_SECONDS does
    client.get("/plugins/")
    assert len(flask_calls) == 2


def test_a_finished_task_is_replayed(app: Flask, client: Any, flask_calls: list[str]) -> None:
    finished = finished_task()
    answers = [client.get(f"/tasks/{finished}/") for _ in range(3)]
    assert flask_calls == [f"/tasks/{finished}/"]
    assert {a.get_data() for a in answers} == {answers[0].get_data()} and answers[0].get_json()["status"] == "SUCCESS"
    assert answers[2].headers["ETag"] == answers[0].headers["ETag"]


def test_a_pending_task_is_read_anew_for_every_replay_until_it_finished(app: Flask, client: Any, flask_calls: list[str]) -> None:
    pending = ProcessingTask("t", parameters="{}")
    pending.save(commit=True)
    url = f"/tasks/{pending.id}/"
    first, second = client.get(url), client.get(url)
    assert flask_calls == [url], "the repeated poll was answered without Flask"
    assert second.get_data() == first.get_data() and first.get_json()["status"] == "PENDING"
    assert sorted(second.headers.items()) == sorted(first.headers.items())

    with app.app_context():  # the task moves on: the next replay shows it, as Flask would
        task = ProcessingTask.get_by_id(pending.id)
        task.task_log, task.progress_value = "working on it", 40.0
        task.add_next_step("http://api.example/step", "http://ui.example/step", "step-1")
        DB.session.commit()
    moved = client.get(url)
    assert flask_calls == [url]
    assert moved.get_json()["log"] == "working on it" and moved.get_json()["progress"]["value"] == 40
    assert moved.headers["Content-Length"] == str(len(moved.get_data()))
    through_flask = client.get(url, headers={"X-Another": "request"})
    assert flask_calls == [url, url]
    assert moved.get_data() == through_flask.get_data()

    with app.app_context():  # finished: Flask answers again (outputs, ETag), then that is replayed
        task = ProcessingTask.get_by_id(pending.id)
        task.finished_at, task.task_status = utc_now(), "SUCCESS"
        DB.session.commit()
    done = [client.get(url) for _ in range(2)]
    assert flask_calls == [url, url, url]
    assert done[0].get_json()["status"] == "SUCCESS" and done[1].headers["ETag"] == done[0].headers["ETag"]


def test_a_failing_database_read_of_a_replayed_poll_is_answered_by_flask(client: Any, flask_calls: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    pending = ProcessingTask("t", parameters="{}")
    pending.save(commit=True)
    url = f"/tasks/{pending.id}/"
    client.get(url)

    def unreachable(*args: Any) -> Any:
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr("qhana_plugin_runner.api.tasks_api._read_rows", unreachable)
    failed = client.get(url)
    assert flask_calls == [url, url] and failed.status_code == 503 and failed.get_json()["code"] == 503
    monkeypatch.undo()
    assert client.get(url).get_json()["status"] == "PENDING"
    assert client.get(url).status_code == 200 and flask_calls == [url, url, url], "replayed again"


def test_conditional_answers_and_errors_are_not_stored(client: Any, flask_calls: list[str]) -> None:
    finished = finished_task()
    etag = client.get(f"/tasks/{finished}/").headers["ETag"]
    for _ in range(2):
        assert client.get(f"/tasks/{finished}/", headers={"If-None-Match": etag}).status_code == 304
        assert client.get("/tasks/999999/").status_code == 404
    assert flask_calls.count(f"/tasks/{finished}/") == 3
    assert flask_calls.count("/tasks/999999/") == 2


def test_only_gets_without_a_body_are_replayed(client: Any, flask_calls: list[str]) -> None:
    client.get("/plugins/")
    client.head("/plugins/")
    client.get("/plugins/", data=b"x", content_type="text/plain")
    assert flask_calls == ["/plugins/"] * 3


def test_zero_entries_turns_replay_off(app: Flask, client: Any, flask_calls: list[str]) -> None:
    app.wsgi_app.entries = 0  # type: ignore[attr-defined]
    client.get("/plugins/")
    client.get("/plugins/")
    assert flask_calls == ["/plugins/"] * 2


def _wsgi_app(headers: list[tuple[str, str]], body: bytes, offered: bytes | None = None, valid: Any = lambda: True) -> tuple[ReplayMiddleware, list[int]]:
    calls: list[int] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        calls.append(1)
        offer_replay(environ, body if offered is None else offered, valid)
        start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
        return [body]

    return ReplayMiddleware(app, entries=2), calls


def _get(middleware: ReplayMiddleware, path: str = "/", **headers: str) -> tuple[str, bytes]:
    status: list[str] = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "wsgi.url_scheme": "http", **{f"HTTP_{k.upper()}": v for k, v in headers.items()}}
    body = b"".join(middleware(environ, lambda s, h, exc_info=None: status.append(s)))
    return status[0], body


def test_a_session_cookie_or_a_different_body_is_never_stored() -> None:
    with_cookie, calls = _wsgi_app([("Set-Cookie", "session=abc")], b"{}")
    _get(with_cookie)
    _get(with_cookie)
    assert len(calls) == 2
    other_body, calls = _wsgi_app([], b"{}", offered=b"[]")
    _get(other_body)
    _get(other_body)
    assert len(calls) == 2


def test_validity_is_asked_before_each_replay_and_entries_are_bounded() -> None:
    state = {"valid": True}
    middleware, calls = _wsgi_app([], b"{}", valid=lambda: state["valid"])
    assert _get(middleware) == ("200 OK", b"{}")
    assert _get(middleware) == ("200 OK", b"{}") and len(calls) == 1
    state["valid"] = False
    _get(middleware)
    assert len(calls) == 2
    state["valid"] = True
    for path in ("/a", "/b", "/c"):
        _get(middleware, path)
    assert len(middleware._stored) <= 2


def test_stored_bodies_are_bounded_in_bytes() -> None:
    body = b"x" * 1000
    middleware, calls = _wsgi_app([], body)
    middleware.entries, middleware.max_total_bytes = 100, 2500
    for path in ("/a", "/b"):
        _get(middleware, path)
    assert len(middleware._stored) == 2 and middleware._bytes == 2000
    _get(middleware, "/c")  # 3000 bytes would be too many: the others are dropped
    assert list(middleware._stored) and len(middleware._stored) == 1 and middleware._bytes == 1000
    middleware.max_bytes = 999
    _get(middleware, "/d")
    assert len(middleware._stored) == 1, "a body over max_bytes is not stored"
