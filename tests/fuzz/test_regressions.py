"""Regression tests for what the fuzzers in this folder found in the bundled plugins and config.

Each test names the finding; the runner-core findings have theirs next to the code's other
tests (``tests/unit/...``, search for "found by tests/fuzz").
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from qhana_plugin_runner.errors import ConfigError

from helpers import ROOT

RIDGE, MINIMIZER = "/plugins/ridge-loss@v0-1-0/", "/plugins/scipy-minimizer@v0-1-0/"
MULTI, OPTIMIZATION = "/plugins/hello-world-multi-step@v0-2-1/", "/plugins/optimization@v0-1-0/"


@pytest.fixture
def runner_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    # input URLs go to a closed port, so a URL in a form fails at once and offline
    rules = [(r"^https?://[^/?#]*", "http://127.0.0.1:9")]
    return {**runner_config, "PLUGIN_FOLDERS": [str(ROOT / "plugins")], "URL_REWRITE_RULES": rules, "REQUEST_TIMEOUT": 1}


def _task_id(response: Any) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def _steps(client: Any, task_id: int) -> list[dict[str, Any]]:
    return client.get(f"/tasks/{task_id}/").get_json()["steps"]


@pytest.mark.parametrize(
    "features, reason",
    [
        ("tags", "could not be read"),  # no scheme: MissingSchema was a 500
        ("http://data.example/x.json", "could not be read"),  # refused connection was a 500
        ("[1,", "is not valid JSON"),
        ('[["a"]]', "finite numbers"),
        ("[[1e400]]", "finite numbers"),
        (f"[[{10**400}]]", "finite numbers"),  # OverflowError in float()
        ("[[1, [2]]]", "finite numbers"),
        ("[" * 100_000, "nested too deeply"),
    ],
)
def test_ridge_loss_answers_unusable_data_with_422(client: Any, features: str, reason: str) -> None:
    task_id = _task_id(client.post(RIDGE + "process/", data={"alpha": "0.5"}))
    response = client.post(f"{RIDGE}{task_id}/pass-data/", data={"features": features, "target": "[1]"})
    assert response.status_code == 422
    assert reason in response.get_json()["errors"]["form"]["features"][0]
    step = _steps(client, task_id)[-1]
    assert (step["stepId"], step["cleared"]) == ("pass_data", False)


def test_ridge_loss_refuses_weights_whose_loss_overflows(client: Any) -> None:
    task_id = _task_id(client.post(RIDGE + "process/", data={"alpha": "0.5"}))
    _task_id(client.post(f"{RIDGE}{task_id}/pass-data/", data={"features": "[[1, 2], [3, 4]]", "target": "[1, 2]"}))
    for path in ("evaluate/", "gradient/", "combined/"):
        response = client.post(f"{RIDGE}{task_id}/{path}", json={"weights": [1e300, 1e300]})
        assert response.status_code == 422, response.get_data(as_text=True)  # was 200 with Infinity
        json.loads(response.get_data(as_text=True), parse_constant=pytest.fail)
    assert client.post(f"{RIDGE}{task_id}/combined/", json={"weights": [0.5, 0.5]}).status_code == 200


def test_step_endpoints_do_not_act_on_other_plugins_tasks(client: Any) -> None:
    # found by the API fuzzer: each step endpoint closed any task's open step
    ridge = _task_id(client.post(RIDGE + "process/", data={"alpha": "0.5"}))
    minimizer = _task_id(client.post(MINIMIZER + "process/", data={"method": ""}))
    for path, data in (
        (f"{MULTI}{ridge}/demo-step-process/", {"inputStr": "x"}),
        (f"{MINIMIZER}{ridge}/minimize/", {"objectiveFunction": "http://localhost/x"}),
        (f"{RIDGE}{minimizer}/pass-data/", {"features": "[[1]]", "target": "[1]"}),
        (f"{RIDGE}{minimizer}/weights/", None),
    ):
        response = client.post(path, data=data) if data is not None else client.get(path)
        assert response.status_code == 404, path
    assert not _steps(client, ridge)[-1]["cleared"] and not _steps(client, minimizer)[-1]["cleared"]


def test_optimization_webhook_ignores_other_plugins_tasks(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from optimization_coordinator import routes

    started: list[Any] = []
    monkeypatch.setattr(routes.advance, "si", lambda **kwargs: started.append(kwargs) or pytest.fail("advance started"))
    ridge = _task_id(client.post(RIDGE + "process/", data={"alpha": "0.5"}))
    response = client.post(f"{OPTIMIZATION}{ridge}/webhook/?source=http://localhost/tasks/1/")
    assert response.status_code == 204 and started == []


@pytest.mark.parametrize("replacement", [r"\2", r"\g<missing>", "\\"])
def test_rewrite_rule_with_a_broken_replacement_stops_start_up(replacement: str) -> None:
    # found by tests/fuzz/test_properties.py: accepted at start-up, re.error on every fetch
    from qhana_plugin_runner.config import _compile_rewrite_rules

    with pytest.raises(ConfigError, match="URL_REWRITE_RULES.*invalid replacement"):
        _compile_rewrite_rules({r"^http://(a)": replacement})
    assert _compile_rewrite_rules({r"^http://(a)": r"https://\1"})
