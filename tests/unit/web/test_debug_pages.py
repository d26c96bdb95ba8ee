"""/debug/ pages: when they are mounted, the route list, data sources and task pages, and
their answers to bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from qhana_plugin_runner.testing import build_app, dispose, make_test_config

from helpers import ROOT


# tests/unit/web/conftest.py's ``app`` is a bare Flask app for the templates: these tests
# build a whole runner instead.
@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    application = build_app(make_test_config(tmp_path / "instance", PLUGIN_FOLDERS=[str(ROOT / "plugins")], DEBUG_PAGES=True))
    with application.app_context():
        yield application
    dispose(application)


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.mark.parametrize(
    ("setting", "debug", "mounted"),
    [(None, False, False), (None, True, True), (True, False, True), (False, True, False)],
)
def test_mounted_by_setting_or_debug_mode(tmp_path: Path, setting: bool | None, debug: bool, mounted: bool) -> None:
    config = make_test_config(tmp_path / "instance", DEBUG_PAGES=setting, DEBUG=debug)
    app = build_app(config)
    try:
        assert app.debug is debug
        assert (app.test_client().get("/debug/").status_code == 200) is mounted
        assert any(rule.rule.startswith("/debug/") for rule in app.url_map.iter_rules()) is mounted
    finally:
        dispose(app)


def test_index_lists_loaded_plugins_with_debugger_links(client: Any) -> None:
    page = client.get("/debug/").get_data(as_text=True)
    assert "/debug/frontend-debugger?plugin=hello-world@v0-2-1" in page
    assert "/debug/frontend-debugger?plugin=csv-statistics@v0-1-0" in page


def test_routes_as_json_and_html(client: Any) -> None:
    routes = client.get("/debug/routes?format=json").get_json()["routes"]
    by_rule = {route["rule"]: route for route in routes}
    assert by_rule["/plugins/hello-world@v0-2-1/process/"]["methods"] == ["POST"]
    assert "HEAD" not in by_rule["/tasks/<int:task_id>/"]["methods"]
    page = client.get("/debug/routes").get_data(as_text=True)
    assert "/debug/frontend-debugger?url=/plugins/hello-world@v0-2-1/ui/" in page
    assert "&lt;int:task_id&gt;" in page  # rule text is escaped


def test_debugger_page_carries_its_urls(client: Any) -> None:
    page = client.get("/debug/frontend-debugger?url=/plugins/hello-world@v0-2-1/ui/&plugin=x%22%3E").get_data(as_text=True)
    assert 'data-initial-url="/plugins/hello-world@v0-2-1/ui/"' in page
    assert 'data-initial-plugin="x&#34;&gt;"' in page  # attribute values are escaped
    assert 'data-sources-url="/debug/data-sources"' in page


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "//evil.example/"])
def test_debugger_refuses_urls_that_are_not_http(client: Any, url: str) -> None:
    response = client.get("/debug/frontend-debugger", query_string={"url": url})
    assert response.status_code == 400
    assert "url must be" in response.get_json()["message"]


def test_task_page_needs_an_existing_task(client: Any) -> None:
    from qhana_plugin_runner.db.models.tasks import ProcessingTask

    task = ProcessingTask(task_name="demo")
    task.save(commit=True)
    page = client.get(f"/debug/tasks/{task.id}/")
    assert page.status_code == 200
    assert f'data-task-id="{task.id}"' in page.get_data(as_text=True)
    missing = client.get(f"/debug/tasks/{task.id + 1}/")
    assert missing.status_code == 404
    assert missing.get_json()["message"] == f"No task with id {task.id + 1}."


def _finished_task_with_output(app: Any) -> int:
    from datetime import datetime, timezone
    from io import StringIO

    from qhana_plugin_runner.db.models.tasks import ProcessingTask
    from qhana_plugin_runner.storage import STORE

    task = ProcessingTask(task_name="demo")
    task.save(commit=True)
    STORE.persist_task_result(task.id, StringIO("a,b\n1,2\n"), "table.csv", "entity/vector", "text/csv")
    STORE.persist_task_result(task.id, StringIO("scratch"), "scratch.txt", "temp-file", "text/plain")
    pending = ProcessingTask(task_name="demo")
    pending.save(commit=True)
    STORE.persist_task_result(pending.id, StringIO("x"), "pending.csv", "entity/vector", "text/csv")
    task.finished_at = datetime.now(timezone.utc)
    task.save(commit=True)
    return task.id


def test_data_sources_offer_samples_and_finished_outputs(app: Any, client: Any) -> None:
    task_id = _finished_task_with_output(app)
    items = client.get("/debug/data-sources").get_json()["items"]
    names = {item["name"]: item for item in items}
    assert {"measurements.csv", "points.csv", "entities.json", "hello.txt", "table.csv"} <= set(names)
    assert "scratch.txt" not in names and "pending.csv" not in names  # temp files, unfinished tasks
    assert names["table.csv"]["taskId"] == task_id and names["table.csv"]["source"] == "task"
    with client.get(names["measurements.csv"]["href"]) as sample:
        assert sample.status_code == 200 and sample.get_data(as_text=True).startswith("id,station,temperature")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"dataType": "entity/vector"}, {"points.csv", "table.csv"}),
        ({"dataType": "entity/*", "contentType": "application/json"}, {"entities.json"}),
        ({"contentType": "text/*", "dataType": "*"}, {"measurements.csv", "points.csv", "hello.txt", "table.csv"}),
    ],
)
def test_data_sources_filter_by_type(app: Any, client: Any, query: dict[str, str], expected: set[str]) -> None:
    _finished_task_with_output(app)
    items = client.get("/debug/data-sources", query_string=query).get_json()["items"]
    assert {item["name"] for item in items} == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": "many"}, "not a whole number"),
        ({"limit": "0"}, "between 1 and 1000"),
        ({"dataType": "entity list"}, "is not a type like"),
        ({"contentType": "<script>"}, "is not a type like"),
    ],
)
def test_data_sources_reject_bad_parameters(client: Any, query: dict[str, str], message: str) -> None:
    response = client.get("/debug/data-sources", query_string=query)
    assert response.status_code == 400
    assert message in response.get_json()["message"]
