# SPDX-License-Identifier: Apache-2.0
"""simple_template.html and the forms.html macros: every field kind, errors, Markdown, buttons."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask, render_template
from markupsafe import Markup

import qhana_plugin_runner
from qhana_plugin_runner.api.extra_fields import CSVList, EnumField
from qhana_plugin_runner.api.util import FileUrl, FrontendFormBaseSchema, PluginUrl
from qhana_plugin_runner.web.jinja_helpers import register_jinja_helpers

WEB = Path(qhana_plugin_runner.__file__).parent / "web"

# ---- a small DOM built with html.parser ---------------------------------------------------------

_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "wbr",
}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children: list[Node] = []
        self.parts: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self.parts) + "".join(child.text for child in self.children)

    def iter(self) -> Iterator[Node]:
        for child in self.children:
            yield child
            yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str | None) -> list[Node]:
        found = []
        for node in self.iter():
            if tag is not None and node.tag != tag:
                continue
            if all(
                node.attrs.get(name.rstrip("_").replace("_", "-")) == value
                for name, value in attrs.items()
            ):
                found.append(node)
        return found

    def find(self, tag: str | None = None, **attrs: str | None) -> Node:
        found = self.find_all(tag, **attrs)
        assert len(found) == 1, f"expected one <{tag} {attrs}>, found {len(found)}"
        return found[0]

    def has_class(self, name: str) -> bool:
        return name in (self.attrs.get("class") or "").split()

    def by_class(self, name: str) -> list[Node]:
        return [node for node in self.iter() if node.has_class(name)]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in _VOID:
            self.current = node

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None and node.parent is not None, f"unbalanced </{tag}>"
        self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.parts.append(data)


def parse(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    assert builder.current is builder.root, "unclosed elements"
    return builder.root


# ---- fixtures and schemas ---------------------------------------------------------------------


@pytest.fixture
def app() -> Flask:
    app = Flask(
        "qhana_plugin_runner",
        template_folder=str(WEB / "templates"),
        static_folder=str(WEB / "static"),
    )
    register_jinja_helpers(app)
    return app


def render(app: Flask, schema: ma.Schema, **context: Any) -> str:
    context.setdefault("values", {})
    context.setdefault("errors", {})
    context.setdefault("valid", False)
    context.setdefault("process", "/plugins/demo/process/")
    with app.test_request_context("/plugins/demo/ui/"):
        return render_template(
            "simple_template.html", schema=schema, name="demo", version="v1", **context
        )


class HelloWorldSchema(FrontendFormBaseSchema):
    input_str = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1),
        metadata={
            "label": "Input String",
            "description": "Any **text**.",
            "input_type": "textarea",
        },
    )


class Colour(enum.Enum):
    red = "Red"
    blue = "Blue"


class AllFieldsSchema(FrontendFormBaseSchema):
    title = ma.fields.String(validate=ma.validate.Length(max=20), metadata={"label": "Title"})
    notes = ma.fields.String(metadata={"input_type": "textarea"})
    shots = ma.fields.Integer(
        required=True, validate=ma.validate.Range(min=1, max=10, max_inclusive=False)
    )
    ratio = ma.fields.Float(validate=ma.validate.Range(min=0.5, max=1.5))
    fine = ma.fields.Float(metadata={"step": 0.01})
    verbose = ma.fields.Boolean()
    colour = EnumField(Colour, metadata={"label": "Colour"})
    mail = ma.fields.Email()
    link = ma.fields.Url()
    day = ma.fields.Date()
    at = ma.fields.Time()
    when = ma.fields.NaiveDateTime()
    entity_url = FileUrl(
        required=True,
        data_input_type="entity/list",
        data_content_types=["application/json", "text/csv"],
        metadata={"label": "Entities"},
    )
    optimizer = PluginUrl(
        plugin_tags=["objective-function", "minimizer"], plugin_name="nm", plugin_version="v1"
    )
    any_plugin = PluginUrl(plugin_tags=[])
    dimensions = CSVList(ma.fields.Integer())


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


# ---- errors and validity ---------------------------------------------------------------------


def test_errors_shown_per_field_with_aria(app: Flask) -> None:
    errors = {
        "entityUrl": ["Missing data for required field."],
        "shots": ["Too many.", "Not even."],
    }
    doc = parse(render(app, AllFieldsSchema(), errors=errors))
    for key, messages in (("entity_url", errors["entityUrl"]), ("shots", errors["shots"])):
        element = doc.find(id=key)
        assert element.attrs["aria-invalid"] == "true"
        message_id = element.attrs["aria-errormessage"]
        paragraph = doc.find("p", id=message_id)
        assert paragraph.has_class("qhana-error-message")
        assert [span.text for span in paragraph.find_all("span")] == messages
        description = doc.find("div", id=element.attrs["aria-describedby"])
        assert paragraph in list(description.iter())
    title = doc.find(id="title")
    assert "aria-invalid" not in title.attrs and "aria-errormessage" not in title.attrs
    assert len(doc.by_class("qhana-form-field-invalid")) == 2
    assert not doc.by_class("qhana-validation-success")


def test_schema_level_errors_are_listed(app: Flask) -> None:
    doc = parse(render(app, HelloWorldSchema(), errors={"_schema": ["Pick one of a or b."]}))
    box = doc.by_class("qhana-form-errors")[0]
    assert box.attrs["role"] == "alert" and "Pick one of a or b." in box.text


def test_validation_success_only_when_valid_without_errors(app: Flask) -> None:
    success = parse(render(app, HelloWorldSchema(), valid=True)).by_class(
        "qhana-validation-success"
    )
    assert len(success) == 1 and "Validation successful!" in success[0].text
    assert not parse(
        render(app, HelloWorldSchema(), valid=True, errors={"inputStr": ["x"]})
    ).by_class("qhana-validation-success")
    assert not parse(render(app, HelloWorldSchema(), valid=False)).by_class(
        "qhana-validation-success"
    )


# ---- Markdown, escaping, help, examples ----------------------------------------------------------


def test_help_text_and_descriptions_are_markdown(app: Flask) -> None:
    doc = parse(
        render(
            app,
            HelloWorldSchema(),
            help_text="Use **bold** and ~~old~~.\n\n| a | b |\n|---|---|\n| 1 | 2 |",
        )
    )
    help_section = doc.find("details")
    assert help_section.has_class("qhana-help")
    assert help_section.find("strong").text == "bold"
    assert help_section.find("del").text == "old"
    assert help_section.find("table")
    description = doc.find("div", id="input_str-description")
    assert description.find("strong").text == "text"


def test_script_in_help_text_or_description_is_escaped(app: Flask) -> None:
    class EvilSchema(FrontendFormBaseSchema):
        value = ma.fields.String(
            metadata={
                "description": '<script>alert("d")</script> <img src=x onerror=alert(1)> [x](javascript:alert(2))'
            }
        )

    html = render(app, EvilSchema(), help_text="<script>alert('h')</script><iframe src=//evil>")
    doc = parse(html)
    scripts = doc.find_all("script")
    assert [s.attrs.get("src") for s in scripts] == ["/static/microfrontend.js"]
    assert not doc.find_all("img") and not doc.find_all("iframe")
    assert "&lt;script&gt;alert(" in html
    assert all(not (a.attrs.get("href") or "").startswith("javascript:") for a in doc.find_all("a"))
    assert "<script>alert('h')</script>" in doc.find("details").text


def test_help_section_absent_without_help_text(app: Flask) -> None:
    assert not parse(render(app, HelloWorldSchema())).find_all("details")


def test_example_values_link(app: Flask) -> None:
    doc = parse(render(app, HelloWorldSchema(), example_values="/plugins/demo/ui/?inputStr=Sample"))
    link = next(a for a in doc.find_all("a") if a.text == "Fill in example values.")
    assert link.attrs["href"] == "/plugins/demo/ui/?inputStr=Sample"
    assert not [
        a for a in parse(render(app, HelloWorldSchema())).find_all("a") if "example" in a.text
    ]


# ---- plugin templates that extend or import ------------------------------------------------------


def test_plugin_template_can_extend_and_import(app: Flask) -> None:
    template = app.jinja_env.from_string(
        """{% extends "simple_template.html" %}
{% import "forms.html" as forms %}
{% block head %}{{ super() }}<link rel="stylesheet" href="/extra.css">{% endblock %}
{% block content %}
{% call forms.render_form(action="/go/", method="get", target="api", class="my-form") %}
{{ forms.render_fields(schema, values={"inputStr": "x"}, form_field_class="row", form_label_class="lbl", form_input_class="inp") }}
{{ forms.submit("run", action="/run/", method="post", class="qhana-form-submit big") }}
{% endcall %}
{% endblock %}
{% block script %}{{ super() }}<script>var custom = 1;</script>{% endblock %}"""
    )
    with app.test_request_context("/"):
        doc = parse(template.render(schema=HelloWorldSchema()))
    assert [link.attrs["href"] for link in doc.find_all("link")] == [
        "/static/forms.css",
        "/extra.css",
    ]
    form = doc.find("form")
    assert (
        form.attrs["action"],
        form.attrs["method"],
        form.attrs["class"],
        form.attrs["data-target"],
    ) == ("/go/", "get", "my-form", "api")
    assert doc.by_class("row") and doc.find("label").has_class("lbl") and doc.by_class("inp")
    assert doc.find("textarea").text == "x"
    run = doc.find("button", formaction="/run/")
    assert (run.attrs["class"], run.attrs["formmethod"], run.attrs["data-target"], run.text) == (
        "qhana-form-submit big",
        "post",
        "api",
        "run",
    )
    assert len(doc.find_all("script")) == 2


def test_markdown_filter_returns_markup(app: Flask) -> None:
    rendered = app.jinja_env.filters["markdown"]("*hi* <b>")
    assert isinstance(rendered, Markup)
    assert rendered == Markup("<p><em>hi</em> &lt;b&gt;</p>\n")
