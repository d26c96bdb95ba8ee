"""End to end over real HTTP with a Celery worker thread: coordinator + scipy-minimizer +
ridge-loss reach the closed-form ridge optimum."""

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

COORDINATOR = "/plugins/optimization@v0-1-0/"
RIDGE = "/plugins/ridge-loss@v0-1-0/"
MINIMIZER = "/plugins/scipy-minimizer@v0-1-0/"
ALPHA = 0.1  # ridge-loss's default penalty
X = np.array(
    [[1.0, 2.0, 0.0], [0.5, -1.0, 1.0], [3.0, 0.0, -0.5], [-1.0, 1.0, 2.0], [0.0, 0.5, 1.5]]
)
Y = np.array([1.0, 0.0, 2.0, 0.5, -1.0])


def _final(task_url: str) -> dict[str, Any]:
    return poll(
        lambda: get_task_result_no_wait(task_url)[1], lambda b: b["status"] != "PENDING", timeout=60
    )


def test_metadata_and_form_offer_plugin_choices(client: Any) -> None:
    assert client.get(COORDINATOR).get_json()["entryPoint"]["href"] == COORDINATOR + "process/"
    with client.get(COORDINATOR + "ui/") as response:
        page = response.get_data(as_text=True)
    assert 'name="objectiveFunctionUrl"' in page and 'name="minimizerUrl"' in page


def test_webhook_for_unknown_task_is_ignored(client: Any) -> None:
    assert (
        client.post(COORDINATOR + "999/webhook/?source=http://x/&event=status").status_code == 204
    )


def test_coordinator_reaches_the_closed_form_optimum(runner_url: str, celery_worker: Any) -> None:
    entities = [{"ID": str(i), "href": "", "y": float(v)} for i, v in enumerate(Y)]
    task_url = call_plugin_endpoint(
        get_plugin_endpoint(runner_url + COORDINATOR),
        {
            "objectiveFunctionUrl": runner_url + RIDGE,
            "minimizerUrl": runner_url + MINIMIZER,
            "features": json.dumps(X.tolist()),
            "target": json.dumps(entities),
        },
    )
    task = _final(task_url)
    assert task["status"] == "SUCCESS", task["log"]
    (output,) = [o for o in task["outputs"] if o["name"] == "weights.json"]
    with open_url(output["href"]) as response:
        (entity,) = response.json()
    weights = [v for k, v in entity.items() if k not in ("ID", "href")]
    n = len(Y)
    expected = np.linalg.solve(X.T @ X / n + ALPHA * np.eye(3), X.T @ Y / n)
    assert weights == pytest.approx(expected.tolist(), abs=1e-4)
    # the objective function was ended through its evaluate step
    objective = next(
        line.split(": ", 1)[1]
        for line in task["log"].splitlines()
        if line.startswith("objective function task")
    )
    assert _final(objective.strip())["status"] == "SUCCESS"
