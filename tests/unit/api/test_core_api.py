"""The core REST API: shapes the QHAna registry, UI and backend rely on, and JSON errors."""

from __future__ import annotations

from typing import Any

import pytest

from qhana_plugin_runner.db.db import DB
from qhana_plugin_runner.db.models.tasks import ProcessingTask, Step, TaskLink, utc_now
from qhana_plugin_runner.storage import STORE

from helpers import ROOT


@pytest.fixture
def runner_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    return {**runner_config, "PLUGIN_FOLDERS": [str(ROOT / "plugins")], "MAX_CONTENT_LENGTH": 1024}


def _task(**kwargs: Any) -> ProcessingTask:
    task = ProcessingTask(task_name="t", **kwargs)
    task.save(commit=True)
    return task


def test_root_is_a_json_object_that_is_not_a_plugin(client: Any) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.get_json() == {"title": "QHAna plugin runner api."}


def test_plugin_list_has_absolute_api_roots_and_every_field(client: Any) -> None:
    response = client.get("/plugins/")
    assert response.status_code == 200
    plugins = response.get_json()["plugins"]
    names = [p["name"] for p in plugins]
    assert {"hello-world", "hello-world-multi-step", "presets"} <= set(names)
    assert [(p["name"], p["version"]) for p in plugins] == sorted((p["name"], p["version"]) for p in plugins)
    for entry in plugins:
        assert set(entry) == {"name", "version", "identifier", "apiRoot", "description", "tags"}
        assert entry["apiRoot"] == f"http://localhost.localdomain/plugins/{entry['identifier']}/"


def test_plugins_without_slash_reaches_the_list(client: Any) -> None:
    response = client.get("/plugins", follow_redirects=True)
    assert response.status_code == 200 and "plugins" in response.get_json()


@pytest.mark.parametrize("identifier", ["hello-world@v0-2-1", "hello-world-multi-step@v0-2-1"])
def test_plugin_metadata_is_complete(client: Any, identifier: str) -> None:
    body = client.get(f"/plugins/{identifier}/").get_json()
    assert {"name", "version", "title", "description", "type", "tags", "entryPoint"} <= set(body)
    assert body["type"] == "processing"
    assert body["entryPoint"]["href"] == f"/plugins/{identifier}/process/"
    assert body["entryPoint"]["uiHref"] == f"/plugins/{identifier}/ui/"
    assert body["links"] == []


def test_unknown_plugin_task_and_route_give_json_404(client: Any) -> None:
    for url in ("/plugins/nope/", "/tasks/999/", "/no/such/route", "/tasks/abc/", "/tasks/99999999999999999999/", "/files/99999999999999999999/?file-id=x"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.is_json and response.get_json()["code"] == 404


def test_wrong_method_gives_json_405(client: Any) -> None:
    response = client.delete("/tasks/1/")
    assert response.status_code == 405 and response.get_json()["status"] == "Method Not Allowed"


def test_body_over_the_limit_gives_json_413(client: Any) -> None:
    response = client.post("/plugins/hello-world@v0-2-1/process/", data={"inputStr": "x" * 5000})
    assert response.status_code == 413 and response.get_json()["code"] == 413


def test_invalid_form_gives_422_per_field(client: Any) -> None:
    response = client.post("/plugins/hello-world@v0-2-1/process/", data={"other": "x"})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"form": {"inputStr": ["Missing data for required field."]}}


def test_pending_task_representation(client: Any) -> None:
    task = _task()
    body = client.get(f"/tasks/{task.id}/")
    assert body.status_code == 200 and body.mimetype == "application/json"
    data = body.get_json()
    assert data == {
        "status": "PENDING",
        "log": "",
        "outputs": [],
        "links": [
            {"type": "subscribe", "href": f"http://localhost.localdomain/tasks/{task.id}/"},
            {"type": "events", "href": f"http://localhost.localdomain/tasks/{task.id}/events"},
        ],
    }


def test_progress_and_steps_have_exactly_the_keys_the_backend_binds(client: Any) -> None:
    task = _task(progress_value=0.0, progress_target=3, progress_unit="steps")
    task.add_next_step(href="http://h/step", ui_href="http://h/step-ui", step_id="s1", commit=True)
    TaskLink(task, type="custom", href="http://h/x")
    DB.session.commit()
    data = client.get(f"/tasks/{task.id}/").get_json()
    assert data["progress"] == {"start": 0, "target": 3, "value": 0, "unit": "steps"}  # 0 is shown
    assert data["steps"] == [{"href": "http://h/step", "uiHref": "http://h/step-ui", "stepId": "s1", "cleared": False}]
    assert data["links"][2] == {"type": "custom", "href": "http://h/x"}


def test_outputs_appear_only_with_the_final_status(app: Any, client: Any) -> None:
    task = _task()
    STORE.persist_task_result(task.id, "hello", "a.txt", "custom/x", "text/plain")
    STORE.persist_task_temp_file(task.id, "scratch", "tmp.txt")
    assert client.get(f"/tasks/{task.id}/").get_json()["outputs"] == []
    task.task_status, task.finished_at = "SUCCESS", utc_now()
    DB.session.commit()
    [output] = client.get(f"/tasks/{task.id}/").get_json()["outputs"]
    assert output["name"] == "a.txt" and output["dataType"] == "custom/x" and output["contentType"] == "text/plain"
    assert output["href"].startswith("http://localhost.localdomain/files/")


def _subscriptions(task_id: int) -> list[tuple[str, str | None]]:
    task = DB.session.get(ProcessingTask, task_id)
    DB.session.refresh(task)
    return sorted(((s.webhook_href, s.event_type) for s in task.subscriptions), key=lambda t: (t[0], t[1] or ""))


def test_subscribe_accepts_mixed_case_json_and_hosts_without_dot(client: Any) -> None:
    task = _task()
    body = '{"command": "subscribe", "webhookHref": "http://backend:9090/webhooks/1"}'
    response = client.post(f"/tasks/{task.id}/", data=body, headers={"Content-Type": "application/JSON"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "PENDING"
    assert _subscriptions(task.id) == [("http://backend:9090/webhooks/1", None)]


def test_subscribe_is_idempotent_and_unsubscribe_without_event_removes_all(client: Any) -> None:
    task = _task()
    url = f"/tasks/{task.id}/"
    hook = "http://localhost:9091/hook"
    for event in (None, "status", "status", "steps"):
        assert client.post(url, json={"command": "subscribe", "webhookHref": hook, "event": event}).status_code == 200
    assert _subscriptions(task.id) == [(hook, None), (hook, "status"), (hook, "steps")]
    client.post(url, json={"command": "unsubscribe", "webhookHref": hook, "event": "status"})
    assert _subscriptions(task.id) == [(hook, None), (hook, "steps")]
    client.post(url, json={"command": "unsubscribe", "webhookHref": hook})
    assert _subscriptions(task.id) == []


@pytest.mark.parametrize(
    "body, field",
    [
        ({"command": "watch", "webhookHref": "http://h/x"}, "command"),
        ({"command": None, "webhookHref": "http://h/x"}, "command"),
        ({"command": "subscribe", "webhookHref": "ftp://h/x"}, "webhookHref"),
        ({"command": "subscribe", "webhookHref": "not a url"}, "webhookHref"),
        ({"command": "subscribe", "webhookHref": "http://h/x", "event": "everything"}, "event"),
        ({"command": "subscribe"}, "webhookHref"),
    ],
)
def test_invalid_subscription_gives_422_naming_the_field(client: Any, body: dict[str, Any], field: str) -> None:
    task = _task()
    response = client.post(f"/tasks/{task.id}/", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]


def test_subscribe_to_unknown_task_is_404(client: Any) -> None:
    response = client.post("/tasks/12345/", json={"command": "subscribe", "webhookHref": "http://h/x"})
    assert response.status_code == 404 and response.get_json()["message"] == "Task not found."


def test_non_json_subscription_body_is_rejected(client: Any) -> None:
    task = _task()
    response = client.post(f"/tasks/{task.id}/", data="command=subscribe", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 422


def test_openapi_and_doc_pages(client: Any) -> None:
    spec = client.get("/api-spec.json").get_json()
    assert spec["info"]["title"] == "QHAna plugin runner api."
    assert spec["openapi"] == "3.0.2"
    assert {"/tasks/{task_id}/", "/plugins/", "/files/{file_id}/"} <= set(spec["paths"])
    assert "/plugins/hello-world@v0-2-1/process/" in spec["paths"]
    assert set(spec["components"]["securitySchemes"]) == {"jwt", "jwt-refresh-token"}
    for page in ("/redoc/", "/rapidoc/", "/swagger-ui/"):
        response = client.get(page)
        assert response.status_code == 200 and response.mimetype == "text/html", page


def test_micro_frontend_is_frameable_html(client: Any) -> None:
    response = client.get("/plugins/hello-world@v0-2-1/ui/?inputStr=prefilled")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors" not in response.headers.get("Content-Security-Policy", "")
    page = response.get_data(as_text=True)
    assert 'name="inputStr"' in page and "prefilled" in page


def test_step_models_are_ordered(app: Any) -> None:
    task = _task()
    for index in range(3):
        if task.steps:
            task.clear_previous_step()
        task.add_next_step(href=f"http://h/{index}", ui_href=None, step_id=str(index))
    DB.session.commit()
    DB.session.expire_all()
    assert [s.number for s in DB.session.get(ProcessingTask, task.id).steps] == [0, 1, 2]
    assert isinstance(DB.session.get(ProcessingTask, task.id).steps[0], Step)


def test_jwt_is_optional_but_a_bad_token_is_rejected(app: Any, client: Any) -> None:
    from flask_jwt_extended import create_access_token

    url = "/plugins/hello-world@v0-2-1/"
    assert client.get(url).status_code == 200
    bad = client.get(url, headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401 and bad.get_json()["code"] == 401
    token = create_access_token(identity="alice")
    assert client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_malformed_subscription_json_is_a_client_error(client: Any) -> None:
    task = _task()
    broken = client.post(f"/tasks/{task.id}/", data="{", content_type="application/json")
    assert broken.status_code == 400 and broken.get_json()["errors"] == {"json": ["Invalid JSON body."]}
    wrong_type = client.post(f"/tasks/{task.id}/", json=[1, 2])
    assert wrong_type.status_code == 422
