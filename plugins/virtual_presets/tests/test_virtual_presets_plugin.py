"""The presets plugin: saving a preset (form and REST), its virtual plugin's form and run
(hello-world with the saved text), removal, and where its state lives."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from packaging.version import Version

from helpers import ROOT, download, wait_final

BASE = "/plugins/presets@v0-1-0/"
PRESETS = BASE + "presets/"
PLUGIN_KEYS = {"name", "version", "title", "description", "type", "tags", "entryPoint"}


@pytest.fixture
def runner_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    return {**runner_config, "PLUGIN_FOLDERS": [str(ROOT / "plugins")]}


def _save(client: Any, name: str = "Greeting", text: str = "an input for hello") -> Any:
    return client.post(PRESETS, data={"presetName": name, "inputStr": text, "presetDescription": "says hello"})


def test_presets_plugin_metadata_is_complete(client: Any) -> None:
    body = client.get(BASE).get_json()
    assert PLUGIN_KEYS <= set(body)
    Version(body["version"])
    assert body["entryPoint"]["href"] == BASE + "process/" and body["entryPoint"]["uiHref"] == BASE + "ui/"


def test_form_uses_the_shared_template(client: Any) -> None:
    with client.get(BASE + "ui/?presetName=Mine") as response:
        page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="presetName"' in page and 'name="inputStr"' in page and 'value="Mine"' in page
    assert "qhana-form-submit" in page and "microfrontend.js" in page
    with client.post(BASE + "ui/", data={"presetName": "!!", "inputStr": "x"}) as invalid:
        assert "letter or digit" in invalid.get_data(as_text=True)


def test_saving_through_the_form_answers_with_a_finished_task_linking_the_plugin(client: Any) -> None:
    response = client.post(BASE + "process/", data={"presetName": "Morning Text", "inputStr": "input"})
    assert response.status_code == 303
    task = client.get(response.headers["Location"]).get_json()
    assert task["status"] == "SUCCESS"
    [link] = [link for link in task["links"] if link["type"] == "plugin"]
    assert link["href"] == "http://localhost.localdomain" + PRESETS + "morning-text/"
    assert client.get(link["href"]).get_json()["title"] == "Morning Text"


def test_names_must_be_free_and_have_letters(client: Any) -> None:
    assert _save(client).status_code == 201
    taken = _save(client, name="greeting!")
    assert taken.status_code == 409 and "greeting" in taken.get_json()["message"]
    invalid = _save(client, name="???")
    assert invalid.status_code == 422 and "presetName" in invalid.get_json()["errors"]["form"]
    assert [p["presetId"] for p in client.get(PRESETS).get_json()["presets"]] == ["greeting"]


def test_preset_form_is_prefilled_and_query_values_win(client: Any) -> None:
    _save(client)
    with client.get(PRESETS + "greeting/ui/") as prefilled:
        assert "an input for hello" in prefilled.get_data(as_text=True)
    with client.get(PRESETS + "greeting/ui/?inputStr=other+text") as overridden:
        page = overridden.get_data(as_text=True)
    assert "other text" in page and "an input for hello" not in page
    assert PRESETS + "greeting/process/" in page


@pytest.mark.parametrize(("form", "expected"), [({}, "an output for hello"), ({"inputStr": "my input"}, "my output")])
def test_running_a_preset_runs_hello_world(client: Any, celery_worker: Any, form: dict[str, str], expected: str) -> None:
    _save(client)
    response = client.post(PRESETS + "greeting/process/", data=form)
    assert response.status_code == 303
    task = wait_final(client, response.headers["Location"])
    assert task["status"] == "SUCCESS", task
    [output] = task["outputs"]
    status, _, content = download(client, output["href"])
    assert status == 200 and content.decode() == expected


def test_state_lives_in_plugin_state_and_data_blob_until_removal(app: Flask, client: Any) -> None:
    from qhana_plugin_runner.db.models.virtual_plugins import DataBlob, PluginState, VirtualPlugin

    href = _save(client).headers["Location"]
    owner, key = "presets@v0-1-0", "preset:greeting"
    assert PluginState.get_value(owner, key)["href"] == href
    assert b"an input for hello" in DataBlob.get_value(owner, key)
    assert VirtualPlugin.get_by_href(href, parent_id=owner) is not None

    assert client.post(PRESETS + "greeting/remove/").status_code == 204
    assert PluginState.get_value(owner, key, default=None) is None
    assert DataBlob.get_value(owner, key, default=None) is None
    assert VirtualPlugin.get_by_href(href) is None
    assert client.get(PRESETS).get_json() == {"presets": []}


@pytest.mark.parametrize("path", ["nope/", "Bad_Id/", "nope/ui/"])
def test_unknown_presets_answer_404(client: Any, path: str) -> None:
    assert client.get(PRESETS + path).status_code == 404
    assert client.post(PRESETS + "nope/process/").status_code == 404
    assert client.delete(PRESETS + "nope/").status_code == 404


def test_without_hello_world_a_preset_cannot_run(tmp_path: Any) -> None:
    from qhana_plugin_runner.testing import build_app, dispose, make_test_config

    app = build_app(make_test_config(tmp_path / "i", PLUGIN_FOLDERS=[str(ROOT / "plugins" / "virtual_presets")]))
    try:
        client = app.test_client()
        assert _save(client).status_code == 201
        response = client.post(PRESETS + "greeting/process/")
        assert response.status_code == 503 and "hello-world" in response.get_json()["message"]
    finally:
        dispose(app)


def test_slugs(app: Flask) -> None:
    from virtual_presets.store import slug_of

    assert slug_of("  My Greeting!! v2 ") == "my-greeting-v2"
    assert slug_of("???") == ""
    assert len(slug_of("a" * 200)) == 60
    assert slug_of("a" * 59 + " b") == "a" * 59
