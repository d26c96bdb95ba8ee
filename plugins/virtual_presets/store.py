# SPDX-License-Identifier: Apache-2.0
"""Where presets live, and how one is saved or removed.

A preset is three rows under the presets plugin's identifier, written and deleted in one
commit: its description in ``PluginState`` (small JSON), the hello-world values in ``DataBlob``
(any size) and the ``VirtualPlugin`` that ``/plugins/`` lists. The preset id is a slug of its
name, so the href a registry stores stays readable and a name can be used once at a time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError

from qhana_plugin_runner.db import DB
from qhana_plugin_runner.db.models.virtual_plugins import DataBlob, PluginState, VirtualPlugin

__all__ = ["Preset", "PresetExists", "slug_of", "save_preset", "load_preset", "list_presets", "delete_preset"]

VIRTUAL_NAME_PREFIX = "hello-world-preset-"
VIRTUAL_TAGS = ("hello-world", "preset")
_KEY_PREFIX = "preset:"
_SLUG_MAX = 60
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class PresetExists(Exception):
    """A preset with this id (or a plugin at its href) exists already."""


@dataclass(frozen=True)
class Preset:
    preset_id: str
    title: str
    description: str
    version: str
    href: str
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def plugin_name(self) -> str:
        """The virtual plugin's name (the registry keys plugins by name and version)."""
        return VIRTUAL_NAME_PREFIX + self.preset_id

    @property
    def plugin_description(self) -> str:
        """The virtual plugin's description (the preset's, or one saying what it runs)."""
        return self.description or f'hello-world with the saved input of the preset "{self.title}".'


def slug_of(name: str) -> str:
    """Lower-case letters and digits of ``name`` joined by "-" (at most 60 characters)."""
    slug = _NOT_SLUG.sub("-", name.lower()).strip("-")
    return slug[:_SLUG_MAX].rstrip("-")


def _key(preset_id: str) -> str:
    return _KEY_PREFIX + preset_id


def _from_state(preset_id: str, info: dict[str, Any], values: dict[str, Any]) -> Preset:
    return Preset(preset_id, info["title"], info.get("description", ""), info["version"], info["href"], values)


def save_preset(owner: str, preset: Preset) -> None:
    """Store ``preset`` and its virtual plugin in one commit.

    Raises:
        PresetExists: the id or the href is taken.
    """
    key = _key(preset.preset_id)
    if PluginState.get_item(owner, key) is not None or VirtualPlugin.get_by_href(preset.href) is not None:
        raise PresetExists(preset.preset_id)
    info = {"title": preset.title, "description": preset.description, "version": preset.version, "href": preset.href}
    PluginState.set_value(owner, key, info)
    DataBlob.set_value(owner, key, json.dumps(preset.values).encode())
    tags = "\n".join(VIRTUAL_TAGS)
    DB.session.add(VirtualPlugin(owner, preset.plugin_name, preset.version, preset.plugin_description, tags, preset.href))
    try:
        DB.session.commit()
    except IntegrityError:  # saved by a concurrent request in the meantime
        DB.session.rollback()
        raise PresetExists(preset.preset_id) from None


def load_preset(owner: str, preset_id: str) -> Preset | None:
    """The preset with this id, or None."""
    if not SLUG_PATTERN.match(preset_id):
        return None
    info = PluginState.get_value(owner, _key(preset_id), default=None)
    if not isinstance(info, dict):
        return None
    values = json.loads(DataBlob.get_value(owner, _key(preset_id), default=b"{}").decode())
    return _from_state(preset_id, info, values)


def list_presets(owner: str) -> list[Preset]:
    """Every preset of ``owner`` by id (without their values)."""
    presets = [
        _from_state(item.key[len(_KEY_PREFIX) :], item.value, {})
        for item in PluginState.get_all_items(owner)
        if item.key.startswith(_KEY_PREFIX) and isinstance(item.value, dict)
    ]
    return sorted(presets, key=lambda p: p.preset_id)


def delete_preset(owner: str, preset_id: str) -> str | None:
    """Delete the preset and its virtual plugin in one commit; returns its href (None if unknown).

    After this returns, the href answers 404: only then may the removal be announced.
    """
    preset = load_preset(owner, preset_id)
    if preset is None:
        return None
    VirtualPlugin.delete_by_href(preset.href, parent_id=owner)
    PluginState.delete_value(owner, _key(preset_id))
    DataBlob.delete_value(owner, _key(preset_id))
    DB.session.commit()
    return preset.href
