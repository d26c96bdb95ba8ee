# SPDX-License-Identifier: Apache-2.0
"""Tests for qhana_plugin_runner.requests and its file:// and data: adapters."""

from __future__ import annotations

import base64
import gzip
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from flask import Flask

from qhana_plugin_runner.errors import ConfigError
from qhana_plugin_runner.requests import (
    DEFAULT_TIMEOUT,
    REQUEST_SESSION,
    get_mimetype,
    open_url,
    open_url_as_file_like,
    open_url_as_file_like_simple,
    retrieve_attribute_metadata_url,
    retrieve_data_type,
    retrieve_filename,
)

CSV_BODY = b'"ID","href"\r\n"a","http://a"\r\n'
GZIP_TEXT = b"compressed on the wire, plain for the reader"


class _Handler(BaseHTTPRequestHandler):
    """Routes of the tiny test server."""

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        if self.path == "/files/download":
            self._send(
                CSV_BODY,
                {
                    "Content-Type": "text/csv; charset=utf-8",
                    "Content-Disposition": 'attachment; filename="entities.csv"',
                    "X-Data-Type": "entity/list",
                    "X-Attribute-Metadata": "http://meta.invalid/attributes.json",
                },
            )
        elif self.path == "/plain/numbers.json":
            self._send(b"[1, 2, 3]", {"Content-Type": "application/json"})
        elif self.path == "/gzip":
            self._send(gzip.compress(GZIP_TEXT), {"Content-Encoding": "gzip"})
        elif self.path == "/slow":
            time.sleep(0.5)
            self._send(b"late", {})
        else:
            self.send_error(404)

    def _send(self, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(200)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Keep the test output clean."""


@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    """Base URL of a local HTTP server running in a thread (stateless, so shared)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    root.mkdir()
    (root / "data.csv").write_bytes(CSV_BODY)
    return root


@pytest.fixture
def flask_app(tmp_path: Path, store: Path) -> Iterator[Flask]:
    """Minimal app: the file store plus one extra allowed folder, inside an app context."""
    extra = tmp_path / "extra"
    extra.mkdir()
    app = Flask(__name__)
    app.config.update(
        FILE_STORE_ROOT_PATH=str(store),
        FILE_URL_ALLOWED_ROOTS=[str(extra)],
        URL_REWRITE_RULES=[],
    )
    with app.app_context():
        yield app


# --- data: URLs -----------------------------------------------------------------------------


@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
def test_data_url_accepts_both_base64_alphabets(encode) -> None:
    payload = b"\xfb\xff\xbf binary \xfe"  # encodes to "+" and "/" (or "-" and "_")
    url = "data:application/octet-stream;base64," + encode(payload).decode()
    with open_url(url) as response:
        assert response.content == payload


def test_data_url_base64_without_padding_and_escaped() -> None:
    encoded = base64.b64encode(b"ab").decode()  # "YWI="
    with open_url("data:;base64," + encoded.rstrip("=")) as response:
        assert response.content == b"ab"
    with open_url("data:;base64," + encoded.replace("=", "%3D")) as response:
        assert response.content == b"ab"


def test_data_url_percent_encoded_defaults_to_text_plain() -> None:
    with open_url("data:,Hello%2C%20World") as response:
        assert response.text == "Hello, World"
        assert response.headers["Content-Type"] == "text/plain"
        assert response.headers["Content-Length"] == "12"


def test_data_url_sets_content_type_with_charset() -> None:
    url = (
        "data:text/csv;charset=ISO-8859-1;base64,"
        + base64.b64encode("Größe".encode("latin-1")).decode()
    )
    with open_url(url) as response:
        assert response.headers["Content-Type"] == "text/csv; charset=ISO-8859-1"
        assert response.encoding == "ISO-8859-1"
        assert response.text == "Größe"
        assert get_mimetype(response) == "text/csv"


@pytest.mark.parametrize(
    "url", ["data:text/plain;base64", "data:;base64,a*b=", "data:;base64,abcde"]
)
def test_malformed_data_url_is_bad_request(url: str) -> None:
    with pytest.raises(requests.HTTPError) as info:
        open_url(url)
    assert info.value.response.status_code == 400
    with open_url(url, raise_on_error_status=False) as response:
        assert response.status_code == 400


def test_data_url_head_and_post() -> None:
    with REQUEST_SESSION.head("data:,abc") as response:
        assert response.status_code == 200
        assert response.headers["Content-Length"] == "3"
        assert response.content == b""
    with REQUEST_SESSION.post("data:,abc") as response:
        assert response.status_code == 405


# --- file: URLs -----------------------------------------------------------------------------


def test_file_url_below_store(flask_app: Flask, store: Path) -> None:
    with open_url((store / "data.csv").as_uri()) as response:
        assert response.content == CSV_BODY
        assert response.headers["Content-Length"] == str(len(CSV_BODY))
        assert get_mimetype(response) == "text/csv"


def test_file_url_below_extra_root_and_with_escaped_name(flask_app: Flask, tmp_path: Path) -> None:
    target = tmp_path / "extra" / "with space.txt"
    target.write_text("extra")
    url = target.as_uri()
    assert "%20" in url
    with open_url(url) as response:
        assert response.text == "extra"


def test_file_url_with_localhost_host(flask_app: Flask, store: Path) -> None:
    with open_url("file://localhost" + (store / "data.csv").as_posix()) as response:
        assert response.content == CSV_BODY


def test_file_url_with_remote_host_is_refused(flask_app: Flask, store: Path) -> None:
    with open_url("file://example.com" + store.as_posix() + "/data.csv", False) as response:
        assert response.status_code == 400


def _status(url: str) -> int:
    with open_url(url, raise_on_error_status=False) as response:
        return response.status_code


def test_file_url_outside_allowed_roots_is_forbidden(flask_app: Flask, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    assert _status(secret.as_uri()) == 403
    with pytest.raises(requests.HTTPError, match="403"):
        open_url(secret.as_uri())


def test_dotdot_cannot_leave_the_root(flask_app: Flask, store: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("secret")
    # as_uri() would normalise, so the URL is written by hand
    assert _status(f"file://{store.as_posix()}/../secret.txt") == 403
    assert _status(f"file://{store.as_posix()}/../store/data.csv") == 200


def test_symlink_cannot_leave_the_root(flask_app: Flask, store: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("secret")
    (store / "escape.txt").symlink_to(tmp_path / "secret.txt")
    (store / "alias.csv").symlink_to(store / "data.csv")
    assert _status((store / "escape.txt").as_uri()) == 403
    assert _status((store / "alias.csv").as_uri()) == 200


def test_file_url_refused_without_app_context(store: Path) -> None:
    with REQUEST_SESSION.get((store / "data.csv").as_uri()) as response:
        assert response.status_code == 403
        assert b"outside the allowed folders" in response.content


def test_file_url_directory_and_missing(flask_app: Flask, store: Path) -> None:
    (store / "folder").mkdir()
    assert _status((store / "folder").as_uri()) == 403
    assert _status((store / "missing.csv").as_uri()) == 404


def test_file_url_head_only_reads_metadata(flask_app: Flask, store: Path) -> None:
    with REQUEST_SESSION.head((store / "data.csv").as_uri()) as response:
        assert response.status_code == 200
        assert response.headers["Content-Length"] == str(len(CSV_BODY))
        assert response.content == b""


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_file_url_is_read_only(flask_app: Flask, store: Path, method: str) -> None:
    with REQUEST_SESSION.request(method, (store / "data.csv").as_uri(), data=b"x") as response:
        assert response.status_code == 405
    assert (store / "data.csv").read_bytes() == CSV_BODY


def test_streamed_file_is_closed_with_the_response(flask_app: Flask, store: Path) -> None:
    with open_url((store / "data.csv").as_uri(), stream=True) as response:
        raw = response.raw
        assert not raw.closed
        assert raw.read() == CSV_BODY
    assert raw.closed


# --- URL rewriting and timeouts -------------------------------------------------------------


def test_rewrite_rules_are_applied_in_order(flask_app: Flask) -> None:
    flask_app.config["URL_REWRITE_RULES"] = [
        (re.compile(r"^alias://first/"), "alias://second/"),
        (re.compile(r"^alias://second/(.*)$"), r"data:,\1"),
    ]
    with open_url("alias://first/hello") as response:
        assert response.text == "hello"


def test_rewrite_rules_redirect_to_reachable_host(flask_app: Flask, http_server: str) -> None:
    flask_app.config["URL_REWRITE_RULES"] = [(re.compile(r"^http://plugins\.invalid"), http_server)]
    with open_url("http://plugins.invalid/plain/numbers.json") as response:
        assert response.json() == [1, 2, 3]
        assert response.url.startswith(http_server)


def test_configured_timeout_applies(flask_app: Flask, http_server: str) -> None:
    flask_app.config["REQUEST_TIMEOUT"] = 0.1
    with pytest.raises(requests.Timeout):
        open_url(http_server + "/slow")
    with open_url(http_server + "/slow", timeout=5) as response:  # the caller's value wins
        assert response.text == "late"


def test_invalid_timeout_config_names_the_key(flask_app: Flask) -> None:
    flask_app.config["REQUEST_TIMEOUT"] = "soon"
    with pytest.raises(ConfigError, match="REQUEST_TIMEOUT"):
        open_url("data:,x")


def test_default_timeout_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}
    original = REQUEST_SESSION.send

    def spy(request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        seen.update(kwargs)
        return original(request, **kwargs)

    monkeypatch.setattr(REQUEST_SESSION, "send", spy)
    with open_url("data:,x"):
        pass
    assert seen["timeout"] == DEFAULT_TIMEOUT


# --- HTTP and metadata helpers --------------------------------------------------------------


def test_http_error_status_raises_unless_disabled(http_server: str) -> None:
    with pytest.raises(requests.HTTPError) as info:
        open_url(http_server + "/missing")
    assert info.value.response.status_code == 404
    with open_url(http_server + "/missing", raise_on_error_status=False) as response:
        assert response.status_code == 404


def test_retrieve_filename_sources(http_server: str, flask_app: Flask, store: Path) -> None:
    assert retrieve_filename(http_server + "/files/download") == "entities"
    assert retrieve_filename(http_server + "/plain/numbers.json") == "numbers"
    assert retrieve_filename((store / "data.csv").as_uri()) == "data"
    assert retrieve_filename("data:,abc").startswith("unknown-")


def test_retrieve_filename_closes_a_given_response(http_server: str) -> None:
    response = open_url(http_server + "/files/download", stream=True)
    assert retrieve_filename(response) == "entities"
    assert response.raw.closed


def test_retrieve_header_metadata(http_server: str) -> None:
    url = http_server + "/files/download"
    assert retrieve_data_type(url) == "entity/list"
    assert retrieve_attribute_metadata_url(url) == "http://meta.invalid/attributes.json"
    assert retrieve_data_type("data:,x") is None
    assert retrieve_attribute_metadata_url("data:,x") is None


def test_get_mimetype_guesses_from_url_or_default(http_server: str) -> None:
    with open_url(http_server + "/files/download") as response:
        assert get_mimetype(response) == "text/csv"
    response = requests.Response()
    response.url = "http://host.invalid/table.csv"
    assert get_mimetype(response) == "text/csv"
    response.url = "http://host.invalid/blob"
    assert get_mimetype(response, default="application/octet-stream") == "application/octet-stream"
    assert get_mimetype(response) is None


def test_open_url_as_file_like(http_server: str, flask_app: Flask, store: Path) -> None:
    with open_url_as_file_like(http_server + "/files/download") as (name, raw, content_type):
        assert (name, content_type) == ("entities.csv", "text/csv")
        assert raw.read() == CSV_BODY
    with open_url_as_file_like((store / "data.csv").as_uri()) as (name, raw, content_type):
        assert (name, content_type) == ("data.csv", "text/csv")
        assert raw.read() == CSV_BODY
    assert raw.closed


def test_file_like_streams_are_decompressed(http_server: str) -> None:
    with open_url_as_file_like_simple(http_server + "/gzip") as raw:
        assert raw.read() == GZIP_TEXT
    with open_url_as_file_like(http_server + "/gzip") as (name, raw, _):
        assert name == "gzip"
        assert raw.read() == GZIP_TEXT


def test_get_mimetype_keeps_the_qhana_spelling() -> None:
    from qhana_plugin_runner.requests import get_mimetype

    response = requests.Response()
    response.headers["Content-Type"] = "application/X-lines+json; charset=utf-8"
    assert get_mimetype(response) == "application/X-lines+json"
