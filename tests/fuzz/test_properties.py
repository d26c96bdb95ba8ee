# SPDX-License-Identifier: Apache-2.0
"""Hypothesis properties of the parsers that meet client or foreign input.

Form and JSON bodies go through the runner's schemas and fields; plugin metadata comes back
from other runners; entity and attribute files, file names and URLs come from wherever a
client points a plugin. Each of these must either succeed or fail with its documented error,
and what can be written must read back the same. Examples per property: ``QHANA_FUZZ_EXAMPLES``
(default 25) times four, derandomized, so the module stays under a minute and CI is
deterministic.
"""

from __future__ import annotations

import enum
import io
import json
import os
import string
from typing import Any

import marshmallow as ma
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qhana_plugin_runner.api.extra_fields import CSVList, EnumField
from qhana_plugin_runner.api.plugin_schemas import (
    ApiLink,
    DataMetadata,
    EntryPoint,
    InputDataMetadata,
    OutputDataMetadata,
    PluginDependencyMetadata,
    PluginMetadata,
    PluginMetadataSchema,
    PluginType,
)
from qhana_plugin_runner.api.util import FileUrl, FrontendFormBaseSchema, PluginUrl
from qhana_plugin_runner.errors import ConfigError
from qhana_plugin_runner.plugin_utils import attributes as attrs
from qhana_plugin_runner.plugin_utils.entity_marshalling import (
    get_entity_tuple_class,
    load_entities,
    save_entities,
)
from qhana_plugin_runner.storage.base import FileStore

EXAMPLES = 4 * int(os.environ.get("QHANA_FUZZ_EXAMPLES", "25"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)

# ---------------------------------------------------------------- form parsing


class Color(enum.Enum):
    red = "Red colour"
    green = "Green colour"


class Form(FrontendFormBaseSchema):
    """A form with each field type the runner offers plugins, plus the common marshmallow ones."""

    text = ma.fields.String(required=True)
    count = ma.fields.Integer()
    ratio = ma.fields.Float()
    flag = ma.fields.Boolean()
    data_url = FileUrl(data_input_type="entity/list", data_content_types=["text/csv"])
    plugin_url = PluginUrl(plugin_tags=["optimizer"])
    color = EnumField(Color)
    color_by_value = EnumField(Color, use_value=True)
    numbers = CSVList(ma.fields.Integer())
    colors = CSVList(EnumField(Color))


FORM_KEYS = ["text", "count", "ratio", "flag", "dataUrl", "pluginUrl", "color", "colorByValue", "numbers", "colors"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10,
)
form_values = st.one_of(
    st.text(),
    st.lists(st.text(), max_size=3),
    st.sampled_from(["", "red", "green", "Red colour", "1,2", "red, green", "data:text/plain,x", "http://a/b", "file:///x"]),
    json_values,
)
form_data = st.dictionaries(st.sampled_from(FORM_KEYS) | st.text(max_size=8), form_values, max_size=8)


@PROPERTY
@given(data=form_data, unknown=st.sampled_from([ma.EXCLUDE, ma.INCLUDE, ma.RAISE]))
def test_form_loading_fails_only_with_validation_errors(data: dict[str, Any], unknown: str) -> None:
    try:
        loaded = Form(unknown=unknown).load(data)
    except ma.ValidationError:
        return
    assert "text" in loaded


@PROPERTY
@given(data=form_data)
def test_form_validation_as_result_never_raises(data: dict[str, Any]) -> None:
    errors = Form(partial=True, unknown=ma.EXCLUDE, validate_errors_as_result=True).load(data)
    assert isinstance(errors, dict)


element_text = st.text(string.ascii_letters + string.digits + "_-. ", min_size=1).map(str.strip).filter(bool)


@PROPERTY
@given(
    values=st.fixed_dictionaries(
        {"text": st.text()},
        optional={
            "count": st.integers(),
            "ratio": st.floats(allow_nan=False, allow_infinity=False),
            "flag": st.booleans(),
            "color": st.sampled_from(Color),
            "color_by_value": st.sampled_from(Color),
            "numbers": st.lists(st.integers(), max_size=5),
            "colors": st.lists(st.sampled_from(Color), max_size=3),
        },
    )
)
def test_form_dump_loads_back(values: dict[str, Any]) -> None:
    assert Form().load(Form().dump(values)) == values


@PROPERTY
@given(items=st.lists(element_text, max_size=6))
def test_csv_list_of_text_round_trips(items: list[str]) -> None:
    field = CSVList(ma.fields.String())
    assert field.deserialize(field.serialize("v", {"v": items})) == items


# ---------------------------------------------------------------- plugin metadata

url_part = st.text(string.ascii_lowercase + string.digits + "-_.~@", min_size=1, max_size=12).filter(lambda p: p not in (".", ".."))
relative_urls = st.lists(url_part, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts) + "/")
absolute_urls = st.tuples(st.sampled_from(["http", "https"]), st.sampled_from(["localhost:5005", "example.org", "10.0.0.1"]), relative_urls).map(
    lambda t: f"{t[0]}://{t[1]}{t[2]}"
)
urls = relative_urls | absolute_urls
texts = st.text(max_size=20)
media_types = st.lists(st.sampled_from(["text/csv", "application/json", "application/X-lines+json", "*"]), max_size=3)
version_specs = st.from_regex(r"\A(>=|<|==|~=)?v?[0-9]{1,3}(\.[0-9]{1,3}){0,2}\Z")


def _data(kind: type) -> st.SearchStrategy[Any]:
    common = {"data_type": texts, "content_type": media_types, "required": st.booleans()}
    if kind is InputDataMetadata:
        return st.builds(InputDataMetadata, parameter=texts, **common)
    if kind is OutputDataMetadata:
        return st.builds(OutputDataMetadata, name=st.none() | texts, **common)
    return st.builds(DataMetadata, **common)


metadata = st.builds(
    PluginMetadata,
    title=texts,
    description=texts,
    name=texts,
    version=texts,
    type=st.sampled_from(PluginType),
    entry_point=st.builds(
        EntryPoint,
        href=urls,
        ui_href=urls,
        data_input=st.lists(_data(DataMetadata) | _data(InputDataMetadata), max_size=2),
        data_output=st.lists(_data(DataMetadata) | _data(OutputDataMetadata), max_size=2),
        plugin_dependencies=st.lists(
            st.builds(
                PluginDependencyMetadata,
                parameter=texts,
                required=st.booleans(),
                name=st.none() | texts,
                version=st.none() | version_specs,
                tags=st.none() | st.lists(texts, max_size=2),
                type=st.none() | st.sampled_from(PluginType),
            ),
            max_size=2,
        ),
    ),
    tags=st.lists(texts, max_size=3),
    links=st.lists(st.builds(ApiLink, type=texts, href=urls), max_size=2),
)


@PROPERTY
@given(plugin=metadata)
def test_plugin_metadata_dump_loads_back(plugin: PluginMetadata) -> None:
    schema = PluginMetadataSchema()
    document = json.loads(json.dumps(schema.dump(plugin)))  # as another runner would send it
    assert schema.load(document) == plugin


@st.composite
def damaged_metadata(draw: st.DrawFn) -> Any:
    """Valid metadata with one value anywhere replaced by arbitrary JSON."""
    document: Any = PluginMetadataSchema().dump(draw(metadata))
    if draw(st.booleans()):
        return draw(json_values)
    node = document
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            return document
        key = draw(st.sampled_from(keys))
        if not isinstance(node[key], dict | list) or draw(st.booleans()):
            node[key] = draw(json_values)
            return document
        node = node[key]


@PROPERTY
@given(document=damaged_metadata())
def test_foreign_plugin_metadata_fails_only_with_validation_errors(document: Any) -> None:
    try:
        PluginMetadataSchema().load(document)
    except ma.ValidationError:
        pass


# ---------------------------------------------------------------- URL rewrite rules


@PROPERTY
@given(
    rules=st.lists(st.tuples(st.sampled_from([r"^http://localhost", r"(?P<host>[a-z]+)\.test", r"^(\w+)://", "x"]), st.text(max_size=10)), max_size=3),
    url=st.text(max_size=40),
)
def test_rewrite_rules_that_load_never_fail_at_request_time(rules: list[tuple[str, str]], url: str) -> None:
    from flask import Flask

    from qhana_plugin_runner.config import _compile_rewrite_rules
    from qhana_plugin_runner.requests import rewrite_url

    try:
        compiled = _compile_rewrite_rules(rules)
    except ConfigError:
        return
    app = Flask(__name__)
    app.config["URL_REWRITE_RULES"] = compiled
    with app.app_context():
        assert isinstance(rewrite_url(url), str)


# ---------------------------------------------------------------- file names in the store


@PROPERTY
@given(name=st.text(max_size=300) | st.text(min_size=240, max_size=300))
def test_sanitized_file_names_are_one_usable_component(name: str) -> None:
    try:
        clean = FileStore.sanitize_file_name(name)
    except ValueError:
        return
    assert clean not in ("", ".", "..") and "/" not in clean and "\\" not in clean
    assert clean.isprintable() and clean == clean.strip()
    assert len(clean.encode()) <= 255 - len("-9999"), "no room for the store's collision suffix"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from flask import Flask

    from qhana_plugin_runner.storage.local import LocalFileStore

    app = Flask(__name__)
    app.config["FILE_STORE_ROOT_PATH"] = str(tmp_path_factory.mktemp("store"))
    return LocalFileStore(app)


@PROPERTY
@given(name=st.text(max_size=300) | st.text(min_size=240, max_size=300))
def test_any_usable_name_can_be_stored(store: Any, name: str) -> None:
    try:
        clean = FileStore.sanitize_file_name(name)
    except ValueError:
        return
    target = store._reserve_target(f"task_1/out/{clean}", b"")
    store.persist_file(b"data", target)
    assert store.path_of(target).read_bytes() == b"data"


@PROPERTY
@given(stored=st.text(max_size=60))
def test_store_paths_stay_inside_the_root(store: Any, stored: str) -> None:
    try:
        path = store.path_of(stored)
    except ValueError:
        return
    assert path.is_relative_to(store.root)


# ---------------------------------------------------------------- attribute values


@PROPERTY
@given(text=st.text(max_size=10))
def test_parse_bool_reads_or_raises_value_error(text: str) -> None:
    try:
        assert isinstance(attrs.parse_bool(text), bool)
    except ValueError:
        pass


typed_values = {
    "integer": st.integers(),
    "float": st.floats(allow_nan=False),
    "boolean": st.booleans(),
    "string": st.text(alphabet=st.characters(blacklist_characters=";")),
}


@st.composite
def typed_entities(draw: st.DrawFn) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    names = draw(st.lists(st.text(string.ascii_letters, min_size=1, max_size=6), min_size=1, max_size=4, unique=True))
    meta, entity = {}, {}
    for name in names:
        kind, multiple = draw(st.sampled_from(sorted(typed_values))), draw(st.booleans())
        ordered = draw(st.booleans())
        meta[name] = attrs.AttributeMetadata(name, kind, name, multiple=multiple, ordered=ordered)
        one = typed_values[kind]
        if not multiple:
            entity[name] = draw(st.none() | one) if kind != "string" else draw(one)
        elif ordered:
            entity[name] = draw(st.lists(one.filter(lambda v: v != ""), max_size=3))
        else:
            entity[name] = draw(st.sets(one.filter(lambda v: v != ""), max_size=3))
    return names, meta, entity


@PROPERTY
@given(case=typed_entities())
def test_attribute_values_survive_text_form(case: tuple[list[str], dict[str, Any], dict[str, Any]]) -> None:
    names, meta, entity = case
    text = attrs.dict_serializer(names, meta, in_place=False)(entity)
    assert all(isinstance(value, str) for value in text.values())
    assert attrs.dict_deserializer(names, meta, in_place=False)(text) == entity


@PROPERTY
@given(case=typed_entities())
def test_attribute_metadata_round_trips(case: tuple[list[str], dict[str, Any], dict[str, Any]]) -> None:
    _, meta, _ = case
    documents = json.loads(json.dumps([m.to_dict() for m in meta.values()]))
    assert attrs.parse_attribute_metadata(documents) == meta


# ---------------------------------------------------------------- entity files

cell_text = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)


# text made mostly of the characters that structure JSON and CSV
structured_text = st.text(st.sampled_from(list(',;"\'\r\n\t {}[]:a1\\\x00')), max_size=60) | st.text(max_size=200)


@PROPERTY
@given(text=structured_text, kind=st.sampled_from(["application/json", "application/X-lines+json", "text/csv"]))
def test_loading_arbitrary_text_fails_only_with_value_error(text: str, kind: str) -> None:
    try:
        list(load_entities(io.StringIO(text), kind))
    except ValueError:
        pass


@PROPERTY
@given(data=st.binary(max_size=200), kind=st.sampled_from(["application/json", "application/X-lines+json", "text/csv"]))
def test_loading_arbitrary_bytes_fails_only_with_value_error(data: bytes, kind: str) -> None:
    try:
        list(load_entities(io.BytesIO(data), kind))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError included
        pass


@PROPERTY
@given(
    header=st.lists(st.text(string.ascii_letters + "_ ", min_size=1, max_size=6), min_size=1, max_size=4, unique=True),
    rows=st.lists(st.lists(cell_text, min_size=4, max_size=4), max_size=4),
)
def test_csv_entities_round_trip(header: list[str], rows: list[list[str]]) -> None:
    entity_type = get_entity_tuple_class(header)
    entities = [entity_type.from_iter(row[: len(header)]) for row in rows]
    out = io.StringIO()
    save_entities(entities, out, "text/csv", attributes=header)
    assert list(load_entities(io.StringIO(out.getvalue()), "text/csv")) == entities


@PROPERTY
@given(entities=st.lists(st.dictionaries(st.text(max_size=6), json_values, max_size=4), max_size=4))
def test_json_entities_round_trip(entities: list[dict[str, Any]]) -> None:
    for kind in ("application/json", "application/X-lines+json"):
        out = io.StringIO()
        save_entities(entities, out, kind)
        assert list(load_entities(io.StringIO(out.getvalue()), kind)) == entities

