# SPDX-License-Identifier: Apache-2.0
"""Virtual plugins (plugins created at runtime by a parent plugin) and plugin key-value state.

Public. ``VIRTUAL_PLUGIN_CREATED`` / ``VIRTUAL_PLUGIN_REMOVED`` are sent by plugins with
``current_app._get_current_object()`` as sender and ``plugin_url=<href>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, LargeBinary, String, Text, delete, exists, select
from sqlalchemy.orm import Mapped, mapped_column

from ..db import DB, DB_SIGNALS, MODEL
from ..mutable_json import MutableJSON

__all__ = [
    "VirtualPlugin",
    "PluginState",
    "DataBlob",
    "VIRTUAL_PLUGIN_CREATED",
    "VIRTUAL_PLUGIN_REMOVED",
]

VIRTUAL_PLUGIN_CREATED = DB_SIGNALS.signal("virtual-plugin_created")
VIRTUAL_PLUGIN_REMOVED = DB_SIGNALS.signal("virtual-plugin_removed")

_MISSING: Any = object()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class VirtualPlugin(MODEL):
    """A plugin entry served by its parent plugin's blueprint at ``href``."""

    __tablename__ = "VirtualPlugin"

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    parent_id: Mapped[str] = mapped_column(String(550), index=True)
    name: Mapped[str] = mapped_column(String(500))
    version: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(Text)  # newline separated
    href: Mapped[str] = mapped_column(Text, unique=True)

    @property
    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.tags.splitlines() if tag.strip()]

    @property
    def identifier(self) -> str:
        from ...plugin_host.base import plugin_identifier

        return plugin_identifier(self.name, self.version)

    @classmethod
    def get_all(
        cls, for_parents: Iterable[str] | None = None, filters: Iterable[ColumnElement[bool]] = ()
    ) -> Sequence[VirtualPlugin]:
        query = select(cls).filter(*filters)
        if for_parents is not None:
            query = query.where(cls.parent_id.in_(list(for_parents)))
        return DB.session.execute(query.order_by(cls.id)).scalars().all()

    @classmethod
    def get_by_href(cls, href: str, parent_id: str | None = None) -> VirtualPlugin | None:
        query = select(cls).where(cls.href == href)
        if parent_id is not None:
            query = query.where(cls.parent_id == parent_id)
        return DB.session.execute(query).scalar_one_or_none()

    @classmethod
    def get_all_by_name(cls, name: str) -> Sequence[VirtualPlugin]:
        return DB.session.execute(select(cls).where(cls.name == name)).scalars().all()

    @classmethod
    def delete_by_href(cls, href: str, parent_id: str | None = None, commit: bool = False) -> None:
        query = delete(cls).where(cls.href == href)
        if parent_id is not None:
            query = query.where(cls.parent_id == parent_id)
        DB.session.execute(query)
        if commit:
            DB.session.commit()

    @classmethod
    def delete_by_name_and_version(cls, name: str, version: str, commit: bool = False) -> None:
        DB.session.execute(delete(cls).where(cls.name == name, cls.version == version))
        if commit:
            DB.session.commit()

    @classmethod
    def exists(cls, query_filter: Iterable[ColumnElement[bool]] = ()) -> bool:
        return bool(DB.session.execute(select(exists().where(*query_filter).select_from(cls))).scalar())


class _KeyValue:
    """Shared queries of the (plugin_id, key) → value tables (columns defined by subclasses)."""

    @classmethod
    def get_item(cls, plugin_id: str, key: str) -> Any:
        return DB.session.get(cls, (plugin_id, key))

    @classmethod
    def get_all_items(cls, plugin_id: str) -> Sequence[Any]:
        return DB.session.execute(select(cls).where(cls.plugin_id == plugin_id)).scalars().all()

    @classmethod
    def get_all_items_like(cls, plugin_id: str) -> Sequence[Any]:
        pattern = f"%{_escape_like(plugin_id)}%"
        query = select(cls).where(cls.plugin_id.like(pattern, escape="\\"))
        return DB.session.execute(query).scalars().all()

    @classmethod
    def get_value(cls, plugin_id: str, key: str, default: Any = _MISSING) -> Any:
        item = cls.get_item(plugin_id, key)
        if item is None:
            if default is _MISSING:
                raise KeyError(f"no value stored for plugin {plugin_id!r} under {key!r}")
            return default
        return item.value

    @classmethod
    def set_value(cls, plugin_id: str, key: str, value: Any, commit: bool = False) -> Any:
        """Store ``value`` and return the value it replaced (None if there was none)."""
        item = cls.get_item(plugin_id, key)
        old = None
        if item is None:
            DB.session.add(cls(plugin_id, key, value))  # type: ignore[call-arg]
        else:
            old, item.value = item.value, value
        if commit:
            DB.session.commit()
        return old

    @classmethod
    def delete_value(cls, plugin_id: str, key: str, commit: bool = False) -> None:
        DB.session.execute(delete(cls).where(cls.plugin_id == plugin_id, cls.key == key))  # type: ignore[arg-type]
        if commit:
            DB.session.commit()


class PluginState(_KeyValue, MODEL):
    """JSON values a plugin keeps between requests, keyed by (plugin_id, key)."""

    __tablename__ = "PluginState"

    plugin_id: Mapped[str] = mapped_column(String(550), primary_key=True)
    key: Mapped[str] = mapped_column(String(500), primary_key=True)
    value: Mapped[Any] = mapped_column(MutableJSON, nullable=True)


class DataBlob(_KeyValue, MODEL):
    """Binary values a plugin keeps between requests, keyed by (plugin_id, key)."""

    __tablename__ = "DataBlob"

    plugin_id: Mapped[str] = mapped_column(String(550), primary_key=True)
    key: Mapped[str] = mapped_column(String(500), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
