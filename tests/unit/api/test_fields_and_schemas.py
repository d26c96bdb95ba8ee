"""The schema building blocks plugins use: camelCase keys, form validation as data, URL fields,
EnumField, CSVList and the metadata schemas."""

from __future__ import annotations

import enum
from typing import Any

import marshmallow as ma
import pytest

from qhana_plugin_runner.api.extra_fields import CSVList, EnumField
from qhana_plugin_runner.api.plugin_schemas import (
    DataMetadata,
    EntryPoint,
    InputDataMetadata,
    OutputDataMetadata,
    PluginDependencyMetadata,
    PluginDependencyMetadataSchema,
    PluginMetadata,
    PluginMetadataSchema,
    PluginType,
)
from qhana_plugin_runner.api.util import (
    FileUrl,
    FrontendFormBaseSchema,
    MaBaseSchema,
    PluginUrl,
    camelcase,
)


class Color(enum.Enum):
    red = "Red colour"
    green = "Green colour"


class Form(FrontendFormBaseSchema):
    input_str = ma.fields.String(required=True)
    data_url = FileUrl(required=True, data_input_type="entity/list", data_content_types=["text/csv", "application/json"])
    other_plugin = PluginUrl(required=False, plugin_tags=["optimizer"])
    color = EnumField(Color, required=False)
    numbers = CSVList(ma.fields.Integer(), required=False)


def test_camelcase() -> None:
    assert camelcase("input_str") == "inputStr"
    assert camelcase("a_b_c") == "aBC"
    assert camelcase("plain") == "plain"


def test_keys_are_camel_case_for_load_and_dump() -> None:
    class S(MaBaseSchema):
        some_value = ma.fields.Integer()

    assert S().load({"someValue": 3}) == {"some_value": 3}
    assert S().dump({"some_value": 3}) == {"someValue": 3}


def test_validate_errors_as_result_returns_errors_not_data() -> None:
    schema = Form(partial=True, unknown=ma.EXCLUDE, validate_errors_as_result=True)
    assert schema.load({"inputStr": "x", "unknown": "1"}) == {}
    errors = schema.load({"dataUrl": "not a url", "color": "purple"})
    assert set(errors) == {"dataUrl", "color"}
    assert Form(validate_errors_as_result=True).load({}) == {
        "inputStr": ["Missing data for required field."],
        "dataUrl": ["Missing data for required field."],
    }


@pytest.mark.parametrize(
    "url",
    [
        "http://backend:9090/experiments/1/data/x/download?version=1",
        "https://example.org/file.csv",
        "data:text/plain;base64,aGVsbG8=",
        "data:application/json,%7B%7D",
        "file:///tmp/x.csv",
        "file://localhost/tmp/x.csv",
    ],
)
def test_file_url_accepts(url: str) -> None:
    assert Form(partial=True).load({"dataUrl": url})["data_url"] == url


@pytest.mark.parametrize("url", ["file://otherhost/etc/passwd", "gopher://x/y", "data:nonsense", "no url at all"])
def test_file_url_rejects(url: str) -> None:
    with pytest.raises(ma.ValidationError) as info:
        Form(partial=True).load({"dataUrl": url})
    assert "dataUrl" in info.value.messages


def test_plugin_url_never_accepts_file_urls() -> None:
    with pytest.raises(ma.ValidationError):
        Form(partial=True).load({"otherPlugin": "file:///etc/passwd"})
    assert Form(partial=True).load({"otherPlugin": "http://runner:5005/plugins/x@v1/"})["other_plugin"].startswith("http://runner")


def test_empty_url_is_none_unless_required() -> None:
    assert Form(partial=True).load({"otherPlugin": ""})["other_plugin"] is None
    with pytest.raises(ma.ValidationError) as info:
        Form().load({"inputStr": "x", "dataUrl": ""})
    assert "dataUrl" in info.value.messages


def test_url_field_metadata_for_the_form_template() -> None:
    fields = Form().fields
    assert fields["data_url"].metadata["data_input_type"] == "entity/list"
    assert fields["data_url"].metadata["data_content_types"] == ["text/csv", "application/json"]
    assert fields["other_plugin"].metadata["plugin_tags"] == ["optimizer"]


def test_enum_field_loads_names_dumps_names_and_lists_options() -> None:
    schema = Form(partial=True)
    assert schema.load({"color": "green"})["color"] is Color.green
    assert schema.load({"color": ""})["color"] is None
    assert schema.dump({"color": Color.red}) == {"color": "red"}
    assert list(schema.fields["color"].metadata["options"].items()) == [("red", "Red colour"), ("green", "Green colour")]
    with pytest.raises(ma.ValidationError):
        schema.load({"color": "Red colour"})


def test_enum_field_by_value_and_relabelled_options() -> None:
    field = EnumField(Color, use_value=True, metadata={"options": {Color.green: "G", "": "none"}})
    assert field.deserialize("Green colour") is Color.green
    assert list(field.metadata["options"].items()) == [("", "none"), ("green", "G")]


def test_csv_list_round_trip() -> None:
    schema = Form(partial=True)
    assert schema.load({"numbers": "1, 2,3"})["numbers"] == [1, 2, 3]
    assert schema.load({"numbers": ""})["numbers"] == []
    assert schema.dump({"numbers": [4, 5]}) == {"numbers": "4,5"}
    with pytest.raises(ma.ValidationError):
        schema.load({"numbers": "1,x"})


def _metadata(outputs: list[Any]) -> PluginMetadata:
    return PluginMetadata(
        title="T", description="D", name="n", version="v1.0.0", type=PluginType.dataloader,
        entry_point=EntryPoint(
            href="/p/process/", ui_href="/p/ui/",
            data_input=[InputDataMetadata(data_type="entity/list", content_type=["text/csv"], required=True, parameter="dataUrl")],
            data_output=outputs,
            plugin_dependencies=[PluginDependencyMetadata(parameter="opt", required=False, tags=["optimizer", "!slow"])],
        ),
        tags=["a"],
    )


def test_plugin_metadata_dump_has_the_registry_keys() -> None:
    dumped = PluginMetadataSchema().dump(
        _metadata([OutputDataMetadata(data_type="entity/list", content_type=["text/csv"], required=True, name="out.csv"),
                   DataMetadata(data_type="x/y", content_type=["text/plain"], required=False)])
    )
    assert set(dumped) == {"title", "description", "name", "version", "type", "entryPoint", "tags", "links"}
    assert dumped["type"] == "dataloader" and dumped["links"] == []
    entry = dumped["entryPoint"]
    assert entry["uiHref"] == "/p/ui/"
    assert entry["dataInput"] == [{"dataType": "entity/list", "contentType": ["text/csv"], "required": True, "parameter": "dataUrl"}]
    assert entry["dataOutput"][0]["name"] == "out.csv"
    assert "name" not in entry["dataOutput"][1]
    assert entry["pluginDependencies"] == [{"parameter": "opt", "required": False, "tags": ["optimizer", "!slow"]}]


def test_plugin_metadata_round_trip() -> None:
    schema = PluginMetadataSchema()
    loaded = schema.load(schema.dump(_metadata([])))
    assert isinstance(loaded, PluginMetadata) and loaded.type is PluginType.dataloader
    assert loaded.entry_point.data_input[0].parameter == "dataUrl"


@pytest.mark.parametrize("version, ok", [("v1.2.0", True), (">=v1.1.3", True), (">=v1.1.3 <v2.0.0", True), ("latest", False)])
def test_dependency_version_spec(version: str, ok: bool) -> None:
    data = {"parameter": "p", "required": True, "version": version}
    if ok:
        assert PluginDependencyMetadataSchema().load(data).version == version
    else:
        with pytest.raises(ma.ValidationError):
            PluginDependencyMetadataSchema().load(data)


@pytest.mark.parametrize("value", [[], ["red"], {"name": "red"}])
@pytest.mark.parametrize("use_value", [False, True])
def test_enum_field_takes_lists_and_objects_as_invalid(value: Any, use_value: bool) -> None:
    # found by tests/fuzz/test_properties.py: a JSON list raised TypeError (a 500)
    with pytest.raises(ma.ValidationError):
        EnumField(Color, use_value=use_value).deserialize(value)


def test_enum_field_by_value_loads_the_names_it_dumps_and_offers() -> None:
    field = EnumField(Color, use_value=True)
    assert field.deserialize(field.serialize("c", {"c": Color.red})) is Color.red
    assert [field.deserialize(name) for name in field.metadata["options"]] == list(Color)
