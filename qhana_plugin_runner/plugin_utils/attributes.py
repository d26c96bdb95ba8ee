# SPDX-License-Identifier: Apache-2.0
"""Attribute metadata for entities, and converters between typed values and their text form.

Entity files (CSV in particular) store every value as a string. An attribute metadata file,
itself a list of entities, says which type each attribute has and whether it holds several
values joined by a separator. Plugins read it with :func:`parse_attribute_metadata` and
build converters for whole entities with :func:`tuple_deserializer` / :func:`dict_deserializer`
(and the matching serializers for writing).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from .entity_marshalling import ensure_dict

__all__ = [
    "AttributeMetadata", "parse_bool", "parse_optional_value", "parse_multi",
    "default_serialize", "serialize_multi", "SERIALIZER_MAP", "DESERIALIZER_MAP",
    "parse_attribute_metadata", "tuple_serializer", "tuple_deserializer",
    "dict_serializer", "dict_deserializer",
]  # fmt: skip

_T = TypeVar("_T")
Converter = Callable[[Any], Any]

_TRUE: Final = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE: Final = frozenset({"", "0", "false", "f", "no", "n", "off", "null", "nil", "none"})
_METADATA_KEYS: Final = frozenset(
    {
        "ID",
        "type",
        "title",
        "description",
        "multiple",
        "ordered",
        "separator",
        "refTarget",
        "schema",
    }
)


def parse_bool(value: str | bool) -> bool:
    """Read a boolean written by any common convention (``yes``, ``t``, ``1``, ``off`` …).

    The empty string is False: an empty CSV cell means "not set", and the original raised
    ValueError for it, which broke metadata files with empty ``multiple`` columns.

    Raises:
        ValueError: for any other text.
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not a boolean")


def parse_optional_value(value: Any, deserialize: Callable[[Any], _T]) -> _T | None:
    """``deserialize(value)``, except that None and the empty string mean "no value"."""
    if value is None or value == "":
        return None
    return deserialize(value)


def parse_multi(
    value: Any,
    deserialize: Callable[[Any], _T],
    separator: str = ";",
    collection: Callable[[Iterable[_T]], Collection[_T]] = list,
) -> Collection[_T]:
    """Split a multi-valued attribute and convert each part.

    The empty string (and None) is the empty collection. A list or set, as found in JSON
    entities, is converted item by item without splitting.
    """
    if value is None or value == "":
        return collection(())
    parts = value.split(separator) if isinstance(value, str) else value
    return collection(deserialize(part) for part in parts)


def default_serialize(value: Any) -> str:
    """Text form of a single value: None is empty, booleans are ``true``/``false``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def serialize_multi(value: Iterable[Any], serialize: Converter, separator: str = ";") -> str:
    """Join the serialized items of a multi-valued attribute.

    Sets are written in sorted order so that equal sets give equal text. Items must not
    contain the separator; there is no escaping.
    """
    parts = [serialize(item) for item in value]
    if isinstance(value, (set, frozenset)):
        parts.sort()
    return separator.join(parts)


def _identity(value: Any) -> Any:
    return value


def _optional(deserialize: Converter) -> Converter:
    return lambda value: parse_optional_value(value, deserialize)


_TYPE_NAMES: Final = ("default", "string", "str", "integer", "int", "float", "double", "number")

SERIALIZER_MAP: Final[dict[str, Converter]] = {
    name: default_serialize for name in (*_TYPE_NAMES, "bool", "boolean")
}
"""Serializer per attribute type; every type is written with :func:`default_serialize`."""

DESERIALIZER_MAP: Final[dict[str, Converter]] = {
    "default": _identity,
    "string": _identity,
    "str": _identity,
    "integer": _optional(int),
    "int": _optional(int),
    "float": _optional(float),
    "double": _optional(float),
    "number": _optional(float),
    "bool": _optional(parse_bool),
    "boolean": _optional(parse_bool),
}
"""Deserializer per attribute type; for typed attributes an empty string becomes None."""


@dataclass
class AttributeMetadata:
    """Describes one attribute of an entity type, as one entity of a metadata file."""

    ID: str
    attribute_type: str
    title: str
    description: str = ""
    multiple: bool = False
    ordered: bool = False
    separator: str = ";"
    ref_target: str | None = None
    schema: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AttributeMetadata:
        """Read the JSON/CSV form; unknown keys are kept in ``extra``.

        CSV metadata files give every value as text, so the flags are parsed and empty
        cells mean "not set".
        """
        return cls(
            ID=data["ID"],
            attribute_type=data.get("type") or "default",
            title=data.get("title") or data["ID"],
            description=data.get("description") or "",
            multiple=parse_bool(data.get("multiple") or False),
            ordered=parse_bool(data.get("ordered") or False),
            separator=data.get("separator") or ";",
            ref_target=data.get("refTarget") or None,
            schema=data.get("schema") or None,
            extra={key: value for key, value in data.items() if key not in _METADATA_KEYS},
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form read by :meth:`from_dict`."""
        return {
            **self.extra,
            "ID": self.ID,
            "type": self.attribute_type,
            "title": self.title,
            "description": self.description,
            "multiple": self.multiple,
            "ordered": self.ordered,
            "separator": self.separator,
            "refTarget": self.ref_target,
            "schema": self.schema,
        }


def parse_attribute_metadata(entities: Iterable[Any]) -> dict[str, AttributeMetadata]:
    """Map attribute ID to metadata for the entities of an attribute metadata file."""
    metadata = (AttributeMetadata.from_dict(entity) for entity in ensure_dict(entities))
    return {meta.ID: meta for meta in metadata}


def _converter(attribute: str, meta: Mapping[str, AttributeMetadata], serialize: bool) -> Converter:
    """The converter for one attribute; unknown attributes and types use the defaults."""
    table = SERIALIZER_MAP if serialize else DESERIALIZER_MAP
    attr_meta = meta.get(attribute)
    if attr_meta is None:
        return table["default"]
    single = table.get(attr_meta.attribute_type.lower(), table["default"])
    if not attr_meta.multiple:
        return single
    separator = attr_meta.separator
    if serialize:
        return lambda value: serialize_multi(value, single, separator)
    collection = list if attr_meta.ordered else set
    return lambda value: parse_multi(value, single, separator, collection)


def _tuple_converter(
    attributes: Sequence[str], meta: Mapping[str, AttributeMetadata], tuple_: type, serialize: bool
) -> Callable[[Sequence[Any]], Any]:
    converters = [_converter(attribute, meta, serialize) for attribute in attributes]
    make = getattr(tuple_, "_make", tuple_)  # namedtuple classes take values one by one

    def convert(entity: Sequence[Any]) -> Any:
        return make(to_value(value) for to_value, value in zip(converters, entity, strict=True))

    return convert


def tuple_serializer(
    attributes: Sequence[str], meta: Mapping[str, AttributeMetadata], tuple_: type = tuple
) -> Callable[[Sequence[Any]], Any]:
    """A function turning an entity tuple (values in ``attributes`` order) into text values.

    Multi-valued attributes are joined with their separator.
    """
    return _tuple_converter(attributes, meta, tuple_, serialize=True)


def tuple_deserializer(
    attributes: Sequence[str], meta: Mapping[str, AttributeMetadata], tuple_: type = tuple
) -> Callable[[Sequence[Any]], Any]:
    """A function turning an entity tuple of text values (``attributes`` order) into typed values.

    Multi-valued attributes become a list when ``ordered``, else a set.
    """
    return _tuple_converter(attributes, meta, tuple_, serialize=False)


def _dict_converter(
    attributes: Sequence[str],
    meta: Mapping[str, AttributeMetadata],
    in_place: bool,
    serialize: bool,
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    converters = {attribute: _converter(attribute, meta, serialize) for attribute in attributes}

    def convert(entity: dict[str, Any]) -> dict[str, Any]:
        target = entity if in_place else dict(entity)
        for key, value in entity.items():
            if key in converters:
                target[key] = converters[key](value)
        return target

    return convert


def dict_serializer(
    attributes: Sequence[str], meta: Mapping[str, AttributeMetadata], in_place: bool = True
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function turning the ``attributes`` of an entity dict into text values.

    Keys not in ``attributes`` are passed through unchanged (the original raised KeyError).
    With ``in_place`` the given dict is changed and returned, else a converted copy.
    """
    return _dict_converter(attributes, meta, in_place, serialize=True)


def dict_deserializer(
    attributes: Sequence[str], meta: Mapping[str, AttributeMetadata], in_place: bool = True
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function turning the text values of an entity dict's ``attributes`` into typed ones.

    Keys not in ``attributes`` are passed through unchanged (the original raised KeyError).
    With ``in_place`` the given dict is changed and returned, else a converted copy.
    """
    return _dict_converter(attributes, meta, in_place, serialize=False)
