"""File downloads: the security tag is long, random and unique, compared in constant time; a
wrong or missing tag reveals nothing; tags appear only in the outputs of a finished task (not
for temp files, not in the plugin list, not in logs); scriptable outputs are sandboxed."""

from __future__ import annotations

import hmac
import logging
import re
import string
from typing import Any

import pytest
from flask import Flask

from qhana_plugin_runner.db.models.tasks import ProcessingTask, TaskFile
from qhana_plugin_runner.storage import STORE
from qhana_plugin_runner.tasks.bookkeeping import finish_task

from helpers import download, wait_final

SECURITY_PLUGIN = "/plugins/fx-security@1-0-0"
URLSAFE = set(string.ascii_letters + string.digits + "-_")


def _result(content: str = "result", name: str = "out.txt", mimetype: str = "text/plain") -> TaskFile:
    task = ProcessingTask(task_name="t")
    task.save(commit=True)
    return STORE.persist_task_result(task.id, content, name, "custom/text", mimetype)


def _json_error(client: Any, url: str) -> tuple[int, dict[str, Any]]:
    response = client.get(url)
    assert response.is_json, response.get_data(as_text=True)
    return response.status_code, response.get_json()


def test_tags_are_long_random_and_unique(app: Flask) -> None:
    tags = [_result().security_tag for _ in range(200)]
    assert len(set(tags)) == len(tags)
    for tag in tags:
        assert len(tag) >= 43 and set(tag) <= URLSAFE  # 32 random bytes, base64url
    assert len(set("".join(tags))) > 50, "tags use the whole alphabet"


def test_tags_come_from_the_secrets_module(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    import qhana_plugin_runner.storage.base as base

    drawn: list[int | None] = []

    def spy(nbytes: int | None = None) -> str:
        drawn.append(nbytes)
        return "spy-" + "x" * 60

    monkeypatch.setattr(base, "token_urlsafe", spy)
    assert _result().security_tag == "spy-" + "x" * 60
    assert drawn and all(n is not None and n >= 32 for n in drawn)


def test_tag_is_compared_in_constant_time(app: Flask, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    info = _result()
    compared: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    status, _, body = download(client, f"/files/{info.id}/?file-id={info.security_tag}")
    assert status == 200 and body == b"result"
    assert any(info.security_tag.encode() in pair for pair in compared)


def test_wrong_tags_get_the_same_json_404_as_a_missing_file(app: Flask, client: Any) -> None:
    info = _result()
    tag = info.security_tag
    missing = _json_error(client, f"/files/{info.id + 1000}/?file-id={tag}")
    assert missing[0] == 404 and missing[1]["code"] == 404
    for wrong in ("", "x", tag[:-1], tag + "x", tag.swapcase(), tag[1:] + tag[0], f"{tag}%00"):
        assert _json_error(client, f"/files/{info.id}/?file-id={wrong}") == missing


def test_missing_tag_gets_json_422_whether_or_not_the_file_exists(app: Flask, client: Any) -> None:
    info = _result()
    existing = _json_error(client, f"/files/{info.id}/")
    unknown = _json_error(client, f"/files/{info.id + 1000}/")
    assert existing == unknown
    assert existing[0] == 422 and "file-id" in existing[1]["errors"]["query"]


def test_unfinished_task_lists_no_outputs(app: Flask, client: Any) -> None:
    info = _result()
    body = client.get(f"/tasks/{info.task_id}/").get_json()
    assert body["outputs"] == [] and info.security_tag not in str(body)
    finish_task(info.task_id, "SUCCESS", None)
    body = client.get(f"/tasks/{info.task_id}/").get_json()
    assert [o["href"] for o in body["outputs"]] == [STORE.get_task_file_url(info)]


def test_temp_files_plugin_list_and_logs_never_show_tags(
    app: Flask, client: Any, celery_worker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = client.post(f"{SECURITY_PLUGIN}/process/", data={"text": "hi", "apiToken": "t0k"})
    assert response.status_code == 303
    body = wait_final(client, response.headers["Location"])
    assert body["status"] == "SUCCESS", body
    task_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    files = {f.file_name: f for f in ProcessingTask.get_by_id(task_id).outputs}
    temp, result = files["credentials.txt"], files["out.txt"]

    assert [o["name"] for o in body["outputs"]] == ["out.txt"]
    events = client.get(f"/tasks/{task_id}/events").get_data(as_text=True)
    listings = [
        str(body),
        events,
        client.get("/plugins/").get_data(as_text=True),
        client.get(f"{SECURITY_PLUGIN}/").get_data(as_text=True),
        client.get("/api-spec.json").get_data(as_text=True),
    ]
    for text in listings:
        assert temp.security_tag not in text
    assert result.security_tag in body["outputs"][0]["href"]
    for text in listings[2:]:
        assert result.security_tag not in text
    assert temp.security_tag not in caplog.text and result.security_tag not in caplog.text
    assert not re.search(r"file-id=[\w-]{20,}", caplog.text)


@pytest.mark.parametrize("mimetype", ["text/html", "image/svg+xml", "application/xhtml+xml", "TEXT/HTML"])
def test_scriptable_outputs_are_sandboxed(app: Flask, client: Any, mimetype: str) -> None:
    info = _result("<script>document.cookie</script>", "page.html", mimetype)
    status, headers, _ = download(client, STORE.get_task_file_url(info))
    assert status == 200
    assert headers["Content-Security-Policy"] == "sandbox allow-scripts"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_other_outputs_are_not_sniffed(app: Flask, client: Any) -> None:
    info = _result("<html><script>x</script></html>", "data.txt", "text/plain")
    status, headers, _ = download(client, STORE.get_task_file_url(info))
    assert status == 200 and headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in headers
