"""Tasks run in a real Celery worker (in-memory broker), end to end through the REST API."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask.testing import FlaskClient

from helpers import FIXTURE_PLUGINS, ROOT, download, poll, wait_final


def wait_for(client: FlaskClient, task_url: str, predicate: Any, timeout: float = 20) -> dict[str, Any]:
    return poll(lambda: client.get(task_url).get_json(), predicate, timeout)


@pytest.fixture
def runner_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    return {**runner_config, "PLUGIN_FOLDERS": [str(ROOT / "plugins"), str(FIXTURE_PLUGINS / "good")]}


def test_hello_world_runs_to_success_and_output_downloads(client: FlaskClient, celery_worker: Any) -> None:
    response = client.post("/plugins/hello-world@v0-2-1/process/", data={"inputStr": "my input text"})
    assert response.status_code == 303
    task_url = response.headers["Location"]
    assert task_url.startswith("/tasks/")

    body = wait_final(client, task_url)
    assert body["status"] == "SUCCESS", body
    assert "result: 'my output text'" in body["log"]
    [output] = body["outputs"]
    assert output["name"] == "out.txt"
    assert output["dataType"] == "custom/hello-world-output"
    assert output["contentType"] == "text/plain"

    status, headers, content = download(client, output["href"])
    assert status == 200
    assert content == b"my output text"
    assert headers["Content-Type"].startswith("text/plain")
    assert "out.txt" in headers["Content-Disposition"]


def test_multi_step_plugin_walks_through_its_step(client: FlaskClient, celery_worker: Any) -> None:
    base = "/plugins/hello-world-multi-step@v0-2-1"
    response = client.post(f"{base}/process/", data={"inputStr": "input text"})
    assert response.status_code == 303
    task_url = response.headers["Location"]

    body = wait_for(client, task_url, lambda b: b.get("steps"))
    assert body["status"] == "PENDING"
    [step] = body["steps"]
    assert set(step) == {"href", "uiHref", "stepId", "cleared"}
    assert step["stepId"] == "demo-step" and step["cleared"] is False
    assert set(body["progress"]) == {"start", "target", "value", "unit"}
    assert body["progress"]["value"] == 50

    step_ui = client.get(step["uiHref"])
    assert step_ui.status_code == 200
    page = step_ui.get_data(as_text=True)
    assert "Input from preprocessing: input text" in page

    submitted = client.post(step["href"], data={"inputStr": "Input from preprocessing: input text"})
    assert submitted.status_code == 303
    assert submitted.headers["Location"] == task_url

    again = client.post(step["href"], data={"inputStr": "twice"})
    assert again.status_code == 409, "a step can be submitted once"

    final = wait_final(client, task_url)
    assert final["status"] == "SUCCESS", final
    assert final["steps"][0]["cleared"] is True
    outputs = {o["name"]: download(client, o["href"])[2].decode() for o in final["outputs"]}
    assert outputs == {
        "output1.txt": "Processed in the preprocessing step: input text",
        "output2.txt": "Processed in the processing step: input text Input from preprocessing: input text",
    }


def test_failing_task_ends_failure_with_traceback_without_result_backend(runner_config: dict[str, Any]) -> None:
    from celery.contrib.testing.worker import start_worker

    from qhana_plugin_runner.celery import CELERY
    from qhana_plugin_runner.testing import build_app, dispose

    config = {**runner_config, "CELERY": {**runner_config["CELERY"], "result_backend": None}}
    app = build_app(config)
    try:
        with app.app_context(), start_worker(CELERY, pool="threads", perform_ping_check=False):
            client = app.test_client()
            response = client.post("/plugins/fx-good@1-0-0/process/", data={"mode": "fail"})
            assert response.status_code == 303
            body = wait_final(client, response.headers["Location"])
    finally:
        dispose(app)
    assert body["status"] == "FAILURE"
    assert "RuntimeError('fixture failure as requested')" in body["log"]
    assert "Traceback (most recent call last)" in body["log"]
    assert body["outputs"] == []


def test_finished_task_never_changes_again(app: Any, client: FlaskClient, celery_worker: Any) -> None:
    from qhana_plugin_runner.tasks import save_task_error, save_task_result

    response = client.post("/plugins/fx-good@1-0-0/process/", data={"mode": "ok", "count": "2"})
    task_url = response.headers["Location"]
    first = wait_final(client, task_url)
    assert first["status"] == "SUCCESS"
    # two files with one name: both kept, under distinct URLs
    assert [o["name"] for o in first["outputs"]] == ["out.txt", "out.txt"]
    assert [download(client, o["href"])[2] for o in first["outputs"]] == [b"line 0\n", b"line 1\n"]

    db_id = int(task_url.strip("/").split("/")[-1])
    save_task_error.delay("no-such-celery-task", db_id=db_id).get(timeout=10)
    save_task_result.delay("late log", db_id=db_id).get(timeout=10)
    assert client.get(task_url).get_json() == first


def test_broker_down_answers_503_and_fails_the_task(runner_config: dict[str, Any]) -> None:
    from qhana_plugin_runner.db.models.tasks import ProcessingTask
    from qhana_plugin_runner.testing import build_app, dispose

    celery = {**runner_config["CELERY"], "broker_url": "redis://127.0.0.1:1/0", "result_backend": None}
    app = build_app({**runner_config, "CELERY": celery})
    try:
        with app.app_context():
            client = app.test_client()
            started = time.monotonic()
            response = client.post("/plugins/hello-world@v0-2-1/process/", data={"inputStr": "x"})
            elapsed = time.monotonic() - started
            assert response.status_code == 503
            body = response.get_json()
            assert body["code"] == 503 and "task queue is unavailable" in body["message"]
            task = ProcessingTask.get_by_id(1)
            assert task.status == "FAILURE"
            assert "Could not send task" in task.task_log
            assert elapsed < 10
    finally:
        dispose(app)


@pytest.mark.redis
def test_round_trip_through_redis_and_postgres(runner_config: dict[str, Any], redis_url: str, postgres_url: str) -> None:
    """The production topology's services: Redis broker, PostgreSQL database.

    (No Redis result backend here: Celery's Redis backend subscribes the sender to every task's
    result and closes those subscriptions from ``__del__`` at random later times, which the
    suite would report as leaked sockets in unrelated tests.)
    """
    from celery.contrib.testing.worker import start_worker

    from qhana_plugin_runner.celery import CELERY
    from qhana_plugin_runner.testing import build_app, dispose

    config = {
        **runner_config,
        "SQLALCHEMY_DATABASE_URI": postgres_url,
        "CELERY": {"broker_url": redis_url, "result_backend": None},
    }
    app = build_app(config)
    try:
        with app.app_context(), start_worker(CELERY, pool="threads", perform_ping_check=False):
            client = app.test_client()
            response = client.post("/plugins/hello-world@v0-2-1/process/", data={"inputStr": "input over redis"})
            body = wait_final(client, response.headers["Location"])
            assert body["status"] == "SUCCESS", body
            assert download(client, body["outputs"][0]["href"])[2] == b"output over redis"
            failing = client.post("/plugins/fx-good@1-0-0/process/", data={"mode": "fail"})
            failed = wait_final(client, failing.headers["Location"])
            assert failed["status"] == "FAILURE" and "fixture failure as requested" in failed["log"]
    finally:
        dispose(app)
