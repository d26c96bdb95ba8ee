"""ridge-loss through the test client: steps, links, loss and gradient against numpy."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from helpers import ROOT

BASE = "/plugins/ridge-loss@v0-1-0/"
X = [[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]]
Y = [1.0, 0.0, 2.0]


@pytest.fixture
def runner_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    return {**runner_config, "PLUGIN_FOLDERS": [str(ROOT / "plugins")]}


def _links(task: dict[str, Any]) -> dict[str, str]:
    return {link["type"]: link["href"] for link in task["links"]}


def _ready(client: Any) -> dict[str, Any]:
    response = client.post(
        BASE + "process/?callback=http://127.0.0.1:9/hook", data={"alpha": "0.5"}
    )
    assert response.status_code == 303
    task_url = response.headers["Location"]
    task = client.get(task_url).get_json()
    assert task["steps"][-1]["stepId"] == "pass_data" and not task["steps"][-1]["cleared"]
    step = client.post(
        task["steps"][-1]["href"],
        data={
            "features": json.dumps(X),
            "target": json.dumps([{"ID": str(i), "href": "", "y": v} for i, v in enumerate(Y)]),
        },
    )
    assert step.status_code == 303
    return client.get(task_url).get_json()


def test_metadata_has_the_interface_tags(client: Any) -> None:
    body = client.get(BASE).get_json()
    assert {"objective-function", "gradient"} <= set(body["tags"])


def test_links_answer_loss_and_gradient(client: Any) -> None:
    task = _ready(client)
    links = _links(task)
    assert task["steps"][-1]["stepId"] == "evaluate"
    assert client.get(links["of-weights"]).get_json() == {"weights": 2}
    w = [0.3, -0.2]
    x, y, wv = np.array(X), np.array(Y), np.array(w)
    r = x @ wv - y
    loss = r @ r / 3 + 0.5 * wv @ wv
    grad = 2 * x.T @ r / 3 + 2 * 0.5 * wv
    assert client.post(links["of-evaluate"], json={"weights": w}).get_json()[
        "loss"
    ] == pytest.approx(loss)
    assert client.post(links["of-evaluate-gradient"], json={"weights": w}).get_json()[
        "gradient"
    ] == pytest.approx(grad.tolist())
    combined = client.post(links["of-evaluate-combined"], json={"weights": w}).get_json()
    assert combined["loss"] == pytest.approx(loss) and combined["gradient"] == pytest.approx(
        grad.tolist()
    )
    assert client.post(links["of-evaluate"], json={"weights": [1.0]}).status_code == 422


def test_callback_is_subscribed_and_pass_data_is_checked(client: Any) -> None:
    from qhana_plugin_runner.db.models.tasks import TaskUpdateSubscription

    response = client.post(BASE + "process/?callback=http://127.0.0.1:9/hook", data={})
    task = client.get(response.headers["Location"]).get_json()
    task_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert [r.webhook_href for r in TaskUpdateSubscription.get_by_task_and_event(task_id)] == [
        "http://127.0.0.1:9/hook"
    ]
    bad = client.post(task["steps"][-1]["href"], data={"features": "[[1, 2]]", "target": "[1, 2]"})
    assert bad.status_code == 422


def test_evaluate_step_closes_the_links(client: Any, celery_worker: Any) -> None:
    from helpers import wait_final

    task = _ready(client)
    links = _links(task)
    done = client.post(task["steps"][-1]["href"])
    assert done.status_code == 303
    assert wait_final(client, done.headers["Location"])["status"] == "SUCCESS"
    assert client.post(links["of-evaluate"], json={"weights": [0, 0]}).status_code == 409


def test_forms_render_and_hand_on_the_callback(client: Any) -> None:
    with client.get(BASE + "ui/?callback=http://127.0.0.1:9/hook") as response:
        page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'name="alpha"' in page and "callback=" in page
    task = _ready(client)
    for path in (task["steps"][0]["uiHref"], task["steps"][-1]["uiHref"]):
        with client.get(path) as response:
            assert response.status_code == 200
