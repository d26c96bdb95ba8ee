# SPDX-License-Identifier: Apache-2.0
"""The shapes of the plugin registry's REST API, as the client reads them.

The registry answers every resource as ``{"data": {"self": <link>, ...}, "links": [...],
"keyedLinks": [...], "embedded": [...]}``. A link names its target resource with ``href``,
``resourceType`` and a list of relations ``rel`` (``collection``, ``page``, ``nav``, ``api``,
``post``, ...). Link relations are matched by :func:`match_api_link`: a wanted relation is
satisfied by an entry of ``rel`` or by the link's ``resourceType``, so ``"plugin"`` finds the
plugin collection and ``["plugin", "post"]`` the link that creates (or announces) a plugin.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

__all__ = [
    "ApiLink",
    "KeyedApiLink",
    "ApiObject",
    "ApiResponse",
    "RelSpec",
    "match_api_link",
]


class _ApiLinkRequired(TypedDict):
    href: str
    resourceType: str
    rel: Sequence[str]


class ApiLink(_ApiLinkRequired, total=False):
    """A link to a registry resource (``schema``, ``doc``, ``name``, ``resourceKey`` optional)."""

    schema: str
    doc: str
    name: str
    resourceKey: dict[str, str]


class KeyedApiLink(ApiLink, total=False):
    """A templated link: ``key`` names the variables of ``href``, ``queryKey`` its query arguments."""

    key: Sequence[str]
    queryKey: Sequence[str]


class ApiObject(TypedDict, total=False):
    """The ``data`` part of a response; ``self`` links to the resource itself."""

    self: ApiLink


RelSpec = str | Sequence[str]
"""One wanted relation, or several that must all be present."""


def _wanted(rels: RelSpec) -> tuple[str, ...]:
    return (rels,) if isinstance(rels, str) else tuple(rels)


def match_api_link(link: Mapping[str, Any] | None, rels: RelSpec, resource_type: str | None = None) -> bool:
    """Whether ``link`` carries every relation in ``rels`` (its ``resourceType`` counts as one).

    With ``resource_type`` the link's ``resourceType`` must also be exactly that.
    """
    if not link:
        return False
    link_type = link.get("resourceType")
    if resource_type is not None and link_type != resource_type:
        return False
    present = set(link.get("rel") or ())
    if link_type:
        present.add(link_type)
    return all(rel in present for rel in _wanted(rels))


@dataclass(frozen=True)
class ApiResponse:
    """One registry response; a 204 answer becomes a response whose self link has rel ``accepted``."""

    data: dict[str, Any]
    links: Sequence[ApiLink] = ()
    keyed_links: Sequence[KeyedApiLink] = ()
    embedded: Sequence[ApiResponse] | None = field(default=None)

    @classmethod
    def from_json(cls, payload: Any) -> ApiResponse:
        """Read a decoded JSON body; a body that is not an API response becomes ``data`` as is."""
        if not isinstance(payload, dict) or "data" not in payload:
            return cls(data=payload if isinstance(payload, dict) else {"value": payload})
        data = payload.get("data")
        embedded = payload.get("embedded")
        return cls(
            data=data if isinstance(data, dict) else {"value": data},
            links=[link for link in payload.get("links") or () if isinstance(link, dict)],
            keyed_links=[link for link in payload.get("keyedLinks") or () if isinstance(link, dict)],
            embedded=[cls.from_json(e) for e in embedded] if isinstance(embedded, list) else None,
        )

    @classmethod
    def accepted(cls, href: str, resource_type: str = "accepted") -> ApiResponse:
        """The stand-in for an empty (204) answer to a request for ``href``."""
        return cls(data={"self": {"href": href, "rel": ["accepted"], "resourceType": resource_type}})

    @property
    def self(self) -> ApiLink | None:
        """The link to this resource, if the response has one."""
        link = self.data.get("self")
        return link if isinstance(link, dict) else None

    def get_links_by_rel(self, rels: RelSpec, resource_type: str | None = None) -> list[ApiLink]:
        """Every link of this response matching ``rels`` (see :func:`match_api_link`)."""
        return [link for link in self.links if match_api_link(link, rels, resource_type)]

    def matches_rel(self, rels: RelSpec, resource_type: str | None = None) -> bool:
        """Whether this response's own self link matches ``rels``."""
        return match_api_link(self.self, rels, resource_type)

    @property
    def is_collection_resource(self) -> bool:
        """A collection or a page of one (self link rel ``collection``, or a list of ``items``)."""
        return "collection" in ((self.self or {}).get("rel") or ()) or isinstance(self.data.get("items"), list)

    def items(self) -> list[ApiLink]:
        """The item links of a collection resource (empty for other resources)."""
        return [item for item in self.data.get("items") or () if isinstance(item, dict)]

    def copy(self) -> ApiResponse:
        """A deep copy, so a cached response can be handed out and changed safely."""
        return copy.deepcopy(self)
