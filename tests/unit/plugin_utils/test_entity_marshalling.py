# SPDX-License-Identifier: Apache-2.0
"""Tests for qhana_plugin_runner.plugin_utils.entity_marshalling."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections import namedtuple
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from qhana_plugin_runner.plugin_utils.entity_marshalling import (
    ArrayEntity,
    EntityTupleMixin,
    array_to_entity,
    ensure_array,
    ensure_dict,
    ensure_tuple,
    entity_attribute_sort_key,
    get_entity_tuple_class,
    load_entities,
    save_entities,
)
from qhana_plugin_runner.requests import REQUEST_SESSION

JSON_LINES = "application/X-lines+json"

# attribute names include ones namedtuple must rename (digits first, keywords, spaces)
names = st.text(alphabet="abcXYZ_01 -", min_size=1, max_size=8).filter(
    lambda name: name not in ("ID", "href")
)
attribute_lists = st.lists(names, max_size=6, unique=True).map(lambda rest: ["ID", "href", *rest])
# CSV text may hold quotes, separators and line breaks; surrogates cannot be encoded as UTF-8
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
json_values = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts


@st.composite
def entity_dicts(
    draw: st.DrawFn, values: st.SearchStrategy[Any] = json_values, min_size: int = 0
) -> list[dict[str, Any]]:
    """Entities that share one list of attributes."""
    attributes = draw(attribute_lists)
    rows = st.fixed_dictionaries({name: values for name in attributes})
    return draw(st.lists(rows, min_size=min_size, max_size=5))


def as_response(text: str, mimetype: str) -> requests.Response:
    """Serve ``text`` as a real requests response, through a data: URL."""
    payload = base64.b64encode(text.encode("utf-8")).decode()
    return REQUEST_SESSION.get(f"data:{mimetype};base64,{payload}")


class LinesOnly:
    """A bare ResponseLike: only json() and iter_lines(), like a minimal test double."""

    def __init__(self, text: str) -> None:
        self.text = text

    def json(self) -> Any:
        return json.loads(self.text)

    def iter_lines(self) -> Iterator[bytes]:
        return iter(self.text.encode().splitlines())


def saved(entities: Any, mimetype: str, **kwargs: Any) -> str:
    out = io.StringIO()
    save_entities(entities, out, mimetype, **kwargs)
    return out.getvalue()


# --- entity tuples --------------------------------------------------------------------------


def test_entity_tuple_access_by_index_and_name() -> None:
    entity_type = get_entity_tuple_class(["ID", "href", "1st", "class"])
    entity = entity_type("e1", "http://e1", 1.5, "c")
    assert entity._fields == ("ID", "href", "_2", "_3")  # renamed by namedtuple
    assert entity.get("1st") == 1.5 and entity.get("class") == "c"
    assert entity.get(0) == "e1" and entity.get(-1) == "c"
    assert entity.get("missing", "default") == "default"
    assert entity.get(4) is None
    assert entity.as_dict() == {"ID": "e1", "href": "http://e1", "1st": 1.5, "class": "c"}


def test_entity_tuple_constructors() -> None:
    entity_type = get_entity_tuple_class(["ID", "href", "value"])
    assert entity_type.from_dict({"ID": "a"}, value=3) == ("a", None, 3)
    assert entity_type.from_dict(ID="a", href="h", value=1, ignored=2) == ("a", "h", 1)
    assert entity_type.from_iter(iter(["a", "h", 1])) == ("a", "h", 1)
    with pytest.raises(TypeError):
        entity_type.from_iter(["a", "h"])


def test_entity_tuple_classes_are_cached() -> None:
    first = get_entity_tuple_class(["ID", "href"])
    assert get_entity_tuple_class(("ID", "href")) is first
    assert get_entity_tuple_class(["ID", "href", "x"]) is not first
    assert issubclass(first, EntityTupleMixin) and issubclass(first, tuple)


def test_mixin_on_a_hand_written_namedtuple() -> None:
    class Point(EntityTupleMixin, namedtuple("Point", ["ID", "x"])):
        __slots__ = ()

    assert Point.entity_attributes == ("ID", "x")
    assert Point("p", 2).get("x") == 2
    assert Point.from_dict(ID="p").as_dict() == {"ID": "p", "x": None}


@given(entity_dicts(min_size=1))
def test_dict_tuple_dict_round_trip(entities: list[dict[str, Any]]) -> None:
    entity_type = get_entity_tuple_class(list(entities[0]))
    tuples = list(ensure_tuple(entities, entity_type))
    assert all(type(entity) is entity_type for entity in tuples)
    assert list(ensure_dict(tuples)) == entities


def test_ensure_dict_and_tuple_accept_all_forms() -> None:
    entity_type = get_entity_tuple_class(["ID", "href"])
    plain = namedtuple("Plain", ["href", "ID"])("h", "a")
    item = {"ID": "a", "href": "h"}
    dicts = list(ensure_dict([item, entity_type("a", "h"), plain]))
    assert dicts == [item] * 3 and dicts[0] is item
    assert (
        list(ensure_tuple([plain, ("a", "h"), entity_type("a", "h")], entity_type))
        == [("a", "h")] * 3
    )
    with pytest.raises(TypeError, match="list"):
        list(ensure_dict([["a", "h"]]))


def test_entity_attribute_sort_key() -> None:
    attributes = [
        "zeta",
        "relations",
        "alpha",
        "href",
        "target",
        "GRAPH_ID",
        "entities",
        "source",
        "ID",
    ]
    assert sorted(attributes, key=entity_attribute_sort_key) == [
        "ID", "GRAPH_ID", "href", "source", "target", "entities", "relations", "alpha", "zeta",
    ]  # fmt: skip


def test_default_dialect_is_registered() -> None:
    dialect = csv.get_dialect("default")
    assert (dialect.delimiter, dialect.quotechar, dialect.lineterminator) == (",", '"', "\r\n")
    assert dialect.quoting == csv.QUOTE_ALL


# --- JSON and JSON lines --------------------------------------------------------------------


@given(entity_dicts(), st.booleans())
def test_json_round_trip(entities: list[dict[str, Any]], from_tuples: bool) -> None:
    source = entities
    if from_tuples and entities:
        source = list(ensure_tuple(entities, get_entity_tuple_class(list(entities[0]))))
    text = saved(source, "application/json")
    assert json.loads(text) == entities
    assert text == json.dumps(json.loads(text), separators=(",", ":")) + "\n"  # compact, one line
    with as_response(text, "application/json") as response:
        assert list(load_entities(response, "application/json")) == entities
    assert list(load_entities(io.StringIO(text), "application/json; charset=utf-8")) == entities


@given(entity_dicts())
def test_json_lines_round_trip(entities: list[dict[str, Any]]) -> None:
    text = saved(iter(entities), JSON_LINES)
    assert text.count("\n") == len(entities)
    with as_response(text, JSON_LINES) as response:
        assert list(load_entities(response, JSON_LINES)) == entities
    assert list(load_entities(io.BytesIO(text.encode()), "application/x-lines+json")) == entities
    assert list(load_entities(LinesOnly(text), JSON_LINES)) == entities


def test_single_json_object_is_yielded_once() -> None:
    assert list(load_entities(LinesOnly('{"ID": "only"}'), "application/json")) == [{"ID": "only"}]


def test_sets_are_saved_as_sorted_json_arrays() -> None:
    assert (
        saved([{"ID": "a", "tags": {"b", "a"}}], "application/json")
        == '[{"ID":"a","tags":["a","b"]}]\n'
    )


# --- CSV ------------------------------------------------------------------------------------


@given(entity_dicts(values=texts, min_size=1))
def test_csv_round_trip(entities: list[dict[str, Any]]) -> None:
    attributes = list(entities[0])
    text = saved(entities, "text/csv", attributes=attributes)
    with as_response(text, "text/csv") as response:
        loaded = list(load_entities(response, "text/csv"))
    assert [entity.as_dict() for entity in loaded] == entities
    assert [entity.as_dict() for entity in load_entities(io.StringIO(text), "text/csv")] == entities
    assert saved(loaded, "text/csv", attributes=attributes) == text  # stable on the second trip


def test_csv_writes_only_the_given_attributes() -> None:
    entities = [{"ID": "a", "href": "h", "x": 1, "dropped": 2}, {"ID": "b", "href": "i"}]
    text = saved(entities, "text/csv", attributes=["ID", "href", "x"])
    assert text == '"ID","href","x"\r\n"a","h","1"\r\n"b","i",""\r\n'


def test_csv_header_hook_tuple_matching_and_short_rows() -> None:
    text = "href,ID,Value\r\nh1,a\r\nh2,b,2\r\n"
    lowered = list(
        load_entities(
            LinesOnly(text), "text/csv", process_csv_header=lambda h: [n.lower() for n in h]
        )
    )
    assert lowered[1].as_dict() == {"href": "h2", "id": "b", "value": "2"}
    assert lowered[0].as_dict() == {"href": "h1", "id": "a", "value": None}
    entity_type = get_entity_tuple_class(["ID", "href"])
    assert list(load_entities(io.StringIO(text), "text/csv", tuple_=entity_type)) == [
        ("a", "h1"),
        ("b", "h2"),
    ]


def test_csv_reading_details() -> None:
    bom = "\ufeff" + '"ID","href"\r\n"a","h"\r\n\r\n'
    assert list(load_entities(io.BytesIO(bom.encode()), "text/csv")) == [("a", "h")]
    assert list(load_entities(io.StringIO(""), "text/csv")) == []
    with pytest.raises(ValueError, match="line 2"):
        list(load_entities(io.StringIO("ID\r\na,b\r\n"), "text/csv"))


def test_unsupported_formats_and_csv_without_attributes() -> None:
    with pytest.raises(ValueError, match="text/plain"):
        load_entities(io.StringIO(""), "text/plain")
    with pytest.raises(ValueError, match="text/html"):
        save_entities([], io.StringIO(), "text/html")
    with pytest.raises(ValueError, match="attributes"):
        save_entities([{"ID": "a"}], io.StringIO(), "text/csv")


# --- arrays ---------------------------------------------------------------------------------


def test_ensure_array_converts_sorts_and_keeps_input() -> None:
    item = {"ID": "a", "href": "h", "b": "2.5", "a": "1", "c": "n/a", "d": 7}
    snapshot = dict(item)
    assert list(ensure_array([item])) == [ArrayEntity("a", "h", [1, 2.5, None, 7])]
    assert item == snapshot  # the original popped ID and href out of the caller's dict
    array = ArrayEntity("x", "y", [1])
    assert next(ensure_array([array])) is array
    with pytest.raises(ValueError, match="n/a"):
        list(ensure_array([item], strict=True))


def test_array_to_entity_pads_names() -> None:
    (entity,) = array_to_entity([ArrayEntity("a", "h", list(range(11)))], prefix="x", suffix="_")
    assert entity.entity_attributes[:3] == ("ID", "href", "x00_")
    assert entity.entity_attributes[-1] == "x10_"
    assert next(array_to_entity([("b", "i", [])])).as_dict() == {"ID": "b", "href": "i"}


@given(st.lists(st.integers() | st.floats(allow_nan=False, allow_infinity=False), max_size=12))
def test_array_round_trip_through_csv(values: list[float]) -> None:
    entities = list(array_to_entity([ArrayEntity("a", "h", values)]))
    text = saved(entities, "text/csv", attributes=entities[0].entity_attributes)
    assert list(ensure_array(load_entities(io.StringIO(text), "text/csv"))) == [
        ArrayEntity("a", "h", values)
    ]


def test_malformed_csv_is_a_value_error() -> None:
    # found by tests/fuzz/test_properties.py: csv.Error is no ValueError, so callers missed it
    with pytest.raises(ValueError, match="CSV line 2"):
        list(load_entities(io.StringIO("a,b\r\n1\r2,3\r\n"), "text/csv"))
