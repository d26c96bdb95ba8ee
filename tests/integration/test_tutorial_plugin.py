"""The plugin of the tutorial (docs/tutorial_plugin/word_frequency.py), end to end.

docs/tutorial.md shows this file, so it uses only what a plugin's own test suite has: the
fixtures of the ``qhana_plugin_runner.testing`` pytest plugin.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

# the folder that holds word_frequency.py; in your project, the folder of your plugin
PLUGIN_FOLDER = Path(__file__).resolve().parents[2] / "docs" / "tutorial_plugin"
BASE = "/plugins/word-frequency@v0-1-0/"


@pytest.fixture
def runner_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    """Load the plugin into the test app (the fixture's defaults load no plugins)."""
    return {**runner_config, "PLUGIN_FOLDERS": [str(PLUGIN_FOLDER)]}


def wait_for_result(client: FlaskClient, task_url: str, timeout: float = 20) -> dict[str, Any]:
    """Poll the task resource until the task has finished (or the time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        task = client.get(task_url).get_json()
        if task["status"] != "PENDING" or time.monotonic() > deadline:
            return task
        time.sleep(0.05)


def test_metadata_names_the_endpoints(client: FlaskClient) -> None:
    metadata = client.get(BASE).get_json()
    assert metadata["name"] == "word-frequency"
    assert metadata["version"] == "v0.1.0"
    assert metadata["entryPoint"]["href"] == BASE + "process/"
    assert metadata["entryPoint"]["uiHref"] == BASE + "ui/"
    assert metadata["entryPoint"]["dataInput"][0]["parameter"] == "textUrl"


def test_form_renders_and_reports_invalid_values(client: FlaskClient) -> None:
    form = client.get(BASE + "ui/")
    assert form.status_code == 200
    assert 'name="textUrl"' in form.get_data(as_text=True)

    checked = client.post(BASE + "ui/", data={"textUrl": "data:text/plain,a b", "top": "0"})
    assert checked.status_code == 200  # the form again, with a message at "top"
    assert "top" in checked.get_data(as_text=True)


def test_invalid_input_starts_nothing(client: FlaskClient) -> None:
    response = client.post(BASE + "process/", data={"textUrl": "data:text/plain,a b", "top": "0"})
    assert response.status_code == 422
    assert "top" in response.get_json()["errors"]["form"]


def test_counts_words_in_a_worker(client: FlaskClient, celery_worker: Any) -> None:
    text = "data:text/plain;charset=utf-8,The cat and the hat. The cat sat."
    response = client.post(BASE + "process/", data={"textUrl": text, "top": "2", "ignoreCase": "true"})
    assert response.status_code == 303
    task_url = response.headers["Location"]

    task = wait_for_result(client, task_url)
    assert task["status"] == "SUCCESS", task["log"]
    assert "2 words listed" in task["log"]
    [output] = task["outputs"]
    assert output["name"] == "word-frequency.csv"
    assert output["dataType"] == "custom/word-frequency"
    assert output["contentType"].startswith("text/csv")

    with client.get(output["href"]) as download:
        assert download.status_code == 200
        assert download.get_data(as_text=True) == "word,count\nthe,3\ncat,2\n"


def test_unreadable_input_ends_in_failure(client: FlaskClient, celery_worker: Any) -> None:
    response = client.post(BASE + "process/", data={"textUrl": "http://127.0.0.1:9/missing.txt"})
    assert response.status_code == 303

    task = wait_for_result(client, response.headers["Location"])
    assert task["status"] == "FAILURE"
    assert "ConnectionError" in task["log"]


def test_most_frequent_words_keeps_first_seen_order_for_ties(app: Any) -> None:
    from word_frequency import most_frequent_words  # importable once the app loaded the plugin

    assert most_frequent_words("b a b a c don't", 3, ignore_case=False) == [("b", 2), ("a", 2), ("c", 1)]
    assert most_frequent_words("A a B", 1, ignore_case=True) == [("a", 2)]
    assert most_frequent_words("A a B", 1, ignore_case=False) == [("A", 1)]
