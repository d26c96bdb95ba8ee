# SPDX-License-Identifier: Apache-2.0
"""Reading and writing QHAna entity files (JSON, JSON lines, CSV) for plugins.

An entity is a flat record with at least ``ID`` and ``href``. Plugins hold entities as dicts
or as namedtuples made by :func:`get_entity_tuple_class`, and convert between the two with
:func:`ensure_dict` and :func:`ensure_tuple`. :func:`load_entities` reads a response from
:func:`qhana_plugin_runner.requests.open_url` (or an open file) lazily, entity by entity;
:func:`save_entities` writes to a text file. Numeric vectors have their own form,
:class:`ArrayEntity`, with :func:`ensure_array` and :func:`array_to_entity` to convert.
"""

from __future__ import annotations

import codecs
import csv
import json
import numbers
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, ClassVar, NamedTuple, Protocol, TextIO

__all__ = [
    "EntityTupleMixin", "get_entity_tuple_class", "ResponseLike", "entity_attribute_sort_key",
    "DefaultDialect", "ensure_dict", "ensure_tuple", "ArrayEntity", "ensure_array",
    "array_to_entity", "load_entities", "save_entities",
]  # fmt: skip

_CHUNK_SIZE = 64 * 1024
_JSON = "application/json"
_JSON_LINES = "application/x-lines+json"  # spelled application/X-lines+json in QHAna
_CSV = "text/csv"
_LEADING_ATTRIBUTES = ("ID", "GRAPH_ID", "href", "source", "target", "entities", "relations")


class EntityTupleMixin:
    """Adds name-based access to entity namedtuples.

    ``entity_attributes`` keeps the attribute names as given, even where namedtuple had to
    rename a field (``"1st"`` becomes ``_0``), so :meth:`get` and :meth:`as_dict` use the
    names found in the data.
    """

    __slots__ = ()
    entity_attributes: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "entity_attributes" not in cls.__dict__ and hasattr(cls, "_fields"):
            cls.entity_attributes = tuple(cls._fields)  # hand-written namedtuple subclass

    def get(self, key: str | int, default: Any = None) -> Any:
        """The value of an attribute given by name or position, else ``default``."""
        if isinstance(key, int):
            return self[key] if -len(self) <= key < len(self) else default  # type: ignore[arg-type, index]
        try:
            return self[self.entity_attributes.index(key)]  # type: ignore[index]
        except ValueError:
            return default

    def as_dict(self) -> dict[str, Any]:
        """The entity as a dict keyed by the original attribute names."""
        return dict(zip(self.entity_attributes, self, strict=True))  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Any:
        """Build an entity from a mapping and/or keywords; missing attributes become None.

        Keys that are not attributes of this class are ignored, so a subset of columns can
        be selected by choosing the tuple class.
        """
        values = {**(data or {}), **kwargs}
        return cls._make(values.get(name) for name in cls.entity_attributes)  # type: ignore[attr-defined]

    @classmethod
    def from_iter(cls, values: Iterable[Any]) -> Any:
        """Build an entity from values in attribute order."""
        return cls._make(values)  # type: ignore[attr-defined]


@lru_cache(maxsize=256)
def _entity_tuple_class(attributes: tuple[str, ...], name: str) -> type:
    base = namedtuple(name, attributes, rename=True)  # type: ignore[misc]
    return type(name, (EntityTupleMixin, base), {"__slots__": (), "entity_attributes": attributes})


def get_entity_tuple_class(attributes: Sequence[str], name: str = "Entity") -> type:
    """A namedtuple class with :class:`EntityTupleMixin` for ``attributes`` (cached).

    The same attributes give the same class, so entities of one file compare and pickle alike.
    """
    return _entity_tuple_class(tuple(attributes), name)


class ResponseLike(Protocol):
    """The part of ``requests.Response`` that :func:`load_entities` needs at least."""

    def json(self) -> Any: ...

    def iter_lines(self) -> Iterator[bytes | str]: ...


def entity_attribute_sort_key(attr: str) -> tuple[int, str]:
    """Sort key that puts ``ID``, ``GRAPH_ID``, ``href``, ``source``, ``target``, ``entities``
    and ``relations`` first (in that order), then all other attributes by name."""
    if attr in _LEADING_ATTRIBUTES:
        return (_LEADING_ATTRIBUTES.index(attr), "")
    return (len(_LEADING_ATTRIBUTES), attr)


class DefaultDialect(csv.Dialect):
    """QHAna's CSV flavour (registered as ``"default"``): every field quoted, CRLF lines."""

    delimiter = ","
    quotechar = '"'
    doublequote = True
    skipinitialspace = False
    lineterminator = "\r\n"
    quoting = csv.QUOTE_ALL


csv.register_dialect("default", DefaultDialect)


def _as_dict(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    if isinstance(item, EntityTupleMixin):
        return item.as_dict()
    if isinstance(item, Mapping):
        return dict(item)
    if hasattr(item, "_asdict"):
        return dict(item._asdict())
    raise TypeError(f"cannot convert {type(item).__name__} to an entity dict")


def ensure_dict(items: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """Yield each entity as a dict; dicts are passed on as they are (not copied)."""
    for item in items:
        yield _as_dict(item)


def ensure_tuple(items: Iterable[Any], tuple_: type) -> Iterator[Any]:
    """Yield each entity as an instance of ``tuple_`` (from :func:`get_entity_tuple_class`).

    Dicts and namedtuples are matched by attribute name; plain sequences by position.
    """
    for item in items:
        if type(item) is tuple_:
            yield item
        elif isinstance(item, (Mapping, EntityTupleMixin)) or hasattr(item, "_asdict"):
            yield tuple_.from_dict(_as_dict(item))
        else:
            yield tuple_.from_iter(item)


class ArrayEntity(NamedTuple):
    """An entity whose other attributes form one numeric vector."""

    ID: str
    href: str
    values: list[int | float | None]


def _to_number(value: Any, strict: bool) -> int | float | None:
    if isinstance(value, numbers.Real):
        return value  # type: ignore[return-value]
    if isinstance(value, str):
        for parse in (int, float):
            try:
                return parse(value)
            except ValueError:
                pass
    if strict:
        raise ValueError(f"entity value {value!r} is not a number")
    return None


def ensure_array(items: Iterable[Any], strict: bool = False) -> Iterator[ArrayEntity]:
    """Yield entities as :class:`ArrayEntity`, the non-ID attributes sorted by name.

    Strings are parsed as int, else float; other values that are not numbers become None,
    or raise ValueError when ``strict``. The input entities are not modified (the original
    popped ``ID`` and ``href`` out of dict inputs).
    """
    for item in items:
        if isinstance(item, ArrayEntity):
            yield item
            continue
        entity = dict(_as_dict(item))
        entity_id, href = entity.pop("ID", None), entity.pop("href", None)
        values = [_to_number(entity[key], strict) for key in sorted(entity)]
        yield ArrayEntity(entity_id, href, values)  # type: ignore[arg-type]


def array_to_entity(
    items: Iterable[ArrayEntity | Sequence[Any]],
    prefix: str = "dim",
    suffix: str = "",
    tuple_: type | None = None,
) -> Iterator[Any]:
    """Inverse of :func:`ensure_array`: yield entity tuples with one attribute per value.

    Attribute names are zero-padded (``dim0`` … ``dim9``, or ``dim00`` … ``dim10``) so that
    sorting by name, as :func:`ensure_array` does, keeps the vector order.
    """
    for entity_id, href, values in items:
        entity_type = tuple_
        if entity_type is None:
            width = len(str(max(len(values) - 1, 0)))
            names = [f"{prefix}{index:0{width}d}{suffix}" for index in range(len(values))]
            entity_type = get_entity_tuple_class(["ID", "href", *names])
        yield entity_type.from_iter([entity_id, href, *values])


def _base_mimetype(mimetype: str) -> str:
    return mimetype.split(";", 1)[0].strip().lower()


def _read_chunks(file_: Any) -> Iterator[bytes | str]:
    while chunk := file_.read(_CHUNK_SIZE):
        yield chunk


def _text_chunks(file_: Any) -> Iterator[str]:
    """Text of a response or an open (text or binary) file, in chunks.

    Bytes are decoded as UTF-8 whatever the response declares, as QHAna writes all entity
    files in UTF-8 (and requests would assume ISO-8859-1 for ``text/csv`` without charset).
    A byte order mark, as spreadsheet programs write it, is skipped.
    """
    if hasattr(file_, "iter_content"):
        chunks: Iterable[bytes | str] = file_.iter_content(_CHUNK_SIZE)
    elif hasattr(file_, "read"):
        chunks = _read_chunks(file_)
    else:  # a bare ResponseLike: lines lose their endings, so add them back
        chunks = (
            line + (b"\n" if isinstance(line, bytes) else "\n") for line in file_.iter_lines()
        )
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    for chunk in chunks:
        yield decoder.decode(chunk) if isinstance(chunk, bytes) else chunk
    yield decoder.decode(b"", final=True)


def _text_lines(file_: Any) -> Iterator[str]:
    """Lines split on ``\\n`` only, line ends kept, so csv sees quoted line breaks intact."""
    pending = ""
    for chunk in _text_chunks(file_):
        *lines, pending = (pending + chunk).split("\n")
        for line in lines:
            yield line + "\n"
    if pending:
        yield pending


def _load_json(file_: Any) -> Iterator[Any]:
    data = file_.json() if hasattr(file_, "json") else json.loads("".join(_text_chunks(file_)))
    if isinstance(data, list):
        yield from data
    else:
        yield data


def _load_json_lines(file_: Any) -> Iterator[Any]:
    for line in _text_lines(file_):
        if line.strip():
            yield json.loads(line)


def _load_csv(
    file_: Any,
    csv_dialect: str | csv.Dialect | type[csv.Dialect],
    tuple_: type | None,
    process_csv_header: Callable[[list[str]], list[str]] | None,
) -> Iterator[Any]:
    reader = csv.reader(_text_lines(file_), dialect=csv_dialect)
    try:
        yield from _csv_entities(reader, tuple_, process_csv_header)
    except csv.Error as err:  # malformed CSV is bad input, like malformed JSON
        raise ValueError(f"CSV line {reader.line_num}: {err}") from None


def _csv_entities(
    reader: Any,
    tuple_: type | None,
    process_csv_header: Callable[[list[str]], list[str]] | None,
) -> Iterator[Any]:
    header = next(reader, None)
    if header is None:
        return
    if process_csv_header is not None:
        header = process_csv_header(header)
    by_name = tuple_ is not None and tuple(tuple_.entity_attributes) != tuple(header)
    entity_type = tuple_ or get_entity_tuple_class(header)
    for row in reader:
        if not row:
            continue
        if len(row) > len(header):
            raise ValueError(f"CSV line {reader.line_num} has more cells than the header")
        if by_name or len(row) < len(header):
            yield entity_type.from_dict(dict(zip(header, row, strict=False)))  # short rows: None
        else:
            yield entity_type.from_iter(row)


def load_entities(
    file_: ResponseLike | TextIO | Any,
    mimetype: str,
    csv_dialect: str | csv.Dialect | type[csv.Dialect] = "default",
    tuple_: type | None = None,
    process_csv_header: Callable[[list[str]], list[str]] | None = None,
) -> Iterator[Any]:
    """Lazily read the entities of a response (see :func:`~qhana_plugin_runner.requests.open_url`)
    or an open file.

    JSON gives dicts (a single object is yielded once), JSON lines one dict per line, and
    CSV entity tuples of ``tuple_`` or of a class made from the header row (matched by
    name when ``tuple_`` has other attributes; missing cells become None). CSV cells stay
    strings; use :mod:`~qhana_plugin_runner.plugin_utils.attributes` to convert them.
    ``process_csv_header`` may rewrite the header names before the class is made.

    Raises:
        ValueError: for a media type other than ``application/json``,
            ``application/X-lines+json`` and ``text/csv``; while reading, for data that is
            not valid in its format (also as ``json.JSONDecodeError`` or
            ``UnicodeDecodeError``, both ``ValueError``).
    """
    kind = _base_mimetype(mimetype)
    if kind == _JSON:
        return _load_json(file_)
    if kind == _JSON_LINES:
        return _load_json_lines(file_)
    if kind == _CSV:
        return _load_csv(file_, csv_dialect, tuple_, process_csv_header)
    raise ValueError(f"cannot load entities from {mimetype!r} data")


def _json_default(value: Any) -> Any:
    """Sets (unordered multi-valued attributes) are written as JSON arrays."""
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)  # any order is right; a stable one makes diffs small
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def save_entities(
    entities: Iterable[Any],
    file_: TextIO | Any,
    mimetype: str,
    attributes: Sequence[str] | None = None,
    csv_dialect: str | csv.Dialect | type[csv.Dialect] = "default",
    tuple_: type | None = None,
) -> None:
    """Write ``entities`` (dicts or entity tuples) to the text file ``file_``.

    JSON is written compactly as one array followed by a newline; JSON lines as one compact
    object per line. CSV writes a header of ``attributes`` and one row per entity, with only
    those attributes (missing ones as empty cells); a ``tuple_`` given for CSV must have
    exactly these attributes in this order.

    Raises:
        ValueError: for an unsupported media type, or CSV without ``attributes``.
    """
    kind = _base_mimetype(mimetype)
    if kind == _JSON:
        file_.write(
            json.dumps(list(ensure_dict(entities)), separators=(",", ":"), default=_json_default)
        )
        file_.write("\n")
    elif kind == _JSON_LINES:
        for entity in ensure_dict(entities):
            file_.write(json.dumps(entity, separators=(",", ":"), default=_json_default) + "\n")
    elif kind == _CSV:
        if not attributes:
            raise ValueError("saving entities as CSV needs the list of attributes")
        writer = csv.writer(file_, dialect=csv_dialect)
        writer.writerow(attributes)
        writer.writerows(ensure_tuple(entities, tuple_ or get_entity_tuple_class(attributes)))
    else:
        raise ValueError(f"cannot save entities as {mimetype!r}")
