# SPDX-License-Identifier: Apache-2.0
"""Tests for qhana_plugin_runner.plugin_utils.attributes."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qhana_plugin_runner.plugin_utils.attributes import (
    DESERIALIZER_MAP,
    SERIALIZER_MAP,
    AttributeMetadata,
    default_serialize,
    dict_deserializer,
    dict_serializer,
    parse_attribute_metadata,
    parse_bool,
    parse_multi,
    parse_optional_value,
    serialize_multi,
    tuple_deserializer,
    tuple_serializer,
)
from qhana_plugin_runner.plugin_utils.entity_marshalling import (
    get_entity_tuple_class,
    load_entities,
    save_entities,
)

# items of multi-valued attributes must not contain the separator and must not be empty
# ("" and [""] have the same text form)
items = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=";"), min_size=1)
floats = st.floats(allow_nan=False)

META = {
    "n": AttributeMetadata("n", "integer", "n"),
    "x": AttributeMetadata("x", "double", "x"),
    "flag": AttributeMetadata("flag", "boolean", "flag"),
    "name": AttributeMetadata("name", "string", "name"),
    "steps": AttributeMetadata("steps", "int", "steps", multiple=True, ordered=True),
    "tags": AttributeMetadata("tags", "string", "tags", multiple=True, separator="|"),
}
ATTRIBUTES = ["ID", "n", "x", "flag", "name", "steps", "tags"]  # "ID" has no metadata

entities = st.fixed_dictionaries(
    {
        "ID": st.text(max_size=5),
        "n": st.none() | st.integers(),
        "x": st.none() | floats,
        "flag": st.none() | st.booleans(),
        "name": st.text(),  # strings have no "missing" form: None would come back as ""
        "steps": st.lists(st.integers()),
        "tags": st.sets(items.filter(lambda item: "|" not in item)),
    }
)


@pytest.mark.parametrize("text", ["1", "true", "T", " Yes ", "y", "ON", True])
def test_parse_bool_true(text: str) -> None:
    assert parse_bool(text) is True


@pytest.mark.parametrize(
    "text", ["0", "false", "F", "no", "n", "off", "null", "nil", "None", "", False]
)
def test_parse_bool_false(text: str) -> None:
    assert parse_bool(text) is False


@pytest.mark.parametrize("text", ["2", "maybe", "truthy"])
def test_parse_bool_rejects_other_text(text: str) -> None:
    with pytest.raises(ValueError, match=text):
        parse_bool(text)


def test_value_helpers() -> None:
    assert parse_optional_value("", int) is None and parse_optional_value(None, int) is None
    assert parse_optional_value("4", int) == 4
    assert parse_multi("1;2;1", int) == [1, 2, 1]
    assert parse_multi("a,b,a", str, ",", set) == {"a", "b"}
    assert parse_multi("", int) == [] and parse_multi(None, int, collection=set) == set()
    assert parse_multi([1, "2"], int) == [1, 2]  # JSON arrays are not split
    assert [default_serialize(v) for v in (None, True, False, 3, 1.5)] == [
        "",
        "true",
        "false",
        "3",
        "1.5",
    ]
    assert serialize_multi({"b", "c", "a"}, str) == "a;b;c"
    assert serialize_multi([3, 1], str, ",") == "3,1"


def test_type_maps_cover_the_same_types() -> None:
    types = {
        "default",
        "string",
        "str",
        "integer",
        "int",
        "float",
        "double",
        "number",
        "bool",
        "boolean",
    }
    assert set(SERIALIZER_MAP) == types == set(DESERIALIZER_MAP)
    assert DESERIALIZER_MAP["number"]("2") == 2.0 and DESERIALIZER_MAP["bool"]("yes") is True
    assert DESERIALIZER_MAP["str"]("") == "" and DESERIALIZER_MAP["integer"]("") is None


# --- AttributeMetadata ----------------------------------------------------------------------


metadata = st.builds(
    AttributeMetadata,
    ID=st.text(min_size=1),
    attribute_type=st.sampled_from(sorted(DESERIALIZER_MAP) + ["ref"]),
    title=st.text(min_size=1),
    description=st.text(),
    multiple=st.booleans(),
    ordered=st.booleans(),
    separator=st.sampled_from([";", ",", "|"]),
    ref_target=st.none() | st.text(min_size=1),
    schema=st.none() | st.text(min_size=1),
    extra=st.dictionaries(st.sampled_from(["unit", "x-order"]), st.text()),
)


@given(metadata)
def test_metadata_dict_round_trip(meta: AttributeMetadata) -> None:
    assert AttributeMetadata.from_dict(meta.to_dict()) == meta


def test_metadata_from_dict_defaults_and_extra() -> None:
    meta = AttributeMetadata.from_dict(
        {"ID": "a", "type": "ref", "refTarget": "b.csv", "unit": "m"}
    )
    assert (meta.title, meta.multiple, meta.separator, meta.ref_target) == (
        "a",
        False,
        ";",
        "b.csv",
    )
    assert meta.extra == {"unit": "m"}
    assert meta.to_dict()["refTarget"] == "b.csv" and meta.to_dict()["unit"] == "m"
    assert (
        AttributeMetadata("x", "string", "x").extra
        is not AttributeMetadata("y", "string", "y").extra
    )


def test_metadata_from_csv_file() -> None:
    """Metadata files are entity files; in CSV every flag is text and empty cells are unset."""
    rows = [meta.to_dict() for meta in META.values()]
    columns = [
        "ID",
        "type",
        "title",
        "description",
        "multiple",
        "ordered",
        "separator",
        "refTarget",
        "schema",
    ]
    out = io.StringIO()
    save_entities(rows, out, "text/csv", attributes=columns)
    out.seek(0)
    parsed = parse_attribute_metadata(load_entities(out, "text/csv"))
    assert parsed == META
    assert parsed["tags"].multiple is True and parsed["tags"].ordered is False


# --- entity (de)serializers -----------------------------------------------------------------


@given(entities)
def test_tuple_round_trip(entity: dict[str, Any]) -> None:
    values = tuple(entity[attribute] for attribute in ATTRIBUTES)
    serialize = tuple_serializer(ATTRIBUTES, META)
    text = serialize(values)
    assert all(isinstance(value, str) for value in text)
    assert tuple_deserializer(ATTRIBUTES, META)(text) == values


@given(entities)
def test_tuple_round_trip_with_entity_tuples(entity: dict[str, Any]) -> None:
    entity_type = get_entity_tuple_class(ATTRIBUTES)
    typed = entity_type.from_dict(entity)
    text = tuple_serializer(ATTRIBUTES, META, tuple_=entity_type)(typed)
    assert type(text) is entity_type
    result = tuple_deserializer(ATTRIBUTES, META, tuple_=entity_type)(text)
    assert result == typed
    assert isinstance(result.get("steps"), list) and isinstance(result.get("tags"), set)


@given(entities, st.booleans())
def test_dict_round_trip(entity: dict[str, Any], in_place: bool) -> None:
    original = dict(entity)
    text = dict_serializer(ATTRIBUTES, META, in_place=in_place)(entity)
    assert (text is entity) == in_place
    if not in_place:
        assert entity == original
    assert dict_deserializer(ATTRIBUTES, META, in_place=in_place)(dict(text)) == original


def test_dict_converters_pass_unknown_keys_through() -> None:
    entity = {"ID": "a", "n": "5", "href": "http://a", "other": "7"}
    assert dict_deserializer(["ID", "n"], META)(entity) == {
        "ID": "a",
        "n": 5,
        "href": "http://a",
        "other": "7",
    }
    assert dict_serializer(["n"], META, in_place=False)({"n": 5, "other": 1}) == {
        "n": "5",
        "other": 1,
    }


def test_unknown_type_and_attribute_use_defaults() -> None:
    meta = {"r": AttributeMetadata("r", "ref", "r")}
    assert tuple_deserializer(["r", "unlisted"], meta)(("e1", "7")) == ("e1", "7")
    assert tuple_serializer(["r", "unlisted"], meta)((None, True)) == ("", "true")


def test_tuple_length_must_match_attributes() -> None:
    with pytest.raises(ValueError):
        tuple_deserializer(["n", "x"], META)(("1",))
