# SPDX-License-Identifier: Apache-2.0
"""Plugin metadata: the dataclasses plugins fill and the schemas that serialise them. Public."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypedDict
from urllib.parse import unquote

import marshmallow as ma

from .extra_fields import EnumField
from .util import MaBaseSchema

__all__ = [
    "PluginType",
    "ApiLink",
    "ApiLinkSchema",
    "DataMetadata",
    "DataMetadataSchema",
    "InputDataMetadata",
    "InputDataMetadataSchema",
    "OutputDataMetadata",
    "OutputDataMetadataSchema",
    "PluginDependencyMetadata",
    "PluginDependencyMetadataSchema",
    "EntryPoint",
    "EntryPointSchema",
    "PluginMetadata",
    "PluginMetadataSchema",
    "ProgressMetadata",
    "ProgressMetadataSchema",
    "StepMetadata",
    "StepMetadataSchema",
    "WebhookParams",
    "WebhookParamsSchema",
    "MaBaseSchema",
]


class PluginType(Enum):
    """What a plugin does; names equal values."""

    processing = "processing"
    visualization = "visualization"
    conversion = "conversion"
    dataloader = "dataloader"
    interaction = "interaction"


@dataclass
class ApiLink:
    type: str
    href: str


class ApiLinkSchema(MaBaseSchema):
    type = ma.fields.String(required=True)
    href = ma.fields.Url(required=True, require_tld=False, relative=True)

    @ma.post_load
    def make_object(self, data: dict[str, Any], **kwargs: Any) -> ApiLink:
        return ApiLink(**data)


@dataclass
class DataMetadata:
    data_type: str
    content_type: list[str]
    required: bool


@dataclass
class InputDataMetadata(DataMetadata):
    parameter: str


@dataclass
class OutputDataMetadata(DataMetadata):
    name: str | None


class DataMetadataSchema(MaBaseSchema):
    data_type = ma.fields.String(required=True)
    content_type = ma.fields.List(ma.fields.String(), required=True)
    required = ma.fields.Boolean(required=True)

    @ma.post_load
    def make_object(self, data: dict[str, Any], **kwargs: Any) -> DataMetadata:
        return DataMetadata(**data)


class InputDataMetadataSchema(DataMetadataSchema):
    parameter = ma.fields.String(required=False)  # the form field that receives the URL

    @ma.post_load
    def make_object(self, data: dict[str, Any], **kwargs: Any) -> DataMetadata:
        if "parameter" not in data:
            return DataMetadata(**data)
        return InputDataMetadata(**data)


class OutputDataMetadataSchema(DataMetadataSchema):
    name = ma.fields.String(required=False, allow_none=True)

    @ma.post_load
    def make_object(self, data: dict[str, Any], **kwargs: Any) -> DataMetadata:
        if "name" not in data:
            return DataMetadata(**data)
        return OutputDataMetadata(**data)


_VERSION_SPEC = re.compile(r"^(?:(?:[<>]=?|==|!=|~=)?\s*v?\d+(?:\.\d+)*\S*)(?:\s+(?:[<>]=?|==|!=|~=)?\s*v?\d+(?:\.\d+)*\S*)*$")


@dataclass
class PluginDependencyMetadata:
    parameter: str
    required: bool
    name: str | None = None
    version: str | None = None
    tags: list[str] | None = None
    type: PluginType | None = None


class PluginDependencyMetadataSchema(MaBaseSchema):
    parameter = ma.fields.String(required=True)
    name = ma.fields.String(required=False, allow_none=True)
    version = ma.fields.String(required=False, allow_none=True, validate=ma.validate.Regexp(_VERSION_SPEC))
    type = EnumField(PluginType, required=False, allow_none=True)
    tags = ma.fields.List(ma.fields.String(), required=False, allow_none=True)
    required = ma.fields.Boolean(required=True)

    @ma.post_dump
    def remove_empty(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        for key in ("name", "version", "type", "tags"):
            if data.get(key) is None:
                data.pop(key, None)
        return data

    @ma.post_load
    def make_object(self, data: dict[str, Any], **kwargs: Any) -> PluginDependencyMetadata:
        return PluginDependencyMetadata(**data)


class _OutputOrData(ma.fields.Field):
    """Dumps OutputDataMetadata with ``name``, plain DataMetadata without it."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        schema = OutputDataMetadataSchema() if isinstance(value, OutputDataMetadata) else DataMetadataSchema()
        return schema.dump(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return OutputDataMetadataSchema().load(value)


@dataclass
class EntryPoint:
    href: str
    ui_href: str
    data_input: list[InputDataMetadata | DataMetadata] = field(default_factory=list)
    data_output: list[OutputDataMetadata | DataMetadata] = field(default_factory=list)
    plugin_dependencies: list[PluginDependencyMetadata] = field(default_factory=list)


class EntryPointSchema(MaBaseSchema):
    href = ma.fields.Url(required=True, require_tld=False, relative=True)
    ui_href = ma.fields.Url(required=True, require_tld=False, relative=True)
    plugin_dependencies = ma.fields.List(ma.fields.Nested(PluginDependencyMetadataSchema()), load_default=list)
    data_input = ma.fields.List(ma.fields.Nested(InputDataMetadataSchema()), load_default=list)
    data_output = ma.fields.List(_OutputOrData(), load_default=list)

    @ma.pre_load
    def unquote_urls(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("href", "uiHref"):
                if isinstance(data.get(key), str):
                    data[key] = unquote(data[key])
        return data

    @ma.post_load
    def make_object(self, data: dict[str, Any], **kwargs: Any) -> EntryPoint:
        return EntryPoint(**data)


@dataclass
class PluginMetadata:
    title: str
    description: str
    name: str
    version: str
    type: PluginType
    entry_point: EntryPoint
    tags: list[str] = field(default_factory=list)
    links: list[ApiLink] = field(default_factory=list)


class PluginMetadataSchema(MaBaseSchema):
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    version = ma.fields.String(required=True)
    type = EnumField(PluginType, required=True)
    entry_point = ma.fields.Nested(EntryPointSchema(), required=True, data_key="entryPoint")
    tags = ma.fields.List(ma.fields.String(), required=True)
    links = ma.fields.List(ma.fields.Nested(ApiLinkSchema()), load_default=list, dump_default=list)

    @ma.post_load
    def make_object(self, data: dict[str, Any], **kwargs: Any) -> PluginMetadata:
        return PluginMetadata(**data)


@dataclass
class ProgressMetadata:
    value: int
    start: int = 0
    target: int = 100
    unit: str = "%"


class ProgressMetadataSchema(MaBaseSchema):
    value = ma.fields.Integer(required=True)
    start = ma.fields.Integer(required=False, load_default=0)
    target = ma.fields.Integer(required=False, load_default=100)
    unit = ma.fields.String(required=False, load_default="%")


@dataclass
class StepMetadata:
    href: str
    ui_href: str
    step_id: str
    cleared: bool = False


class StepMetadataSchema(MaBaseSchema):
    href = ma.fields.Url(required=True, require_tld=False, relative=True)
    uiHref = ma.fields.Url(required=True, require_tld=False, relative=True, attribute="ui_href")
    stepId = ma.fields.String(required=True, attribute="step_id")
    cleared = ma.fields.Boolean(required=False, load_default=False)


class WebhookParams(TypedDict):
    source: str
    event: str | None


class WebhookParamsSchema(MaBaseSchema):
    source = ma.fields.Url(required=True, require_tld=False, schemes={"http", "https"})
    event = ma.fields.String(required=False, allow_none=True, load_default=None)
