# SPDX-License-Identifier: Apache-2.0
"""Form errors, validity, Markdown help and descriptions (escaped), and plugin templates."""

from __future__ import annotations

import marshmallow as ma
from flask import Flask
from markupsafe import Markup
from web_dom import AllFieldsSchema, HelloWorldSchema, parse, render

from qhana_plugin_runner.api.util import FrontendFormBaseSchema

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

