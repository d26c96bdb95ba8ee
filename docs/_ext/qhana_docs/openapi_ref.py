# SPDX-License-Identifier: Apache-2.0
"""REST API reference rendered from the OpenAPI document of a runner app with the bundled plugins.

``qhana-openapi`` with ``:section: operations`` (default) renders one section per tag and in it
one section per path and method (summary, description, parameters, request body, responses,
authentication); ``:section: schemas`` renders the component schemas the operations link to.
Both must be in the same document.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from .nodes_util import SectionMaker, inline, join, literal, paragraphs, table
from .runner import runner_app

LOG = logging.getLogger(__name__)

METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")


def openapi_spec(sphinx: Any) -> dict[str, Any]:
    app = runner_app(sphinx)
    api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    return api.spec.to_dict()


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


class _Renderer:
    def __init__(self, spec: dict[str, Any], sections: SectionMaker) -> None:
        self.spec = spec
        self.components = spec.get("components", {})
        self.sections = sections

    # --- schemas --------------------------------------------------------------------------

    def schema_link(self, name: str) -> nodes.Node:
        return self.sections.ref(self.sections.ident(f"schema-{name}"), literal(name))

    def schema_type(self, schema: dict[str, Any] | None) -> list[nodes.Node]:
        """A short, linked description of a schema's type."""
        if not schema:
            return [nodes.Text("any")]
        if "$ref" in schema:
            return [self.schema_link(_ref_name(schema["$ref"]))]
        for combinator in ("oneOf", "anyOf", "allOf"):
            if combinator in schema:
                parts = [self.schema_type(sub) for sub in schema[combinator]]
                word = {"oneOf": " or ", "anyOf": " or ", "allOf": " and "}[combinator]
                result: list[nodes.Node] = []
                for part in parts:
                    if result:
                        result.append(nodes.Text(word))
                    result.extend(part)
                return result
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = " or ".join(kind)
        result = []
        if kind == "array":
            result = [nodes.Text("array of "), *self.schema_type(schema.get("items"))]
        elif kind == "object" and "additionalProperties" in schema and not schema.get("properties"):
            extra = schema["additionalProperties"]
            value = self.schema_type(extra) if isinstance(extra, dict) else [nodes.Text("any")]
            result = [nodes.Text("object of "), *value]
        else:
            result = [nodes.Text(kind or "any")]
        if schema.get("format"):
            result.append(nodes.Text(f" ({schema['format']})"))
        if "enum" in schema:
            result += [nodes.Text(", one of "), *join(literal(str(value)) for value in schema["enum"])]
        limits = [f"{word} {schema[key]}" for key, word in (("minimum", "≥"), ("maximum", "≤"), ("minLength", "length ≥"), ("maxLength", "length ≤")) if key in schema and abs(schema[key]) < 2**53]
        if limits:
            result.append(nodes.Text(", " + ", ".join(limits)))
        if schema.get("nullable"):
            result.append(nodes.Text(", nullable"))
        return result

    def properties_table(self, schema: dict[str, Any]) -> nodes.Node | None:
        properties = schema.get("properties") or {}
        if not properties:
            return None
        required = set(schema.get("required") or [])
        rows = []
        for name, prop in properties.items():
            flags = []
            if name in required:
                flags.append("required")
            if prop.get("readOnly"):
                flags.append("read-only")
            if prop.get("writeOnly"):
                flags.append("write-only")
            description = prop.get("description") or ""
            if "default" in prop:
                description = f"{description} (default `{prop['default']!r}`)".strip()
            rows.append([literal(name), self.schema_type(prop), ", ".join(flags), description])
        return table(["field", "type", "", "description"], rows, [18, 26, 10, 46], classes=["qhana-schema"])

    def schema_block(self, schema: dict[str, Any] | None) -> list[nodes.Node]:
        """A reference to a named schema, or an inline object's fields."""
        if not schema:
            return [nodes.paragraph(text="any content")]
        if "$ref" in schema or schema.get("type") != "object" or not schema.get("properties"):
            return [nodes.paragraph("", "", *self.schema_type(schema))]
        fields = self.properties_table(schema)
        return [nodes.paragraph(text="object with the fields:"), fields] if fields is not None else []

    # --- operations -----------------------------------------------------------------------

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in response:
            return self.components.get("responses", {}).get(_ref_name(response["$ref"]), {})
        return response

    def parameter(self, parameter: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in parameter:
            return self.components.get("parameters", {}).get(_ref_name(parameter["$ref"]), {})
        return parameter

    def operation(self, path: str, method: str, operation: dict[str, Any], shared_parameters: list[dict[str, Any]]) -> nodes.section:
        title = [nodes.Text(f"{method.upper()} "), literal(path)]
        section = self.sections.section(title, f"{method}-{path}")
        if operation.get("deprecated"):
            section += nodes.paragraph("", "", nodes.strong(text="Deprecated."))
        if operation.get("summary"):
            section += nodes.paragraph("", "", nodes.strong("", "", *inline(operation["summary"])))
        section.extend(paragraphs(operation.get("description")))

        parameters = {}
        for parameter in [*shared_parameters, *operation.get("parameters", [])]:
            resolved = self.parameter(parameter)
            parameters[(resolved.get("in"), resolved.get("name"))] = resolved
        if parameters:
            rows = [
                [literal(p.get("name", "")), p.get("in", ""), self.schema_type(p.get("schema")), "yes" if p.get("required") else "no", p.get("description") or ""]
                for p in parameters.values()
            ]
            section += nodes.rubric(text="Parameters")
            section += table(["name", "in", "type", "required", "description"], rows, [18, 8, 24, 8, 42])

        body = operation.get("requestBody")
        if body:
            section += nodes.rubric(text="Request body" + ("" if body.get("required") else " (optional)"))
            section.extend(paragraphs(body.get("description")))
            for content_type, content in (body.get("content") or {}).items():
                item = nodes.paragraph("", "", literal(content_type), nodes.Text(": "))
                blocks = self.schema_block(content.get("schema"))
                if blocks and isinstance(blocks[0], nodes.paragraph):
                    item.extend(blocks[0].children)
                    blocks = blocks[1:]
                section += item
                section.extend(blocks)

        responses = operation.get("responses") or {}
        if responses:
            rows = []
            for status, response in sorted(responses.items(), key=lambda item: (item[0] == "default", item[0])):
                resolved = self.response(response)
                content_nodes: list[nodes.Node] = []
                for content_type, content in (resolved.get("content") or {}).items():
                    if content_nodes:
                        content_nodes.append(nodes.Text("; "))
                    content_nodes += [literal(content_type)]
                    if content.get("schema"):
                        content_nodes += [nodes.Text(": "), *self.schema_type(content["schema"])]
                rows.append([literal(status), resolved.get("description") or "", content_nodes])
            section += nodes.rubric(text="Responses")
            section += table(["status", "description", "content"], rows, [10, 45, 45])

        security = operation.get("security", self.spec.get("security"))
        if security:
            names = sorted({name for requirement in security for name in requirement})
            optional = any(not requirement for requirement in security)
            text = "Authentication: " + ", ".join(names) + (" (optional)" if optional else " (required)")
            section += nodes.paragraph("", "", nodes.emphasis(text=text))
        return section

    def operations(self) -> list[nodes.Node]:
        tags = [tag["name"] for tag in self.spec.get("tags", [])]
        descriptions = {tag["name"]: tag.get("description", "") for tag in self.spec.get("tags", [])}
        grouped: dict[str, list[tuple[str, str, dict[str, Any], list[dict[str, Any]]]]] = {}
        for path, item in self.spec.get("paths", {}).items():
            shared = item.get("parameters", [])
            for method in METHODS:
                if method in item:
                    operation = item[method]
                    for tag in operation.get("tags") or ["other"]:
                        if tag not in tags:
                            tags.append(tag)
                        grouped.setdefault(tag, []).append((path, method, operation, shared))
        result: list[nodes.Node] = []
        for tag in tags:
            if tag not in grouped:
                continue
            section = self.sections.section([literal(tag)], f"tag-{tag}")
            section.extend(paragraphs(descriptions.get(tag)))
            for path, method, operation, shared in grouped[tag]:
                section += self.operation(path, method, operation, shared)
            result.append(section)
        return result

    def schemas(self) -> list[nodes.Node]:
        result: list[nodes.Node] = []
        for name, schema in (self.components.get("schemas") or {}).items():
            section = self.sections.section([literal(name)], f"schema-{name}")
            section.extend(paragraphs(schema.get("description")))
            fields = self.properties_table(schema)
            if fields is not None:
                section += fields
            else:
                section += nodes.paragraph("", "", nodes.Text("Type: "), *self.schema_type(schema))
            result.append(section)
        return result


class OpenApiDirective(SphinxDirective):
    option_spec = {"section": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        self.env.note_reread()
        spec = openapi_spec(self.env.app)
        renderer = _Renderer(spec, SectionMaker(self.state.document, "api"))
        which = self.options.get("section", "operations")
        if which == "operations":
            info = spec.get("info", {})
            intro = nodes.paragraph(
                "",
                "",
                nodes.Text(f"Generated from the OpenAPI {spec.get('openapi', '')} document of "),
                nodes.emphasis(text=info.get("title", "")),
                nodes.Text(f" (version {info.get('version', '')}) with the bundled plugins loaded."),
            )
            return [intro, *renderer.operations()]
        if which == "schemas":
            return renderer.schemas()
        raise self.error(f"{self.name}: unknown :section: {which!r} (operations or schemas)")
