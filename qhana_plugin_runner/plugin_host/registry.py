# SPDX-License-Identifier: Apache-2.0
"""The plugins one app serves: identifier → instance, filled by the loader, frozen after start-up."""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import PluginValidationError
from .base import QHAnaPluginBase

__all__ = ["PluginRegistry"]


class PluginRegistry:
    """Loaded plugins of one app, and which of them have a mounted API."""

    def __init__(self) -> None:
        self._plugins: dict[str, QHAnaPluginBase] = {}
        self._with_api: set[str] = set()
        self._frozen = False

    def add(self, plugin: QHAnaPluginBase) -> None:
        """Register ``plugin``; its identifier must be new."""
        if self._frozen:
            raise RuntimeError("the plugin registry is frozen after start-up")
        identifier = plugin.identifier
        existing = self._plugins.get(identifier)
        if existing is not None:
            raise PluginValidationError(
                identifier,
                f"duplicate identifier: already provided by {type(existing).__module__}.{type(existing).__qualname__}",
            )
        self._plugins[identifier] = plugin

    def mark_mounted(self, identifier: str) -> None:
        self._with_api.add(identifier)

    def has_api(self, identifier: str) -> bool:
        return identifier in self._with_api

    def freeze(self) -> None:
        self._frozen = True

    def get(self, identifier: str) -> QHAnaPluginBase | None:
        return self._plugins.get(identifier)

    def newest(self, name: str) -> QHAnaPluginBase | None:
        """The plugin called ``name`` with the highest version (PEP 440 order) that has an API."""
        candidates = [p for p in self._plugins.values() if p.name == name and self.has_api(p.identifier)]
        return max(candidates, key=lambda p: p.parsed_version, default=None)

    def with_api(self) -> list[QHAnaPluginBase]:
        return [p for i, p in self._plugins.items() if i in self._with_api]

    def as_dict(self) -> dict[str, QHAnaPluginBase]:
        return dict(self._plugins)

    def __iter__(self) -> Iterator[QHAnaPluginBase]:
        return iter(list(self._plugins.values()))

    def __len__(self) -> int:
        return len(self._plugins)

    def __contains__(self, identifier: object) -> bool:
        return identifier in self._plugins
