"""HTML helpers for the micro-frontend template tests: a tiny DOM and shared form schemas."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import marshmallow as ma
from flask import Flask, render_template

import qhana_plugin_runner
from qhana_plugin_runner.api.extra_fields import CSVList, EnumField
from qhana_plugin_runner.api.util import FileUrl, FrontendFormBaseSchema, PluginUrl

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


