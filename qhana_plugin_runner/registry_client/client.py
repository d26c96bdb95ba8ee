# SPDX-License-Identifier: Apache-2.0
"""``PluginRegistryClient``: follows the plugin registry's links from its API root.

A client reads ``PLUGIN_REGISTRY_URL`` (the registry's ``/api/`` root) from the app it was
given, or else from the current app, at every call, so one shared client follows the
configuration. It is safe to share between threads: a ``with client:`` block opens one HTTP
session for the calling thread (nested blocks reuse it, other threads get their own), and a
call outside such a block uses a session of its own that is closed when the call returns.

GET answers from the registry root and from links with the ``api`` relation are cached; each
entry expires ``PLUGIN_REGISTRY_CACHE_TTL`` seconds (default one day) after it was stored.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import current_app, has_app_context

from .cache import TtlCache
from .errors import RegistryError, RegistryRequestError, RegistryResponseError, RegistryUnavailable
from .types import ApiLink, ApiResponse, RelSpec, match_api_link

if TYPE_CHECKING:
    import requests
    from flask import Flask

__all__ = ["PluginRegistryClient", "DEFAULT_TIMEOUT", "DEFAULT_CACHE_TTL"]

DEFAULT_TIMEOUT = 5.0
DEFAULT_CACHE_TTL = 24 * 3600.0
_MAX_SEARCH_DEPTH = 4
_HEADERS = {"Accept": "application/json"}
_METHOD_BY_REL = (("post", "POST"), ("put", "PUT"), ("delete", "DELETE"))


def _with_query(href: str, params: Mapping[str, Any] | None) -> str:
    """``href`` with ``params`` added to (or replacing values in) its query string."""
    if not params:
        return href
    parts = urlsplit(href)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update({key: str(value) for key, value in params.items() if value is not None})
    return urlunsplit(parts._replace(query=urlencode(query)))


def _method_of(link: Mapping[str, Any]) -> str:
    rels = link.get("rel") or ()
    return next((method for rel, method in _METHOD_BY_REL if rel in rels), "GET")


class PluginRegistryClient:
    """Client of the plugin registry API; usable as a (re-entrant, per-thread) context manager.

    Args:
        app: read the configuration from this app instead of the current one.
        timeout: seconds per request (default ``PLUGIN_REGISTRY_TIMEOUT``, else 5).
        cache_ttl: seconds a cached answer stays valid (default ``PLUGIN_REGISTRY_CACHE_TTL``).
        clock: the time source of the cache (tests pass a fake one).
    """

    def __init__(
        self,
        app: Flask | None = None,
        timeout: float | None = None,
        cache_ttl: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # a client a plugin builds for its app may keep it; the runner's shared one never does
        self._app = app
        self._timeout = timeout
        self._cache_ttl = cache_ttl
        self.cache = TtlCache(clock)
        self._local = threading.local()

    # configuration -----------------------------------------------------------------------

    def _config(self) -> Mapping[str, Any]:
        if self._app is not None:
            return self._app.config
        return current_app.config if has_app_context() else {}

    @property
    def plugin_registry_url(self) -> str | None:
        """The registry API root (``PLUGIN_REGISTRY_URL``), or None when none is configured."""
        url = str(self._config().get("PLUGIN_REGISTRY_URL") or "").strip()
        return url or None

    @property
    def ready(self) -> bool:
        """Whether a registry is configured (nothing says it answers)."""
        return self.plugin_registry_url is not None

    @property
    def timeout(self) -> float:
        if self._timeout is not None:
            return self._timeout
        return float(self._config().get("PLUGIN_REGISTRY_TIMEOUT", DEFAULT_TIMEOUT))

    @property
    def cache_ttl(self) -> float:
        if self._cache_ttl is not None:
            return self._cache_ttl
        return float(self._config().get("PLUGIN_REGISTRY_CACHE_TTL", DEFAULT_CACHE_TTL))

    # sessions ----------------------------------------------------------------------------

    def __enter__(self) -> PluginRegistryClient:
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            import requests  # at the first registry call, not with the app (see errors.py)

            self._local.session = requests.Session()
        self._local.depth = depth + 1
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._local.depth -= 1
        if self._local.depth == 0:
            session, self._local.session = self._local.session, None
            session.close()

    @contextmanager
    def _session(self) -> Iterator[requests.Session]:
        session = getattr(self._local, "session", None)
        if session is not None:
            yield session
            return
        import requests

        with requests.Session() as own:
            yield own

    # requests ----------------------------------------------------------------------------

    def _send(self, method: str, url: str, body: Any, json: Any) -> tuple[int, Any]:
        """Status and decoded JSON body (None for 204/404 and empty bodies)."""
        import requests

        try:
            with self._session() as session, session.request(
                method, url, data=body, json=json, headers=_HEADERS, timeout=self.timeout
            ) as response:
                status = response.status_code
                if status in (204, 404) or (status < 400 and not response.content):
                    return status, None
                if status >= 400:
                    raise RegistryRequestError(method, url, status)
                try:
                    return status, response.json()
                except ValueError as err:
                    raise RegistryResponseError(f"{method} {url}: the answer is not JSON") from err
        except (requests.ConnectionError, requests.Timeout) as err:
            raise RegistryUnavailable(f"{method} {url}: {err}") from err
        except requests.RequestException as err:
            raise RegistryError(f"{method} {url}: {err}") from err

    def _request(
        self,
        method: str,
        href: str,
        query_params: Mapping[str, Any] | None = None,
        body: Any = None,
        json: Any = None,
        *,
        cache: bool = False,
        resource_type: str = "accepted",
    ) -> ApiResponse | None:
        url = _with_query(href, query_params)
        if method == "GET":
            cached = self.cache.get(url)
            if cached is not None:
                return cached
        status, payload = self._send(method, url, body, json)
        if status == 404:
            return None
        if payload is None:
            return ApiResponse.accepted(url, resource_type)
        answer = ApiResponse.from_json(payload)
        if method == "GET" and (cache or answer.matches_rel("api")):
            self.cache.put(url, answer, self.cache_ttl)
        return answer

    def fetch_root(self) -> ApiResponse | None:
        """The registry's API root (cached), or None when no registry is configured."""
        url = self.plugin_registry_url
        return None if url is None else self._request("GET", url, cache=True)

    def fetch_by_api_link(
        self, link: ApiLink | Mapping[str, Any], query_params: Mapping[str, Any] | None = None, body: Any = None, json: Any = None
    ) -> ApiResponse | None:
        """Request ``link``: POST, PUT or DELETE if its rel says so, else GET; None on 404.

        Raises:
            RegistryUnavailable: the registry did not answer.
            RegistryRequestError: it answered with an error status.
        """
        method = _method_of(link)
        if method == "GET":
            return self._request("GET", link["href"], query_params, cache="api" in (link.get("rel") or ()))
        resource_type = link.get("resourceType") or "accepted"
        return self._request(method, link["href"], query_params, body, json, resource_type=resource_type)

    def fetch_by_rel(
        self,
        rels_path: RelSpec | Sequence[RelSpec],
        query_params: Mapping[str, Any] | None = None,
        body: Any = None,
        json: Any = None,
        base: ApiResponse | None = None,
    ) -> ApiResponse | None:
        """Follow one link per entry of ``rels_path`` from ``base`` (default: the root).

        Intermediate links are fetched with GET; the last one with the method its rel names,
        ``query_params`` and the body. A string is a path of one step. None when a step has
        no matching link (or answers 404).
        """
        steps: list[RelSpec] = [rels_path] if isinstance(rels_path, str) else list(rels_path)
        current = base if base is not None else self.fetch_root()
        for index, rels in enumerate(steps):
            links = current.get_links_by_rel(rels) if current is not None else []
            if not links:
                return None
            if index == len(steps) - 1:
                return self.fetch_by_api_link(links[0], query_params, body, json)
            current = self._request("GET", links[0]["href"], cache="api" in (links[0].get("rel") or ()))
        return current

    def search_by_rel(
        self,
        rel: RelSpec,
        query_params: Mapping[str, Any] | None = None,
        body: Any = None,
        json: Any = None,
        allow_collection_resource: bool = True,
        base: ApiResponse | None = None,
        ignore_base_match: bool = False,
    ) -> ApiResponse | None:
        """Depth-first search from ``base`` (default: the root) for a resource matching ``rel``.

        Links matching ``rel`` are followed first (with ``query_params``); when a collection is
        not wanted, its matching items are tried. Then links with the ``api`` relation are
        searched, up to a few levels deep. Returns None when nothing matches.
        """
        start = base if base is not None else self.fetch_root()
        if start is None:
            return None
        search = _Search(self, rel, query_params, body, json, allow_collection_resource)
        if not ignore_base_match and search.accepts(start):
            return start
        return search.run(start, 0)


class _Search:
    """State of one :meth:`PluginRegistryClient.search_by_rel` walk (visited links)."""

    def __init__(self, client: PluginRegistryClient, rel: RelSpec, query: Mapping[str, Any] | None, body: Any, json: Any, allow_collection: bool) -> None:
        self.client, self.rel, self.query, self.body, self.json = client, rel, query, body, json
        self.allow_collection = allow_collection
        self.visited: set[str] = set()

    def accepts(self, response: ApiResponse) -> bool:
        return response.matches_rel(self.rel) and (self.allow_collection or not response.is_collection_resource)

    def _first_visit(self, href: str) -> bool:
        if href in self.visited:
            return False
        self.visited.add(href)
        return True

    def run(self, response: ApiResponse, depth: int) -> ApiResponse | None:
        for link in response.get_links_by_rel(self.rel):
            found = self._follow(link)
            if found is not None:
                return found
        if depth >= _MAX_SEARCH_DEPTH:
            return None
        for link in response.get_links_by_rel("api"):
            if not self._first_visit(link["href"]):
                continue
            nested = self.client.fetch_by_api_link(link)
            found = self.run(nested, depth + 1) if nested is not None else None
            if found is not None:
                return found
        return None

    def _follow(self, link: ApiLink) -> ApiResponse | None:
        if not self._first_visit(_with_query(link["href"], self.query)):
            return None
        found = self.client.fetch_by_api_link(link, self.query, self.body, self.json)
        if found is None or self.accepts(found):
            return found
        if not found.is_collection_resource:
            return None
        for item in found.items():
            if match_api_link(item, self.rel) and self._first_visit(item["href"]):
                resource = self.client.fetch_by_api_link(item)
                if resource is not None and self.accepts(resource):
                    return resource
        return None
