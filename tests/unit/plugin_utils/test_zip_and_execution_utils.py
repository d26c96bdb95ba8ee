# SPDX-License-Identifier: Apache-2.0
"""Tests for plugin_utils.zip_utils and plugin_utils.execution_utils (and util.logging,
which execution_utils uses to keep tokens out of the logs)."""

from __future__ import annotations

import base64
import io
import logging
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from qhana_plugin_runner.plugin_utils import zip_utils
from qhana_plugin_runner.plugin_utils.execution_utils import parse_execution_options
from qhana_plugin_runner.plugin_utils.zip_utils import get_files_from_zip_url
from qhana_plugin_runner.util.logging import get_logger, redact_log_data

MEMBERS = {"a.txt": "first ✓", "nested/b.csv": '"ID"\r\n"x"\r\n'}


@pytest.fixture
def flask_app(tmp_path: Path) -> Iterator[Flask]:
    """Minimal app whose file store is the test's tmp folder, inside an app context."""
    app = Flask(__name__)
    app.config.update(FILE_STORE_ROOT_PATH=str(tmp_path), URL_REWRITE_RULES=[])
    with app.app_context():
        yield app


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.mkdir("nested")  # a directory entry, which is skipped
        for name, text in MEMBERS.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture
def zip_url(flask_app: Flask, tmp_path: Path) -> str:
    path = tmp_path / "inputs.zip"
    path.write_bytes(zip_bytes())
    return path.as_uri()


def write(tmp_path: Path, name: str, text: str) -> str:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return (tmp_path / name).as_uri()


# --- zip_utils ------------------------------------------------------------------------------


def test_zip_members_as_text(zip_url: str) -> None:
    files = {name: file_.read() for file_, name in get_files_from_zip_url(zip_url)}
    # text mode decodes UTF-8 with universal newlines, like open(..., "rt")
    assert files == {name: text.replace("\r\n", "\n") for name, text in MEMBERS.items()}


def test_zip_members_as_binary(zip_url: str) -> None:
    files = {name: file_.read() for file_, name in get_files_from_zip_url(zip_url, mode="b")}
    assert files == {name: text.encode() for name, text in MEMBERS.items()}


def test_zip_from_data_url_without_app() -> None:
    url = "data:application/zip;base64," + base64.b64encode(zip_bytes()).decode()
    assert [name for _, name in get_files_from_zip_url(url)] == list(MEMBERS)


def test_large_zip_spools_to_disk(zip_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    buffers: list[tempfile.SpooledTemporaryFile] = []

    class RecordingSpool(tempfile.SpooledTemporaryFile):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            buffers.append(self)

    monkeypatch.setattr(zip_utils, "SPOOL_MAX_SIZE", 16)
    monkeypatch.setattr(zip_utils.tempfile, "SpooledTemporaryFile", RecordingSpool)
    files = {name: file_.read() for file_, name in get_files_from_zip_url(zip_url, mode="b")}
    assert files == {name: text.encode() for name, text in MEMBERS.items()}
    assert buffers[0]._rolled  # the download went to a real temporary file


def test_zip_errors(flask_app: Flask, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mode"):
        next(get_files_from_zip_url("data:,x", mode="rb"))
    with pytest.raises(zipfile.BadZipFile):
        next(get_files_from_zip_url(write(tmp_path, "plain.zip", "no zip")))
    with pytest.raises(requests.HTTPError, match="404"):
        next(get_files_from_zip_url((tmp_path / "missing.zip").as_uri()))


# --- execution_utils ------------------------------------------------------------------------


def test_options_from_json_list_and_object(flask_app: Flask, tmp_path: Path) -> None:
    url = write(tmp_path, "options.json", '[{"shots": 100, "backend": "sim"}, {"shots": 1}]')
    assert parse_execution_options(url) == {"shots": 100, "backend": "sim"}
    url = write(tmp_path, "single.json", '{"shots": 5}')
    assert parse_execution_options(url) == {"shots": 5}


def test_options_from_csv_stay_text(flask_app: Flask, tmp_path: Path) -> None:
    url = write(tmp_path, "options.csv", '"ID","shots"\r\n"run","100"\r\n')
    assert parse_execution_options(url) == {"ID": "run", "shots": "100"}


def test_options_from_json_lines_data_url() -> None:
    url = "data:application/X-lines+json," + '{"shots":3}%0A{"shots":4}%0A'
    assert parse_execution_options(url) == {"shots": 3}


def test_empty_options_file(flask_app: Flask, tmp_path: Path) -> None:
    assert parse_execution_options(write(tmp_path, "empty.json", "[]")) == {}
    assert parse_execution_options(write(tmp_path, "empty.csv", "")) == {}


def test_unsupported_options_format(flask_app: Flask, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="text/plain"):
        parse_execution_options(write(tmp_path, "options.txt", "shots=1"))


def test_options_are_logged_redacted(
    flask_app: Flask, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = write(tmp_path, "secret.json", '{"ibmqToken": "s3cr3t", "shots": 1}')
    with caplog.at_level(logging.DEBUG, logger="qhana_plugin_runner.plugin_utils.execution_utils"):
        assert parse_execution_options(url)["ibmqToken"] == "s3cr3t"
    assert "****" in caplog.text
    assert "s3cr3t" not in caplog.text


# --- util.logging ---------------------------------------------------------------------------


def test_redact_log_data_returns_a_redacted_copy() -> None:
    data = {"ibmq_token": "t", "db_password": "p", "user": "u", "nested": [{"ibmqToken": "x"}]}
    redacted = redact_log_data(data)
    assert redacted == {
        "ibmq_token": "****",
        "db_password": "****",
        "user": "u",
        "nested": [{"ibmqToken": "****"}],
    }
    assert data["ibmq_token"] == "t" and data["nested"][0]["ibmqToken"] == "x"
    assert redact_log_data({"api_key": "k", "ibmq_token": "t"}, ["api_key"]) == {
        "api_key": "****",
        "ibmq_token": "t",
    }


def test_get_logger_is_a_child_of_the_app_logger() -> None:
    app = Flask("some_plugin_app")
    app_logger = app.logger
    logger = get_logger(app, "tasks")
    assert logger.name == "some_plugin_app.tasks"
    assert logger.parent is app_logger  # so it shares the app's handlers and level
