"""Virtual plugins and the registry: the presets plugin's virtual plugins are listed with
complete metadata and vanish (404) when removed; a stub registry on 127.0.0.1 is told on
create and remove, also after failing at first; a dead registry or broker never breaks the
request; nothing is sent without PLUGIN_REGISTRY_URL. Also the registry client itself."""

from __future__ import annotations

import http.server
import json
import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from packaging.version import Version

from qhana_plugin_runner.db.models.virtual_plugins import VIRTUAL_PLUGIN_REMOVED
from qhana_plugin_runner.registry_client import (
    PLUGIN_REGISTRY_CLIENT,
    PluginRegistryClient,
    init_registry_client,
)
from qhana_plugin_runner.registry_client.cache import TtlCache
from qhana_plugin_runner.registry_client.errors import RegistryRequestError, RegistryUnavailable
from qhana_plugin_runner.registry_client.notifier import (
    NOTIFY_TASK_NAME,
    default_plugins_endpoint,
    deliver,
    notify_registry,
)
from qhana_plugin_runner.registry_client.state import registry_state
from qhana_plugin_runner.registry_client.types import ApiResponse, match_api_link

from helpers import ROOT, poll

PRESETS = "/plugins/presets@v0-1-0/presets/"
PLUGIN_KEYS = {"name", "version", "title", "description", "type", "tags", "entryPoint"}


class StubRegistry:
    """A plugin registry stand-in: ``/api/`` links to the plugin collection, whose page links
    to where plugins are posted (``collection`` path); POSTs answer 204, or 500 for the first
    ``fail_first`` of them. ``links=False`` makes the root answer without links."""

    def __init__(self, collection: str = "/api/plugins/", links: bool = True) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail_first = 0
        self._lock = threading.Lock()
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = urlsplit(self.path).path
                stub._record("GET", self.path, 200)
                if path == "/api/":
                    self._json(stub.root(collection, links))
                elif path == collection:
                    self._json(stub.page(collection))
                else:
                    self._json({"message": "not found"}, 404)

            def do_POST(self) -> None:  # noqa: N802
                with stub._lock:
                    failing = stub.fail_first > 0
                    stub.fail_first -= 1 if failing else 0
                status = 500 if failing else (204 if urlsplit(self.path).path == collection else 404)
                stub._record("POST", self.path, status)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _json(self, body: Any, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str = "/api/") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def root(self, collection: str, links: bool) -> dict[str, Any]:
        data = {"self": {"href": self.url(), "rel": [], "resourceType": "api-root"}, "title": "stub registry"}
        if not links:
            return {"data": data, "links": []}
        return {
            "data": data,
            "links": [
                {"href": self.url("/api/seeds/?item-count=25"), "rel": ["collection", "page", "nav", "api"], "resourceType": "seed"},
                {"href": self.url(f"{collection}?item-count=25"), "rel": ["collection", "page", "nav", "api"], "resourceType": "plugin"},
            ],
        }

    def page(self, collection: str) -> dict[str, Any]:
        return {
            "data": {
                "self": {"href": self.url(f"{collection}?item-count=25"), "rel": ["collection", "page"], "resourceType": "plugin"},
                "collectionSize": 1,
                "page": 1,
                "items": [{"href": self.url(f"{collection}1/"), "rel": [], "resourceType": "plugin"}],
            },
            "links": [
                {"href": self.url(collection), "rel": ["post"], "resourceType": "plugin"},
                {"href": self.url(), "rel": ["up"], "resourceType": "api-root"},
            ],
        }

    def _record(self, method: str, target: str, status: int) -> None:
        parts = urlsplit(target)
        with self._lock:
            self.calls.append({"method": method, "path": parts.path, "query": parse_qs(parts.query), "status": status})

    def posts(self, status: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [c for c in self.calls if c["method"] == "POST" and (status is None or c["status"] == status)]

    def gets(self, path: str) -> int:
        with self._lock:
            return sum(1 for c in self.calls if c["method"] == "GET" and c["path"] == path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def registry() -> Iterator[StubRegistry]:
    stub = StubRegistry()
    yield stub
    stub.close()


@pytest.fixture
def registry_config(request: pytest.FixtureRequest, registry: StubRegistry) -> dict[str, Any]:
    """Where the runner finds its registry: the stub (default), a dead port, or nowhere."""
    kind = getattr(request, "param", "stub")
    if kind == "unset":
        return {}
    if kind == "dead":
        return {"PLUGIN_REGISTRY_URL": f"http://127.0.0.1:{_closed_port()}/api/"}
    return {"PLUGIN_REGISTRY_URL": registry.url()}


@pytest.fixture
def runner_config(runner_config: dict[str, Any], registry_config: dict[str, Any]) -> dict[str, Any]:
    retries = {"PLUGIN_REGISTRY_RETRY_BACKOFF": 0.01, "PLUGIN_REGISTRY_RETRY_BACKOFF_MAX": 0.05, "PLUGIN_REGISTRY_MAX_RETRIES": 3}
    return {**runner_config, "PLUGIN_FOLDERS": [str(ROOT / "plugins")], **retries, **registry_config}


@pytest.fixture
def app(app: Flask) -> Flask:
    """The runner app with the notifier connected (a second call must change nothing)."""
    init_registry_client(app)
    init_registry_client(app)
    return app


def _create(client: Any, name: str = "Greeting", text: str = "say input") -> str:
    response = client.post(PRESETS, data={"presetName": name, "inputStr": text})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.headers["Location"]


def _listed(client: Any) -> dict[str, dict[str, Any]]:
    return {entry["apiRoot"]: entry for entry in client.get("/plugins/").get_json()["plugins"]}


# listing and removal ---------------------------------------------------------------------


@pytest.mark.parametrize("registry_config", ["unset"], indirect=True)
def test_virtual_plugin_is_listed_with_complete_metadata_and_gone_after_removal(client: Any) -> None:
    href = _create(client)
    assert href == "http://localhost.localdomain/plugins/presets@v0-1-0/presets/greeting/"
    entry = _listed(client)[href]
    assert entry["identifier"] == "hello-world-preset-greeting@v0-1-0"
    assert entry["tags"] == ["hello-world", "preset"]
    metadata = client.get(entry["apiRoot"]).get_json()
    assert PLUGIN_KEYS <= set(metadata)
    assert (metadata["name"], metadata["version"]) == (entry["name"], entry["version"])
    Version(metadata["version"])  # PEP 440, or the registry drops it and the plugins after it
    assert metadata["entryPoint"]["href"].endswith("/presets/greeting/process/")
    assert metadata["entryPoint"]["uiHref"].endswith("/presets/greeting/ui/")

    assert client.delete(f"{PRESETS}greeting/").status_code == 204
    assert client.get(href).status_code == 404
    assert href not in _listed(client)
    assert client.delete(f"{PRESETS}greeting/").status_code == 404


@pytest.mark.parametrize("registry_config", ["unset"], indirect=True)
def test_removal_is_announced_only_after_the_href_answers_404(app: Flask, client: Any) -> None:
    href = _create(client)
    seen: list[int] = []

    def listener(sender: Flask, plugin_url: str | None = None, **kwargs: Any) -> None:
        seen.append(app.test_client().get(plugin_url).status_code)

    VIRTUAL_PLUGIN_REMOVED.connect(listener, sender=app)
    try:
        assert client.post(f"{PRESETS}greeting/remove/").status_code == 204
    finally:
        VIRTUAL_PLUGIN_REMOVED.disconnect(listener, sender=app)
    assert seen == [404], href


# notifications -----------------------------------------------------------------------------


def test_registry_gets_one_post_per_create_and_remove(client: Any, celery_worker: Any, registry: StubRegistry) -> None:
    href = _create(client)
    poll(lambda: {"posts": registry.posts()}, lambda b: len(b["posts"]) == 1)
    assert client.delete(f"{PRESETS}greeting/").status_code == 204
    poll(lambda: {"posts": registry.posts()}, lambda b: len(b["posts"]) == 2)
    posts = registry.posts()
    assert [(p["path"], p["query"], p["status"]) for p in posts] == [("/api/plugins/", {"url": [href]}, 204)] * 2
    assert registry.gets("/api/") == 1, "the collection is discovered once"


def test_failing_registry_gets_the_notification_after_retries(client: Any, celery_worker: Any, registry: StubRegistry) -> None:
    registry.fail_first = 2
    href = _create(client)
    poll(lambda: {"posts": registry.posts(204)}, lambda b: len(b["posts"]) == 1, timeout=30)
    assert [p["status"] for p in registry.posts()] == [500, 500, 204]
    assert registry.posts(204)[0]["query"] == {"url": [href]}


@pytest.mark.parametrize("registry_config", ["dead"], indirect=True)
def test_dead_registry_never_breaks_create_or_remove(client: Any, celery_worker: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="qhana_plugin_runner.registry_client")
    href = _create(client)
    assert client.delete(f"{PRESETS}greeting/").status_code == 204
    assert client.get(href).status_code == 404

    def given_up() -> dict[str, Any]:
        return {"n": sum("Registry not told" in r.getMessage() for r in caplog.records)}

    poll(given_up, lambda b: b["n"] == 2, timeout=30)


@pytest.mark.parametrize("registry_config", ["unset"], indirect=True)
def test_no_registry_url_means_no_notification(client: Any, monkeypatch: pytest.MonkeyPatch, registry: StubRegistry) -> None:
    queued: list[Any] = []
    monkeypatch.setattr(notify_registry, "apply_async", lambda *a, **k: queued.append(a))
    _create(client)
    assert client.delete(f"{PRESETS}greeting/").status_code == 204
    assert queued == [] and registry.calls == []


def test_unreachable_broker_never_breaks_the_request(tmp_path: Any, registry: StubRegistry, caplog: pytest.LogCaptureFixture) -> None:
    from qhana_plugin_runner.testing import build_app, dispose, make_test_config

    caplog.set_level(logging.ERROR, logger="qhana_plugin_runner.registry_client")
    config = make_test_config(tmp_path / "i", PLUGIN_FOLDERS=[str(ROOT / "plugins")], PLUGIN_REGISTRY_URL=registry.url())
    config["CELERY"] = {**config["CELERY"], "broker_url": f"redis://127.0.0.1:{_closed_port()}/0"}
    application = build_app(config)
    try:
        init_registry_client(application)
        client = application.test_client()
        href = _create(client)
        assert client.delete(f"{PRESETS}greeting/").status_code == 204
        assert client.get(href).status_code == 404
    finally:
        dispose(application)
    assert sum("task queue is unavailable" in r.getMessage() for r in caplog.records) == 2
    assert registry.calls == []


@pytest.mark.parametrize("collection", ["/api/plugins/", "/api/v2/plugins/"])
def test_discovery_follows_the_root_links(app: Flask, collection: str) -> None:
    registry = StubRegistry(collection=collection)
    try:
        app.config["PLUGIN_REGISTRY_URL"] = registry.url()
        notify_registry.apply(("http://localhost.localdomain/x/", "created"))
        [post] = registry.posts()
        assert (post["path"], post["status"]) == (collection, 204)
    finally:
        registry.close()


def test_root_without_links_falls_back_to_api_plugins(app: Flask) -> None:
    registry = StubRegistry(links=False)
    try:
        app.config["PLUGIN_REGISTRY_URL"] = registry.url()
        notify_registry.apply(("http://localhost.localdomain/y/", "removed"))
        assert [(p["path"], p["query"]) for p in registry.posts()] == [("/api/plugins/", {"url": ["http://localhost.localdomain/y/"]})]
    finally:
        registry.close()


@pytest.mark.parametrize(
    ("root", "expected"),
    [
        ("http://r:5006/api/", "http://r:5006/api/plugins/"),
        ("http://r:5006/api", "http://r:5006/api/plugins/"),
        ("http://r:5006", "http://r:5006/api/plugins/"),
        ("http://r/registry/api/?x=1", "http://r/registry/api/plugins/"),
    ],
)
def test_default_plugins_endpoint(root: str, expected: str) -> None:
    assert default_plugins_endpoint(root) == expected


def test_notify_task_wire_name_never_changes() -> None:
    assert notify_registry.name == NOTIFY_TASK_NAME == "qhana-plugin-runner.notify-registry"


# the client --------------------------------------------------------------------------------


def test_shared_client_follows_links_and_answers_204_as_accepted(app: Flask, registry: StubRegistry) -> None:
    assert PLUGIN_REGISTRY_CLIENT.ready and PLUGIN_REGISTRY_CLIENT.plugin_registry_url == registry.url()
    with PLUGIN_REGISTRY_CLIENT as client:
        accepted = client.fetch_by_rel(["plugin", ["plugin", "post"]], query_params={"url": "http://h/p/"})
        page = client.search_by_rel("plugin")
        missing = client.search_by_rel("plugin", allow_collection_resource=False)
    assert accepted is not None and accepted.matches_rel("accepted")
    assert registry.posts()[0]["query"] == {"url": ["http://h/p/"]}
    assert page is not None and page.is_collection_resource
    assert missing is None, "the item link answers 404"
    assert registry.gets("/api/") == 1, "the root is cached"


def test_client_errors_are_named(app: Flask, registry: StubRegistry) -> None:
    client = PluginRegistryClient(app)
    registry.fail_first = 1
    with pytest.raises(RegistryRequestError) as failed:
        client.fetch_by_api_link({"href": registry.url("/api/plugins/"), "rel": ["post"], "resourceType": "plugin"})
    assert failed.value.status_code == 500 and failed.value.retryable
    dead = PluginRegistryClient(timeout=1)
    with pytest.raises(RegistryUnavailable):
        dead.fetch_by_api_link({"href": f"http://127.0.0.1:{_closed_port()}/api/", "rel": [], "resourceType": "x"})


def test_client_without_registry_is_not_ready() -> None:
    client = PluginRegistryClient()
    assert not client.ready and client.fetch_root() is None and client.search_by_rel("plugin") is None


def test_client_sessions_are_per_thread_and_reentrant(app: Flask) -> None:
    client = PluginRegistryClient(app)
    sessions: dict[str, Any] = {}

    def other_thread() -> None:
        with client:
            sessions["other"] = client._local.session

    with client:
        outer = client._local.session
        with client:
            assert client._local.session is outer
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        assert client._local.session is outer
    assert sessions["other"] is not outer and client._local.session is None


def test_cache_entries_expire() -> None:
    now = [0.0]
    cache = TtlCache(clock=lambda: now[0], max_entries=2)
    answer = ApiResponse(data={"self": {"href": "h", "rel": ["api"], "resourceType": "api-root"}})
    cache.put("a", answer, ttl=10)
    cached = cache.get("a")
    assert cached == answer and cached is not answer
    now[0] = 10.0
    assert cache.get("a") is None and len(cache) == 0
    for key in ("b", "c", "d"):
        cache.put(key, answer, ttl=5)
    assert len(cache) == 2 and cache.get("b") is None, "the oldest entry made room"
    cache.put("e", answer, ttl=0)
    assert cache.get("e") is None


def test_match_api_link_uses_rel_and_resource_type() -> None:
    link = {"href": "h", "rel": ["collection", "post"], "resourceType": "plugin"}
    assert match_api_link(link, "plugin") and match_api_link(link, ["plugin", "post"])
    assert not match_api_link(link, ["plugin", "put"]) and not match_api_link(link, "plugin", resource_type="seed")
    assert not match_api_link(None, "plugin")
    response = ApiResponse.from_json({"data": {"self": link, "items": []}, "links": [link]})
    assert response.is_collection_resource and response.get_links_by_rel("post") == [link]
    assert ApiResponse.from_json([1, 2]).data == {"value": [1, 2]}


def test_moved_collection_is_looked_up_again(app: Flask) -> None:
    moved = StubRegistry(collection="/api/v2/plugins/")
    try:
        app.config["PLUGIN_REGISTRY_URL"] = moved.url()
        state = registry_state(app)
        state.endpoints[moved.url()] = moved.url("/api/old-plugins/")
        first = deliver(app, "http://localhost.localdomain/z/")
        assert not first.delivered and first.retry and moved.url() not in state.endpoints
        assert deliver(app, "http://localhost.localdomain/z/").delivered
        assert [p["path"] for p in moved.posts()] == ["/api/old-plugins/", "/api/v2/plugins/"]
    finally:
        moved.close()
