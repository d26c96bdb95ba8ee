"""Private and password fields: marked in the form, masked by ``redact_private_fields``, and
never shown by the runner (task resource, event stream, logs), even though the plugin keeps
them in the task's parameters to do its work."""

from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
import pytest
from web_dom import parse

from qhana_plugin_runner.api.util import (
    FrontendFormBaseSchema,
    MaBaseSchema,
    is_private_field,
    redact_private_fields,
)
from qhana_plugin_runner.db.models.tasks import ProcessingTask
from qhana_plugin_runner.util.logging import REDACTED

from helpers import wait_final

PLUGIN = "/plugins/fx-security@1-0-0"
TOKEN = "tok-9f8e7d6c5b4a"
PASSWORD = "pw-1a2b3c4d5e6f"


class Backend(MaBaseSchema):
    url = ma.fields.String()
    access_key = ma.fields.String(metadata={"private": True})


class Form(FrontendFormBaseSchema):
    name = ma.fields.String()
    api_token = ma.fields.String(metadata={"private": True})
    db_password = ma.fields.String(metadata={"input_type": "password"})
    backend = ma.fields.Nested(Backend)
    backends = ma.fields.List(ma.fields.Nested(Backend))
    mirrors = ma.fields.Nested(Backend, many=True)


def test_private_and_password_fields_are_recognised() -> None:
    fields = Form().fields
    assert is_private_field(fields["api_token"]) and is_private_field(fields["db_password"])
    assert not is_private_field(fields["name"])


def test_loaded_data_is_redacted_without_changing_the_original() -> None:
    data = {"name": "n", "api_token": TOKEN, "db_password": PASSWORD, "backend": {"url": "u", "access_key": TOKEN}}
    redacted = Form().redact(data)
    assert redacted == {"name": "n", "api_token": REDACTED, "db_password": REDACTED, "backend": {"url": "u", "access_key": REDACTED}}
    assert data["api_token"] == TOKEN and data["backend"]["access_key"] == TOKEN


def test_raw_form_data_is_redacted_by_data_key() -> None:
    raw = {
        "name": "n",
        "apiToken": TOKEN,
        "dbPassword": PASSWORD,
        "mirrors": [{"url": "m", "accessKey": TOKEN}],
        "backends": [{"url": "b", "accessKey": TOKEN}, "not a mapping"],
    }
    assert redact_private_fields(Form(), raw, placeholder="***") == {
        "name": "n",
        "apiToken": "***",
        "dbPassword": "***",
        "mirrors": [{"url": "m", "accessKey": "***"}],
        "backends": [{"url": "b", "accessKey": "***"}, "not a mapping"],
    }


def test_private_inputs_are_marked_for_microfrontend_js(client: Any) -> None:
    doc = parse(client.get(f"{PLUGIN}/ui/").get_data(as_text=True))
    assert "data-private" in doc.find("input", id="api_token").attrs
    password = doc.find("input", id="password")
    assert password.attrs["type"] == "password" and "data-private" in password.attrs
    assert "data-private" not in doc.find("input", id="text").attrs


def test_the_runner_never_shows_or_logs_private_parameters(
    app: Any, client: Any, celery_worker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = client.post(
        f"{PLUGIN}/process/",
        data={"text": "hello", "apiToken": TOKEN, "password": PASSWORD},
    )
    assert response.status_code == 303
    task_url = response.headers["Location"]
    body = wait_final(client, task_url)
    assert body["status"] == "SUCCESS", body
    task_id = int(task_url.rstrip("/").rsplit("/", 1)[1])
    assert TOKEN in ProcessingTask.get_by_id(task_id).parameters  # the plugin needs it

    shown = [
        client.get(task_url).get_data(as_text=True),
        client.get(f"/tasks/{task_id}/events").get_data(as_text=True),
        client.post(task_url, json={"command": "unsubscribe", "webhookHref": "http://127.0.0.1:9/hook"}).get_data(as_text=True),
    ]
    for text in shown:
        assert TOKEN not in text and PASSWORD not in text
    assert "starting with" in caplog.text and REDACTED in caplog.text
    assert TOKEN not in caplog.text and PASSWORD not in caplog.text
