"""One webhook call (``_deliver``): what is sent, and which failures are retried.

The call is a plain ``http.client`` POST; these pin what requests did before it, so receivers
see the same request: the signed URL, credentials from the URL as basic authentication, and
the same retry decisions for refused, reset, garbled and erroring receivers.
"""

from __future__ import annotations

import base64
import http.server
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask

from qhana_plugin_runner.tasks.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    _call_url,
    _deliver,
    signature,
)


class _Receiver:
    """Records each request (method, path, headers); answers ``status``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        self.status = 200
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                receiver.calls.append((self.command, self.path, dict(self.headers)))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook", userinfo: str = "") -> str:
        return f"http://{userinfo}127.0.0.1:{self.server.server_address[1]}{path}"


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    server = _Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def raw_server() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP server that reads the request and answers with the next queued raw bytes
    (an empty answer closes the connection without one)."""
    answers: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                answer = answers.pop(0) if answers else b""
                if answer:
                    conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], answers
    stop.set()
    thread.join(5)
    listener.close()


@pytest.mark.parametrize(
    "hook",
    [
        "http://127.0.0.1:5000/hook",
        "http://h/hook?x=1&y=a%20b",
        "https://example.org",
        "http://[::1]:8080/p/q?",
        "http://h/hook/ünï",
        "http://user:pw@h:81/x",
        "http://bücher.de/x y?q=ä",
    ],
)
def test_called_url_is_the_one_requests_built(hook: str) -> None:
    task = "http://runner/tasks/1/?a=b c"
    expected = (
        requests.Request("POST", hook, params={"source": task, "event": "status"}).prepare().url
    )
    assert _call_url(hook, task, "status") == expected


def test_fragment_is_neither_signed_nor_sent() -> None:
    assert (
        _call_url("http://h/a?b#frag", "http://runner/tasks/1/", "status")
        == "http://h/a?b&source=http%3A%2F%2Frunner%2Ftasks%2F1%2F&event=status"
    )


def test_call_carries_source_event_and_a_signature_of_the_url_it_was_sent_to(
    app: Flask, receiver: _Receiver
) -> None:
    app.config["WEBHOOK_SECRET"] = "s3cret"
    outcome = _deliver(app, receiver.url("/hook?keep=1"), "http://runner/tasks/7/", "steps")
    assert outcome.delivered and outcome.detail == "answered 200"
    [(method, path, headers)] = receiver.calls
    assert method == "POST" and headers["Content-Length"] == "0"
    assert parse_qs(urlsplit(path).query) == {
        "keep": ["1"],
        "source": ["http://runner/tasks/7/"],
        "event": ["steps"],
    }
    sent_url = receiver.url(path)
    assert headers[SIGNATURE_HEADER] == signature("s3cret", headers[TIMESTAMP_HEADER], sent_url)


def test_credentials_in_the_url_are_sent_as_basic_authentication(
    app: Flask, receiver: _Receiver
) -> None:
    assert _deliver(
        app, receiver.url(userinfo="hook%20user:p%40ss@"), "http://runner/tasks/1/", "status"
    ).delivered
    [(_, _, headers)] = receiver.calls
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"hook user:p@ss").decode()


@pytest.mark.parametrize(
    ("status", "delivered", "retry"),
    [
        (204, True, False),
        (307, True, False),
        (404, False, False),
        (429, False, True),
        (503, False, True),
    ],
)
def test_answer_status_decides_delivered_and_retry(
    app: Flask, receiver: _Receiver, status: int, delivered: bool, retry: bool
) -> None:
    receiver.status = status
    outcome = _deliver(app, receiver.url(), "http://runner/tasks/1/", "status")
    assert (outcome.delivered, outcome.retry, outcome.detail) == (
        delivered,
        retry,
        f"answered {status}",
    )


def test_closed_without_an_answer_is_retried(
    app: Flask, raw_server: tuple[int, list[bytes]]
) -> None:
    port, _answers = raw_server
    outcome = _deliver(app, f"http://127.0.0.1:{port}/hook", "http://runner/tasks/1/", "status")
    assert not outcome.delivered and outcome.retry and "RemoteDisconnected" in outcome.detail


def test_garbled_answer_is_retried(app: Flask, raw_server: tuple[int, list[bytes]]) -> None:
    port, answers = raw_server
    answers.append(b"this is not HTTP\r\n\r\n")
    outcome = _deliver(app, f"http://127.0.0.1:{port}/hook", "http://runner/tasks/1/", "status")
    assert not outcome.delivered and outcome.retry and "BadStatusLine" in outcome.detail


def test_refused_connection_is_retried(app: Flask) -> None:
    with socket.create_server(("127.0.0.1", 0)) as unused:
        port = unused.getsockname()[1]
    outcome = _deliver(app, f"http://127.0.0.1:{port}/hook", "http://runner/tasks/1/", "status")
    assert not outcome.delivered and outcome.retry and "ConnectionRefusedError" in outcome.detail


def test_receiver_that_never_answers_times_out_and_is_retried(app: Flask) -> None:
    app.config["WEBHOOK_TIMEOUT"] = 0.2
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts (backlog), never answers
        outcome = _deliver(
            app,
            f"http://127.0.0.1:{silent.getsockname()[1]}/hook",
            "http://runner/tasks/1/",
            "status",
        )
    assert not outcome.delivered and outcome.retry and "timed out" in outcome.detail


def test_unusable_port_is_not_retried(app: Flask) -> None:
    outcome = _deliver(app, "http://127.0.0.1:99999/hook", "http://runner/tasks/1/", "status")
    assert not outcome.delivered and not outcome.retry and outcome.detail.startswith("bad URL")


def test_https_receiver_whose_handshake_fails_is_retried(
    app: Flask, raw_server: tuple[int, list[bytes]]
) -> None:
    port, _answers = (
        raw_server  # no TLS at all: the handshake fails, as with an untrusted certificate
    )
    outcome = _deliver(app, f"https://127.0.0.1:{port}/hook", "http://runner/tasks/1/", "status")
    assert not outcome.delivered and outcome.retry


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[_Receiver, Path]]:
    """A receiver speaking TLS with a self-signed certificate for 127.0.0.1 (made by openssl)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    server = _Receiver()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.server.socket = context.wrap_socket(server.server.socket, server_side=True)
    yield server, cert
    server.server.shutdown()
    server.server.server_close()


def test_https_receiver_with_a_trusted_certificate_gets_the_call(app: Flask, tls_receiver: tuple[_Receiver, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    receiver, cert = tls_receiver
    trusting = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr("qhana_plugin_runner.tasks.webhooks._tls_context", lambda: trusting)
    outcome = _deliver(app, receiver.url().replace("http://", "https://"), "http://runner/tasks/1/", "status")
    assert outcome.delivered, outcome.detail
    assert [path.split("?")[0] for _, path, _ in receiver.calls] == ["/hook"]


def test_https_receiver_with_an_untrusted_certificate_is_retried_and_gets_nothing(app: Flask, tls_receiver: tuple[_Receiver, Path]) -> None:
    receiver, _cert = tls_receiver  # self-signed: not in certifi's bundle
    outcome = _deliver(app, receiver.url().replace("http://", "https://"), "http://runner/tasks/1/", "status")
    assert not outcome.delivered and outcome.retry and "CERTIFICATE_VERIFY_FAILED" in outcome.detail
    assert receiver.calls == []
