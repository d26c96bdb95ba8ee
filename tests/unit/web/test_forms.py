# SPDX-License-Identifier: Apache-2.0
"""simple_template.html and the forms.html macros: the hello-world markup and every field kind."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask
from web_dom import (
    AllFieldsSchema,
    Colour,
    EnumField,
    FileUrl,
    FrontendFormBaseSchema,
    HelloWorldSchema,
    parse,
    render,
)

# ---- hello world: the markup the integration tests rely on ------------------------------------


def test_hello_world_form_has_textarea_and_exact_submit_button(app: Flask) -> None:
    html = render(app, HelloWorldSchema(), example_values="/plugins/demo/ui/?inputStr=Sample")
    doc = parse(html)
    textarea = doc.find("textarea", name="inputStr")
    assert textarea.attrs["id"] == "input_str"
    assert "required" in textarea.attrs
    assert textarea.attrs["minlength"] == "1"
    submit = re.findall(r'<button class="qhana-form-submit"[^>]*>submit</button>', html)
    assert len(submit) == 1
    assert 'data-target="api"' in submit[0]
    assert 'formaction="/plugins/demo/process/"' in submit[0]
    validate = doc.find("button", data_target="microfrontend")
    assert validate.attrs["class"] == "qhana-form-submit" and validate.text == "validate"
    assert [b.text for b in doc.find_all("button") if b.has_class("qhana-form-submit")] == [
        "validate",
        "submit",
    ]


def test_form_posts_back_to_the_micro_frontend(app: Flask) -> None:
    form = parse(render(app, HelloWorldSchema())).find("form")
    assert form.attrs == {
        "action": "",
        "method": "post",
        "enctype": "multipart/form-data",
        "class": "qhana-form",
        "data-target": "microfrontend",
    }


def test_done_button_only_with_done_url(app: Flask) -> None:
    assert "done" not in [b.text for b in parse(render(app, HelloWorldSchema())).find_all("button")]
    done = parse(render(app, HelloWorldSchema(), done="/plugins/demo/done/")).find(
        "button", formaction="/plugins/demo/done/"
    )
    assert done.text == "done" and done.attrs["data-target"] == "api"


def test_static_files_linked_with_url_for(app: Flask) -> None:
    doc = parse(render(app, HelloWorldSchema()))
    assert doc.find("link", rel="stylesheet").attrs["href"] == "/static/forms.css"
    assert doc.find("script").attrs["src"] == "/static/microfrontend.js"
    client = app.test_client()
    for name in ("forms.css", "microfrontend.js"):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200 and len(response.data) > 500
        response.close()


# ---- field kinds -----------------------------------------------------------------------------


def test_input_names_ids_types_and_labels(app: Flask) -> None:
    doc = parse(render(app, AllFieldsSchema()))
    expected = {
        "title": ("input", "title", "text"),
        "notes": ("textarea", "notes", None),
        "shots": ("input", "shots", "number"),
        "ratio": ("input", "ratio", "number"),
        "verbose": ("input", "verbose", "checkbox"),
        "colour": ("select", "colour", None),
        "mail": ("input", "mail", "email"),
        "link": ("input", "link", "url"),
        "day": ("input", "day", "date"),
        "at": ("input", "at", "time"),
        "when": ("input", "when", "datetime-local"),
        "entity_url": ("input", "entityUrl", "url"),
        "optimizer": ("input", "optimizer", "url"),
        "any_plugin": ("input", "anyPlugin", "url"),
        "dimensions": ("input", "dimensions", "text"),
    }
    for key, (tag, name, input_type) in expected.items():
        element = doc.find(tag, id=key)
        assert element.attrs["name"] == name, key
        assert element.attrs.get("type") == input_type, key
        assert element.attrs["aria-describedby"] == f"{key}-description"
        assert doc.find("div", id=f"{key}-description")
    labels = {label.attrs["for"]: label.text for label in doc.find_all("label")}
    assert labels["title"] == "Title"
    assert labels["any_plugin"] == "anyPlugin"  # no label in metadata: the data_key
    assert labels["colour"] == "Colour"
    # every visible control has a label
    controls = [n for n in doc.iter() if n.tag in ("input", "select", "textarea")]
    assert controls and all(c.attrs["id"] in labels for c in controls)


def test_required_marker_and_attribute(app: Flask) -> None:
    doc = parse(render(app, AllFieldsSchema()))
    for key in ("shots", "entity_url"):
        label = doc.find("label", for_=key)
        assert label.by_class("qhana-required-marker"), key
        assert "required" in doc.find(id=key).attrs
    title_label = doc.find("label", for_="title")
    assert not title_label.by_class("qhana-required-marker")
    assert "required" not in doc.find(id="title").attrs


def test_number_attributes_from_range_and_step(app: Flask) -> None:
    doc = parse(render(app, AllFieldsSchema()))
    shots = doc.find("input", id="shots").attrs
    assert (shots["min"], shots["max"], shots["step"]) == ("1", "9", "1")  # exclusive max 10 → 9
    ratio = doc.find("input", id="ratio").attrs
    assert (ratio["min"], ratio["max"], ratio["step"]) == ("0.5", "1.5", "any")
    assert doc.find("input", id="fine").attrs["step"] == "0.01"
    assert doc.find("input", id="title").attrs["maxlength"] == "20"
    assert "minlength" not in doc.find("input", id="title").attrs


def test_values_are_filled_in(app: Flask) -> None:
    values = {
        "title": "<b>bold</b>",
        "notes": "line</textarea><script>x</script>",
        "shots": "3",
        "colour": "blue",
        "dimensions": [2, 3],
    }
    html = render(app, AllFieldsSchema(), values=values)
    doc = parse(html)
    assert doc.find("input", id="title").attrs["value"] == "<b>bold</b>"
    assert doc.find("textarea", id="notes").text == "line</textarea><script>x</script>"
    assert "<script>x</script>" not in html
    assert doc.find("input", id="shots").attrs["value"] == "3"
    assert doc.find("input", id="dimensions").attrs["value"] == "2,3"
    assert "value" not in doc.find("input", id="mail").attrs


@pytest.mark.parametrize(
    ("value", "checked"),
    [
        ("true", True),
        ("on", True),
        ("1", True),
        (True, True),
        ("false", False),
        ("", False),
        (False, False),
        (None, False),
    ],
)
def test_checkbox_checked_only_for_truthy_values(app: Flask, value: Any, checked: bool) -> None:
    values = {} if value is None else {"verbose": value}
    box = parse(render(app, AllFieldsSchema(), values=values)).find("input", id="verbose")
    assert box.attrs["value"] == "true"
    assert ("checked" in box.attrs) is checked


def test_checkbox_value_loads_as_boolean() -> None:
    class BoolSchema(FrontendFormBaseSchema):
        verbose = ma.fields.Boolean()

    assert BoolSchema().load({"verbose": "true"}) == {"verbose": True}


def test_enum_field_is_a_select_with_labels(app: Flask) -> None:
    select = parse(render(app, AllFieldsSchema(), values={"colour": "blue"})).find(
        "select", id="colour"
    )
    options = [(o.attrs["value"], o.text, "selected" in o.attrs) for o in select.find_all("option")]
    assert options == [("red", "Red", False), ("blue", "Blue", True)]


def test_enum_field_as_radio_group(app: Flask) -> None:
    class RadioSchema(FrontendFormBaseSchema):
        colour = EnumField(Colour, required=True, metadata={"label": "Colour", "input_type": "radio"})

    doc = parse(render(app, RadioSchema(), values={"colour": "blue"}))
    group = doc.find(id="colour")
    assert group.attrs["role"] == "radiogroup"
    radios = [
        (r.attrs["name"], r.attrs["value"], "checked" in r.attrs, "required" in r.attrs, r.parent.text.strip())
        for r in group.find_all("input")
    ]
    assert radios == [("colour", "red", False, True, "Red"), ("colour", "blue", True, True, "Blue")]
    label = doc.find(id="colour-label")
    assert label.text.strip().startswith("Colour") and "for" not in label.attrs


def test_select_options_from_schema_extras_and_enum_values(app: Flask) -> None:
    class ExtrasSchema(FrontendFormBaseSchema):
        backend = ma.fields.String(metadata={"input_type": "select"})
        colour = EnumField(Colour, metadata={"options": {"": "(none)", Colour.red: "Rot"}})

    extras = {"backend": {"options": {"aer": "Aer simulator", "ibmq": "IBM Q"}}}
    doc = parse(
        render(
            app,
            ExtrasSchema(),
            schema_extras=extras,
            values={"backend": "ibmq", "colour": Colour.red},
        )
    )
    backend = [
        (o.attrs["value"], o.text, "selected" in o.attrs)
        for o in doc.find("select", id="backend").find_all("option")
    ]
    assert backend == [("aer", "Aer simulator", False), ("ibmq", "IBM Q", True)]
    colour = [
        (o.attrs["value"], o.text, "selected" in o.attrs)
        for o in doc.find("select", id="colour").find_all("option")
    ]
    assert colour == [("", "(none)", False), ("red", "Rot", True)]


def test_file_url_gets_chooser_button_and_hints(app: Flask) -> None:
    doc = parse(render(app, AllFieldsSchema()))
    assert doc.find("input", id="entity_url").attrs["data-input-type"] == "data"
    (button,) = [
        b
        for b in doc.find_all("button", data_input_id="entity_url")
        if b.has_class("qhana-choose-file-button")
    ]
    assert "hidden" in button.attrs
    assert button.attrs["data-input"] == "entity/list"
    assert button.attrs["data-content-type"] == "application/json text/csv"
    description = doc.find("div", id="entity_url-description")
    hint = description.by_class("selected-file-hint")[0]
    assert "hidden" in hint.attrs
    assert hint.find("span", data_input_id="entity_url").has_class("selected-file-name")
    assert hint.find("button", data_input_id="entity_url").has_class("qhana-show-preview-button")
    assert not doc.by_class("related")


def test_related_file_button(app: Flask) -> None:
    class RelatedSchema(FrontendFormBaseSchema):
        base = FileUrl(data_input_type="entity/list", data_content_types="text/csv")
        attributes = FileUrl(
            data_input_type="entity/attribute-metadata",
            metadata={"related_to": "base", "relation": "pre", "include_self": True},
        )

    doc = parse(render(app, RelatedSchema()))
    related = doc.by_class("related")
    assert len(related) == 1
    button = related[0]
    assert button.has_class("qhana-choose-file-button")
    assert button.attrs["data-input-id"] == "attributes"
    assert button.attrs["data-related-input-id"] == "base"
    assert button.attrs["data-relation"] == "pre"
    assert button.attrs["data-include-self"] == "true"
    assert button.attrs["data-content-type"] == "*"
    assert "disabled" in button.attrs and "hidden" in button.attrs


def test_plugin_url_gets_plugin_chooser(app: Flask) -> None:
    doc = parse(render(app, AllFieldsSchema()))
    assert doc.find("input", id="optimizer").attrs["data-input-type"] == "plugin"
    button = doc.find("button", data_input_id="optimizer")
    assert button.has_class("qhana-choose-plugin-button") and "hidden" in button.attrs
    assert button.attrs["data-plugin-tags"] == "objective-function minimizer"
    assert button.attrs["data-plugin-name"] == "nm"
    assert button.attrs["data-plugin-version"] == "v1"
    assert doc.find("button", data_input_id="any_plugin").attrs["data-plugin-tags"] == ""
    hint = doc.find("div", id="optimizer-description").by_class("selected-plugin-hint")[0]
    assert hint.find("span", data_input_id="optimizer").has_class("selected-plugin-name")


def test_datalists(app: Flask) -> None:
    class DatalistSchema(FrontendFormBaseSchema):
        name = ma.fields.String(
            metadata={"input_type": "text_with_datalist", "datalist": ["alpha", "beta"]}
        )
        size = ma.fields.Integer()

    schema = DatalistSchema()
    schema.datalists = {"size": [("1", "small"), ("9", "large")]}  # type: ignore[attr-defined]
    doc = parse(render(app, schema))
    name = doc.find("input", id="name")
    assert (name.attrs["type"], name.attrs["list"]) == ("text", "name-datalist")
    assert [
        o.attrs["value"] for o in doc.find("datalist", id="name-datalist").find_all("option")
    ] == ["alpha", "beta"]
    size_options = doc.find("datalist", id="size-datalist").find_all("option")
    assert [(o.attrs["value"], o.attrs.get("label")) for o in size_options] == [
        ("1", "small"),
        ("9", "large"),
    ]


def test_hidden_dump_only_and_unsupported_fields(app: Flask) -> None:
    class OddSchema(FrontendFormBaseSchema):
        token = ma.fields.String(metadata={"input_type": "hidden"})
        created = ma.fields.String(dump_only=True)
        nested = ma.fields.Nested(HelloWorldSchema, metadata={"label": "Nested thing"})

    doc = parse(render(app, OddSchema(), values={"token": "abc"}))
    hidden = doc.find("input", id="token")
    assert (hidden.attrs["type"], hidden.attrs["value"]) == ("hidden", "abc")
    assert not doc.find_all(id="created")
    unsupported = doc.by_class("qhana-unsupported-field")
    assert len(unsupported) == 1 and unsupported[0].text == "Unsupported field"
    assert "Nested thing" in doc.text


