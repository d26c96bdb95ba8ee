# SPDX-License-Identifier: Apache-2.0
"""Building blocks for plugin APIs: the blueprint class, base schemas and URL fields. Public."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow.validate import URL, ValidationError

from ..util.logging import REDACTED
from .jwt_helper import JWTMixin

__all__ = [
    "camelcase",
    "is_private_field",
    "redact_private_fields",
    "MaBaseSchema",
    "FrontendFormBaseSchema",
    "FileUrl",
    "FileUrlValidator",
    "PluginUrl",
    "DataUrlValidator",
    "HtmlResponseMixin",
    "SecurityBlueprint",
]


def camelcase(name: str) -> str:
    """``snake_case`` → ``camelCase`` (leading part kept as is)."""
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


class MaBaseSchema(ma.Schema):
    """Schema whose JSON and form keys are the camelCase form of the field names."""

    def on_bind_field(self, field_name: str, field_obj: ma.fields.Field) -> None:
        field_obj.data_key = camelcase(field_obj.data_key or field_name)


def is_private_field(field: ma.fields.Field) -> bool:
    """Whether a field holds a secret: ``metadata={"private": True}`` or a password input.

    Private inputs are masked by microfrontend.js before the form data leaves the page; the
    same flag tells :func:`redact_private_fields` what to mask in logs and stored copies.
    """
    return bool(field.metadata.get("private")) or field.metadata.get("input_type") == "password"


def redact_private_fields(schema: ma.Schema, data: Mapping[str, Any], placeholder: str = REDACTED) -> dict[str, Any]:
    """A copy of ``data`` with the values of ``schema``'s private fields replaced by ``placeholder``.

    ``data`` may be loaded (attribute names) or raw form data (data keys); nested schemas are
    followed. Log this copy, or keep it where users can see it, never the original.
    """
    redacted = dict(data)
    for name, field in schema.fields.items():
        for key in {name, field.data_key or name}:
            if key not in redacted:
                continue
            if is_private_field(field):
                redacted[key] = placeholder
                continue
            nested = field.inner if isinstance(field, ma.fields.List) else field
            if isinstance(nested, ma.fields.Nested) and isinstance(nested.schema, ma.Schema):
                redacted[key] = _redact_nested(nested.schema, redacted[key], placeholder)
    return redacted


def _redact_nested(schema: ma.Schema, value: Any, placeholder: str) -> Any:
    if isinstance(value, Mapping):
        return redact_private_fields(schema, value, placeholder)
    if isinstance(value, list | tuple):
        return [_redact_nested(schema, item, placeholder) for item in value]
    return value


class FrontendFormBaseSchema(MaBaseSchema):
    """Base of micro-frontend form schemas.

    With ``validate_errors_as_result=True``, ``load`` returns the validation errors (``{}`` when
    the input is valid) instead of data, so a UI view can re-render the form with messages.
    """

    def __init__(self, *args: Any, validate_errors_as_result: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.validate_errors_as_result = validate_errors_as_result

    def load(self, data: Any, *, many: bool | None = None, partial: Any = None, unknown: str | None = None) -> Any:
        if self.validate_errors_as_result:
            return self.validate(data, many=many, partial=partial)
        return super().load(data, many=many, partial=partial, unknown=unknown)

    def redact(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """``data`` with private and password fields masked (see :func:`redact_private_fields`)."""
        return redact_private_fields(self, data)


_DATA_URL = re.compile(r"^data:[\w.+-]+/[\w.+-]+(;charset=[\w.-]+)?(;base64)?,", re.IGNORECASE)


class DataUrlValidator(URL):
    """URL validator that also accepts ``data:`` URLs; never ``file:``."""

    default_schemes = {"http", "https", "ftp", "ftps", "data"}

    def __init__(self, *, relative: bool = False, schemes: set[str] | None = None, require_tld: bool = False, error: str | None = None) -> None:
        super().__init__(relative=relative, schemes=schemes or set(self.default_schemes), require_tld=require_tld, error=error)

    def __call__(self, value: Any) -> Any:
        if value is None:
            return value
        if not isinstance(value, str):
            raise ValidationError(self._format_error(value))
        scheme = value.split(":", 1)[0].lower() if ":" in value else ""
        if scheme and scheme not in self.schemes:
            raise ValidationError(f"URL scheme {scheme!r} is not allowed here.")
        if scheme == "data":
            if not _DATA_URL.match(value):
                raise ValidationError("Not a valid data URL (expected data:<mimetype>[;base64],<data>).")
            return value
        return self._check_other(value, scheme)

    def _check_other(self, value: str, scheme: str) -> str:
        return super().__call__(value)


class FileUrlValidator(DataUrlValidator):
    """URL validator for file inputs: http(s), ftp(s), data, and ``file:`` on localhost only.

    Inside an app, a ``file:`` URL must also lie below ``FILE_URL_ALLOWED_ROOTS`` and outside
    the file store (whose files clients reach through their download URLs only).
    """

    default_schemes = {"http", "https", "ftp", "ftps", "file", "data"}

    def _check_other(self, value: str, scheme: str) -> str:
        if scheme == "file":
            match = re.match(r"^file://([^/]*)(/.*)?$", value, re.IGNORECASE)
            if not match or match.group(1) not in ("", "localhost") or not match.group(2):
                raise ValidationError("file:// URLs must have an empty or localhost host and a path.")
            from ..util.request_adapters import client_file_url_refusal  # imports requests

            refusal = client_file_url_refusal(value)
            if refusal:
                raise ValidationError(refusal)
            return value
        return super()._check_other(value, scheme)


class _UrlInputField(ma.fields.Url):
    validator_class: type[DataUrlValidator] = DataUrlValidator

    def __init__(self, *, relative: bool = False, schemes: Sequence[str] | None = None, require_tld: bool = False, **kwargs: Any) -> None:
        super().__init__(relative=relative, schemes=set(schemes) if schemes else None, require_tld=require_tld, **kwargs)
        self.validators[0] = self.validator_class(
            relative=relative,
            schemes=set(schemes) if schemes else None,
            require_tld=require_tld,
            error=self.error_messages["invalid"],
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value == "":
            if self.required and not self.allow_none:
                raise self.make_error("required")
            return None
        return super()._deserialize(value, attr, data, **kwargs)


class FileUrl(_UrlInputField):
    """URL of an input file; ``data_input_type``/``data_content_types`` tell the UI what fits."""

    validator_class = FileUrlValidator

    def __init__(
        self,
        *,
        relative: bool = False,
        schemes: Sequence[str] | None = None,
        require_tld: bool = False,
        data_input_type: str | None = None,
        data_content_types: str | Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        metadata = dict(kwargs.pop("metadata", None) or {})
        if data_input_type is not None:
            metadata["data_input_type"] = data_input_type
        if data_content_types is not None:
            if isinstance(data_content_types, str):
                data_content_types = [data_content_types]
            metadata["data_content_types"] = list(data_content_types)
        super().__init__(relative=relative, schemes=schemes, require_tld=require_tld, metadata=metadata, **kwargs)


class PluginUrl(_UrlInputField):
    """URL of another plugin; ``plugin_tags``/``plugin_name``/``plugin_version`` filter choices."""

    def __init__(
        self,
        *,
        relative: bool = False,
        schemes: Sequence[str] | None = None,
        require_tld: bool = False,
        plugin_tags: Sequence[str] | None = None,
        plugin_name: str | None = None,
        plugin_version: str | None = None,
        **kwargs: Any,
    ) -> None:
        metadata = dict(kwargs.pop("metadata", None) or {})
        if plugin_tags is not None:
            metadata["plugin_tags"] = list(plugin_tags)
        if plugin_name is not None:
            metadata["plugin_name"] = plugin_name
        if plugin_version is not None:
            metadata["plugin_version"] = plugin_version
        super().__init__(relative=relative, schemes=schemes, require_tld=require_tld, metadata=metadata, **kwargs)


class HtmlResponseMixin:
    """Adds ``html_response``: documents a ``text/html`` answer, changes nothing at runtime."""

    def html_response(
        self,
        status_code: int,
        *,
        description: str | None = None,
        example: Any = None,
        examples: Any = None,
        headers: Any = None,
        success: bool = True,
    ) -> Any:
        return self.alt_response(  # type: ignore[attr-defined]
            status_code,
            description=description,
            example=example,
            examples=examples,
            headers=headers,
            success=success,
            content_type="text/html",
        )


class SecurityBlueprint(Blueprint, JWTMixin, HtmlResponseMixin):
    """The blueprint plugins build their API with (flask-smorest Blueprint plus JWT and HTML docs)."""
