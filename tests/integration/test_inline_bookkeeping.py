"""The runner's bookkeeping task at the end of a chain (save-result, save-error, add-step) runs
in the worker right after the plugin task, without a second Celery message; when that fails,
the message is sent as before."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from celery.signals import before_task_publish
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from helpers import FIXTURE_PLUGINS, ROOT, poll, wait_final

BOOKKEEPING = ("qhana-plugin-runner.save-result", "qhana-plugin-runner.save-error", "qhana-plugin-runner.add-step")


@pytest.fixture
def runner_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    return {**runner_config, "PLUGIN_FOLDERS": [str(ROOT / "plugins"), str(FIXTURE_PLUGINS / "good")]}


@pytest.fixture
def published() -> Iterator[list[str]]:
    """Names of the tasks sent to the broker while the test runs."""
    names: list[str] = []

    def record(sender: Any = None, headers: Any = None, **kwargs: Any) -> None:
        names.append(str((headers or {}).get("task") or sender))

    before_task_publish.connect(record, weak=False)
    yield names
    before_task_publish.disconnect(record)


def test_save_result_runs_in_the_worker_without_a_message(client: FlaskClient, celery_worker: Any, published: list[str]) -> None:
    response = client.post("/plugins/hello-world@v0-2-1/process/", data={"inputStr": "inline input"})
    body = wait_final(client, response.headers["Location"])
    assert body["status"] == "SUCCESS", body
    assert "result: 'inline output'" in body["log"]
    assert published == ["hello-world@v0-2-1.demo_task"]


def test_parent_result_is_not_left_in_the_result_backend(app: Any, client: FlaskClient, celery_worker: Any) -> None:
    from qhana_plugin_runner.celery import CELERY

    ids: list[str] = []

    def record(sender: Any = None, headers: Any = None, **kwargs: Any) -> None:
        ids.append(str((headers or {}).get("id")))

    before_task_publish.connect(record, weak=False)
    try:
        response = client.post("/plugins/hello-world@v0-2-1/process/", data={"inputStr": "x"})
        assert wait_final(client, response.headers["Location"])["status"] == "SUCCESS"
    finally:
        before_task_publish.disconnect(record)
    [parent_id] = ids
    assert CELERY.backend.get_task_meta(parent_id)["status"] == "PENDING"  # never stored


def test_save_error_runs_in_the_worker_with_the_traceback(client: FlaskClient, celery_worker: Any, published: list[str]) -> None:
    response = client.post("/plugins/fx-good@1-0-0/process/", data={"mode": "fail"})
    body = wait_final(client, response.headers["Location"])
    assert body["status"] == "FAILURE"
    assert "RuntimeError('fixture failure as requested')" in body["log"]
    assert "Traceback (most recent call last)" in body["log"]
    assert published == ["fx-good@1-0-0.work"]


def test_add_step_runs_in_the_worker(client: FlaskClient, celery_worker: Any, published: list[str]) -> None:
    base = "/plugins/hello-world-multi-step@v0-2-1"
    response = client.post(f"{base}/process/", data={"inputStr": "input text"})
    task_url = response.headers["Location"]
    body = poll(lambda: client.get(task_url).get_json(), lambda b: b.get("steps"))
    [step] = body["steps"]
    client.post(step["href"], data={"inputStr": "step input"})
    assert wait_final(client, task_url)["status"] == "SUCCESS"
    assert not [name for name in published if name in BOOKKEEPING], published


def test_a_failed_inline_run_sends_the_message_instead(client: FlaskClient, celery_worker: Any, published: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from qhana_plugin_runner.tasks import bookkeeping

    real = bookkeeping.finish_task
    calls: list[str] = []

    def flaky(db_id: int, status: str, log: str | None) -> bool:
        calls.append(status)
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("database away"))
        return real(db_id, status, log)

    monkeypatch.setattr(bookkeeping, "finish_task", flaky)
    response = client.post("/plugins/hello-world@v0-2-1/process/", data={"inputStr": "input"})
    body = wait_final(client, response.headers["Location"])
    assert body["status"] == "SUCCESS", body
    assert calls == ["SUCCESS", "SUCCESS"]
    assert published == ["hello-world@v0-2-1.demo_task", "qhana-plugin-runner.save-result"]


def test_switched_off_sends_every_message(runner_config: dict[str, Any], published: list[str]) -> None:
    from celery.contrib.testing.worker import start_worker

    from qhana_plugin_runner.celery import CELERY
    from qhana_plugin_runner.testing import build_app, dispose

    app = build_app({**runner_config, "INLINE_BOOKKEEPING": False})
    try:
        with app.app_context(), start_worker(CELERY, pool="threads", perform_ping_check=False):
            client = app.test_client()
            response = client.post("/plugins/hello-world@v0-2-1/process/", data={"inputStr": "input"})
            assert wait_final(client, response.headers["Location"])["status"] == "SUCCESS"
    finally:
        dispose(app)
    assert published == ["hello-world@v0-2-1.demo_task", "qhana-plugin-runner.save-result"]


def test_a_bookkeeping_task_sent_outside_a_chain_is_a_message(app: Any, client: FlaskClient, celery_worker: Any, published: list[str]) -> None:
    from qhana_plugin_runner.tasks import save_task_result

    response = client.post("/plugins/fx-good@1-0-0/process/", data={"mode": "ok"})
    task_url = response.headers["Location"]
    assert wait_final(client, task_url)["status"] == "SUCCESS"
    db_id = int(task_url.strip("/").split("/")[-1])
    save_task_result.delay("late", db_id=db_id).get(timeout=10)
    assert published == ["fx-good@1-0-0.work", "qhana-plugin-runner.save-result"]
