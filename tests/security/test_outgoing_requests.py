"""Outgoing requests (plugin inputs through ``open_url``, webhook calls) never reach denied
networks: literal addresses, IPv4-mapped IPv6 forms, host names resolving there, redirects;
``file://`` only below the allowed folders and never through a redirect."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import marshmallow as ma
import pytest
import requests
from flask import Flask

from qhana_plugin_runner.api.util import FileUrl, FrontendFormBaseSchema
from qhana_plugin_runner.errors import ConfigError, DeniedTarget
from qhana_plugin_runner.requests import REQUEST_SESSION, open_url
from qhana_plugin_runner.tasks.webhooks import _deliver, target_refusal

METADATA_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "https://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://[fe80::1%25eth0]:8080/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
    "http://[2002:a9fe:a9fe::1]/",  # 6to4 around 169.254.169.254
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://100.100.100.200/latest/meta-data/",
]


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fail loudly if anything tries to open a TCP connection."""
    attempts: list[Any] = []

    def refuse(address: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(address)
        raise AssertionError(f"a connection to {address} was attempted")

    monkeypatch.setattr("urllib3.util.connection.create_connection", refuse)
    return attempts


@pytest.mark.parametrize("url", METADATA_URLS)
def test_open_url_refuses_denied_addresses_before_connecting(app: Flask, no_connections: list[Any], url: str) -> None:
    with pytest.raises(DeniedTarget, match="denied network"):
        open_url(url, timeout=2)
    assert no_connections == []


def test_open_url_refuses_denied_addresses_outside_an_app(no_connections: list[Any]) -> None:
    with pytest.raises(DeniedTarget):
        open_url("http://169.254.169.254/latest/meta-data/", timeout=2)


def test_denied_target_is_a_request_exception_but_not_retried_as_connection_error() -> None:
    assert issubclass(DeniedTarget, requests.RequestException)
    assert not issubclass(DeniedTarget, requests.ConnectionError)


def test_loopback_stays_reachable_by_default(app: Flask, make_server: Any) -> None:
    server = make_server()
    with open_url(server.url("/data")) as response:
        assert response.text == "reached"


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_host_name_resolving_into_a_denied_network_is_refused(app: Flask, make_server: Any, scheme: str) -> None:
    server = make_server()
    app.config["REQUEST_DENIED_NETWORKS"] = ["127.0.0.0/8", "::1/128"]
    with pytest.raises(DeniedTarget, match="resolves to"):  # https: before the TLS handshake
        open_url(f"{scheme}://localhost:{server.port}/data", timeout=5)
    assert server.requests == [], "not a single request reached the server"


def test_name_that_resolves_differently_later_is_checked_on_connect(
    app: Flask, make_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: whatever a name resolves to when connecting is what is checked."""
    denied = make_server("127.0.0.2")
    app.config["REQUEST_DENIED_NETWORKS"] = ["127.0.0.2/32"]
    real_getaddrinfo = socket.getaddrinfo

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real_getaddrinfo("127.0.0.2" if host == "innocent.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with pytest.raises(DeniedTarget):
        open_url(f"http://innocent.test:{denied.port}/latest/meta-data/", timeout=5)
    assert denied.requests == []


def test_kept_alive_connection_is_checked_again(app: Flask, make_server: Any) -> None:
    server = make_server()
    with open_url(server.url("/first")) as response:
        assert response.text == "reached"
    app.config["REQUEST_DENIED_NETWORKS"] = ["127.0.0.0/8"]
    with pytest.raises(DeniedTarget):
        open_url(server.url("/second"), timeout=5)
    assert [path for _, path in server.requests] == ["/first"]


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/"])
def test_redirect_to_a_denied_address_is_refused(app: Flask, make_server: Any, target: str) -> None:
    server = make_server()
    server.routes["/redirect"] = (302, {"Location": target})
    with pytest.raises(DeniedTarget):
        open_url(server.url("/redirect"), timeout=2)


def test_redirect_to_a_name_resolving_into_a_denied_network_is_refused(
    app: Flask, make_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed, denied = make_server("127.0.0.1"), make_server("127.0.0.2")
    app.config["REQUEST_DENIED_NETWORKS"] = ["127.0.0.2/32"]
    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: real_getaddrinfo("127.0.0.2" if host == "metadata.test" else host, *a, **k),
    )
    allowed.routes["/redirect"] = (307, {"Location": f"http://metadata.test:{denied.port}/secret"})
    with pytest.raises(DeniedTarget):
        open_url(allowed.url("/redirect"), timeout=5)
    assert denied.requests == []


def test_redirect_to_a_file_url_is_refused(app: Flask, make_server: Any) -> None:
    store = Path(app.config["FILE_STORE_ROOT_PATH"])
    secret = store / "task_1" / "out" / "secret.txt"
    secret.parent.mkdir(parents=True)
    secret.write_text("other task's result")
    with open_url(secret.as_uri()) as response:  # the runner's own internal URL works ...
        assert response.text == "other task's result"
    server = make_server()
    server.routes["/redirect"] = (302, {"Location": secret.as_uri()})
    with pytest.raises(requests.HTTPError) as info:  # ... but a remote server cannot choose it
        open_url(server.url("/redirect"))
    assert info.value.response.status_code == 403
    assert "other task" not in info.value.response.text


def test_file_urls_outside_the_allowed_folders_are_refused(app: Flask, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("private")
    with open_url(outside.as_uri(), raise_on_error_status=False) as response:
        assert response.status_code == 403 and "private" not in response.text


def test_bad_denied_network_setting_names_the_key(app: Flask) -> None:
    app.config["REQUEST_DENIED_NETWORKS"] = ["not-a-network"]
    with pytest.raises(ConfigError, match="REQUEST_DENIED_NETWORKS"):
        open_url("http://127.0.0.1:9/")


def test_an_empty_list_allows_everything(app: Flask, no_connections: list[Any]) -> None:
    app.config["REQUEST_DENIED_NETWORKS"] = []
    with pytest.raises(AssertionError, match="connection to"):
        open_url("http://169.254.169.254/", timeout=1)


def test_shared_session_uses_the_guard_for_both_schemes() -> None:
    from qhana_plugin_runner.util.net_guard import GuardedAdapter

    assert isinstance(REQUEST_SESSION.get_adapter("http://example.org/"), GuardedAdapter)
    assert isinstance(REQUEST_SESSION.get_adapter("https://example.org/"), GuardedAdapter)


# --- webhooks -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", METADATA_URLS)
def test_webhook_targets_in_denied_networks_are_refused(app: Flask, url: str) -> None:
    assert target_refusal(app, url, resolve=False)


@pytest.mark.parametrize("url", ["http://[::ffff:169.254.169.254]/hook", "http://[::ffff:a9fe:a9fe]/hook"])
def test_subscription_refuses_ipv4_mapped_metadata_address(client: Any, url: str) -> None:
    from qhana_plugin_runner.db.models.tasks import ProcessingTask, TaskUpdateSubscription

    task = ProcessingTask(task_name="t")
    task.save(commit=True)
    response = client.post(f"/tasks/{task.id}/", json={"command": "subscribe", "webhookHref": url})
    assert response.status_code == 422
    assert response.get_json()["errors"]["json"]["webhookHref"]  # "denied network" or "invalid"
    assert TaskUpdateSubscription.get_by_task_and_subscriber(task, url) == []


def test_webhook_to_a_name_resolving_into_a_denied_network_is_not_called(app: Flask, make_server: Any) -> None:
    receiver = make_server()
    app.config["WEBHOOK_DENIED_NETWORKS"] = ["127.0.0.0/8", "::1/128"]
    outcome = _deliver(app, f"http://localhost:{receiver.port}/hook", "http://runner/tasks/1/", "status")
    assert not outcome.delivered and not outcome.retry and "refused" in outcome.detail
    assert receiver.requests == []


def test_webhook_redirects_are_not_followed(app: Flask, make_server: Any) -> None:
    receiver, elsewhere = make_server("127.0.0.1"), make_server("127.0.0.2")
    receiver.routes["/hook"] = (307, {"Location": elsewhere.url("/internal")})
    _deliver(app, receiver.url("/hook"), "http://runner/tasks/1/", "status")
    assert [path.split("?")[0] for _, path in receiver.requests] == ["/hook"]
    assert elsewhere.requests == []


# --- file:// URLs handed in by API clients ----------------------------------------------------


class _Inputs(FrontendFormBaseSchema):
    data = FileUrl(required=True)


@pytest.fixture
def allowed_root(tmp_path: Path) -> Path:
    root = tmp_path / "shared-data"
    root.mkdir()
    (root / "input.csv").write_text("a,b\n")
    return root


@pytest.fixture
def runner_config(runner_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return {**runner_config, "FILE_URL_ALLOWED_ROOTS": [str(tmp_path / "shared-data")]}


def test_clients_may_name_files_below_the_allowed_roots(app: Flask, allowed_root: Path) -> None:
    url = (allowed_root / "input.csv").as_uri()
    assert _Inputs().load({"data": url})["data"] == url


def test_clients_may_not_name_files_in_the_file_store(app: Flask, allowed_root: Path) -> None:
    """The store's files are protected by their download tags; file:// would bypass them."""
    store = Path(app.config["FILE_STORE_ROOT_PATH"])
    target = store / "task_1" / "out" / "result.txt"
    sneaky = allowed_root / "link-to-store"
    sneaky.symlink_to(store)
    for url in (
        target.as_uri(),
        f"file://{allowed_root.as_posix()}/../{store.relative_to(allowed_root.parent).as_posix()}/task_1/out/result.txt",
        (sneaky / "task_1" / "out" / "result.txt").as_uri(),
    ):
        with pytest.raises(ma.ValidationError, match="file store"):
            _Inputs().load({"data": url})


@pytest.mark.parametrize("path", ["/etc/passwd", "/proc/self/environ"])
def test_clients_may_not_name_other_local_files(app: Flask, allowed_root: Path, path: str) -> None:
    with pytest.raises(ma.ValidationError, match="FILE_URL_ALLOWED_ROOTS"):
        _Inputs().load({"data": f"file://{path}"})
