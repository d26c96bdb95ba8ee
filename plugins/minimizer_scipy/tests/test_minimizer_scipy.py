"""scipy-minimizer against the ridge-loss plugin over real HTTP and a Celery worker thread."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from qhana_plugin_runner.plugin_utils.interop import (
    call_plugin_endpoint,
    get_plugin_endpoint,
    get_task_result_no_wait,
)
from qhana_plugin_runner.requests import open_url

from helpers import poll

RIDGE = "/plugins/ridge-loss@v0-1-0/"
MINIMIZER = "/plugins/scipy-minimizer@v0-1-0/"
X = np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0], [-1.0, 1.0]])
Y = np.array([1.0, 0.0, 2.0, 0.5])
ALPHA = 0.1


def _objective(runner_url: str) -> str:
    task_url = call_plugin_endpoint(get_plugin_endpoint(runner_url + RIDGE), {"alpha": ALPHA})
    _, task = get_task_result_no_wait(task_url)
    call_plugin_endpoint(
        task["steps"][-1]["href"],
        {"features": json.dumps(X.tolist()), "target": json.dumps(Y.tolist())},
    )
    return task_url


def _final(task_url: str) -> dict[str, Any]:
    def fetch() -> dict[str, Any]:
        return get_task_result_no_wait(task_url)[1]

    return poll(fetch, lambda b: b["status"] != "PENDING", timeout=30)


def _weights(task: dict[str, Any]) -> list[float]:
    (output,) = [o for o in task["outputs"] if o["name"] == "weights.json"]
    assert output["dataType"] == "entity/vector"
    with open_url(output["href"]) as response:
        (entity,) = response.json()
    return [v for k, v in entity.items() if k not in ("ID", "href")]


def test_metadata_has_the_minimizer_tag(client: Any) -> None:
    assert "minimizer" in client.get(MINIMIZER).get_json()["tags"]


@pytest.mark.parametrize("method", ["", "Nelder-Mead"])
def test_minimizes_the_ridge_loss(runner_url: str, celery_worker: Any, method: str) -> None:
    objective = _objective(runner_url)
    task_url = call_plugin_endpoint(get_plugin_endpoint(runner_url + MINIMIZER), {"method": method})
    _, task = get_task_result_no_wait(task_url)
    assert task["steps"][-1]["stepId"] == "minimize"
    call_plugin_endpoint(
        task["steps"][-1]["href"], {"objectiveFunction": objective, "initialWeights": "[0.5, 0.5]"}
    )
    task = _final(task_url)
    assert task["status"] == "SUCCESS", task["log"]
    expected = np.linalg.solve(X.T @ X / len(Y) + ALPHA * np.eye(2), X.T @ Y / len(Y))
    assert _weights(task) == pytest.approx(expected.tolist(), abs=1e-4)


def test_an_objective_without_links_fails_the_task(runner_url: str, celery_worker: Any) -> None:
    not_ready = call_plugin_endpoint(get_plugin_endpoint(runner_url + RIDGE), {})
    task_url = call_plugin_endpoint(get_plugin_endpoint(runner_url + MINIMIZER), {})
    _, task = get_task_result_no_wait(task_url)
    call_plugin_endpoint(task["steps"][-1]["href"], {"objectiveFunction": not_ready})
    task = _final(task_url)
    assert task["status"] == "FAILURE" and "of-evaluate" in task["log"]


def test_forms_render(client: Any) -> None:
    with client.get(MINIMIZER + "ui/") as response:
        assert response.status_code == 200 and 'name="method"' in response.get_data(as_text=True)
    task = client.get(client.post(MINIMIZER + "process/", data={}).headers["Location"]).get_json()
    with client.get(task["steps"][-1]["uiHref"]) as response:
        assert 'name="objectiveFunction"' in response.get_data(as_text=True)
