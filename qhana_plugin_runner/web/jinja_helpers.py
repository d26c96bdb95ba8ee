# SPDX-License-Identifier: Apache-2.0
"""Jinja globals and filters used by ``forms.html`` to turn marshmallow fields into inputs.

``register_jinja_helpers(app)`` is called once by the app factory (through ``init_web``). The
helpers are plain functions of a field (or schema), so plugin templates can call them too:
``get_input_type``, ``get_input_attr_step``, ``get_validation_attrs``, ``space_delimited_list``
and ``get_datalist_from_schema`` keep the names plugin templates know. ``get_field_view``
gathers everything one form row needs, so the macros stay free of lookup logic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

import marshmallow as ma
from marshmallow.validate import Length, Range

from ..api.extra_fields import CSVList
from ..api.util import is_private_field
from .markdown import render_markdown

if TYPE_CHECKING:
    from flask import Flask

__all__ = [
    "FieldView",
    "get_datalist_from_schema",
    "get_field_view",
    "get_input_attr_step",
    "get_input_type",
    "get_validation_attrs",
    "register_jinja_helpers",
    "space_delimited_list",
]

# Checked in order: subclasses before their bases (Email and Url are Strings, Date is a DateTime).
_INPUT_TYPES: tuple[tuple[type[ma.fields.Field], str], ...] = (
    (ma.fields.Boolean, "checkbox"),
    (ma.fields.Email, "email"),
    (ma.fields.Url, "url"),
    (ma.fields.Number, "number"),
    (ma.fields.Date, "date"),
    (ma.fields.Time, "time"),
    (ma.fields.DateTime, "datetime-local"),
    (CSVList, "text"),
    (ma.fields.Raw, "textarea"),
    (ma.fields.String, "text"),
)


def get_input_type(field: ma.fields.Field) -> str | None:
    """HTML input type for ``field``: ``metadata["input_type"]``, else derived from its class.

    Fields with ``metadata["options"]`` (every ``EnumField``) become a ``select``. None means
    the form cannot show the field.
    """
    explicit = field.metadata.get("input_type")
    if explicit:
        return str(explicit)
    if field.metadata.get("options"):
        return "select"
    for field_class, input_type in _INPUT_TYPES:
        if isinstance(field, field_class):
            return input_type
    return None


def get_input_attr_step(field: ma.fields.Field) -> str | None:
    """``step`` attribute: ``metadata["step"]``, else ``1`` for integers, ``any`` for decimals."""
    step = field.metadata.get("step")
    if step is not None:
        return str(step)
    if isinstance(field, ma.fields.Integer):
        return "1"
    if isinstance(field, ma.fields.Float | ma.fields.Decimal):
        return "any"
    return None


def _bound(value: Any, inclusive: bool, integer: bool, direction: int) -> str:
    # HTML bounds are inclusive; an exclusive integer bound moves by one, others stay approximate
    # (the server validates anyway).
    if not inclusive and integer and isinstance(value, int):
        value = value + direction
    return str(value)


def get_validation_attrs(field: ma.fields.Field) -> dict[str, str]:
    """``min``/``max`` from ``Range`` and ``minlength``/``maxlength`` from ``Length`` validators.

    ``Length`` is skipped for list-valued fields, where it counts items, not characters.
    """
    attrs: dict[str, str] = {}
    integer = isinstance(field, ma.fields.Integer)
    counts_items = isinstance(field, ma.fields.List | CSVList)
    for validator in field.validators:
        if isinstance(validator, Range):
            if validator.min is not None:
                attrs["min"] = _bound(validator.min, validator.min_inclusive, integer, 1)
            if validator.max is not None:
                attrs["max"] = _bound(validator.max, validator.max_inclusive, integer, -1)
        elif isinstance(validator, Length) and not counts_items:
            low = validator.equal if validator.equal is not None else validator.min
            high = validator.equal if validator.equal is not None else validator.max
            if low is not None:
                attrs["minlength"] = str(low)
            if high is not None:
                attrs["maxlength"] = str(high)
    return attrs


def space_delimited_list(items: Iterable[Any] | str | None) -> str:
    """``["a", "b"]`` → ``"a b"`` (a single string is returned as is, None as ``""``)."""
    if items is None:
        return ""
    if isinstance(items, str):
        return items
    return " ".join(str(item) for item in items)


def get_datalist_from_schema(schema: ma.Schema, key: str) -> Any:
    """The suggestions a schema offers for ``key`` in its optional ``datalists`` mapping."""
    datalists = getattr(schema, "datalists", None)
    if isinstance(datalists, Mapping):
        return datalists.get(key)
    return None


@dataclass(frozen=True)
class FieldView:
    """Everything ``forms.html`` needs to render one field (``key`` is the input id)."""

    key: str
    name: str
    label: str
    input_type: str | None
    required: bool
    value: str | None
    checked: bool
    options: list[tuple[str, str]]
    datalist: list[tuple[str, str]]
    errors: list[str]
    attrs: dict[str, str]
    is_data_input: bool
    is_plugin_input: bool
    is_private: bool


def _lookup(mapping: Any, *keys: str) -> Any:
    if not mapping:
        return None
    for key in keys:
        if key in mapping:
            return mapping.get(key)
    return None


def _as_text(field: ma.fields.Field, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple) and isinstance(field, CSVList):
        return ",".join(str(item) for item in value)
    if isinstance(value, float | int | Decimal | str):
        return str(value)
    try:
        dumped = field.serialize("value", {"value": value})
    except (ma.ValidationError, TypeError, ValueError, AttributeError):
        return str(value)
    return None if dumped is None else str(dumped)


def _is_checked(field: ma.fields.Field, value: Any) -> bool:
    if isinstance(value, str):
        truthy = getattr(field, "truthy", None) or {"true", "True", "on", "1"}
        return value in truthy or value.lower() in {"true", "on", "1", "yes", "y"}
    return bool(value)


def _pairs(items: Any) -> list[tuple[str, str]]:
    if not items:
        return []
    if isinstance(items, Mapping):
        return [(str(k), str(v)) for k, v in items.items()]
    pairs: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, list | tuple) and len(item) == 2:
            pairs.append((str(item[0]), str(item[1])))
        else:
            pairs.append((str(item), str(item)))
    return pairs


def _messages(errors: Any) -> list[str]:
    if errors is None:
        return []
    if isinstance(errors, str):
        return [errors]
    if isinstance(errors, Mapping):
        return [message for value in errors.values() for message in _messages(value)]
    if isinstance(errors, Iterable):
        return [message for value in errors for message in _messages(value)]
    return [str(errors)]


def _extra(extras: Any, key: str, name: str) -> Mapping[str, Any]:
    extra = _lookup(extras, key, name)
    if isinstance(extra, Mapping):
        return extra
    return vars(extra) if extra is not None and hasattr(extra, "__dict__") else {}


def get_field_view(
    schema: ma.Schema,
    key: str,
    field: ma.fields.Field,
    values: Any = None,
    errors: Any = None,
    extras: Any = None,
) -> FieldView:
    """Collect the label, value, options, errors and attributes for the field at ``key``."""
    meta = field.metadata
    name = field.data_key or key
    extra = _extra(extras, key, name)
    input_type = get_input_type(field)
    raw_value = _lookup(values, name, key)
    attrs = get_validation_attrs(field)
    step = get_input_attr_step(field)
    if step is not None and input_type in ("number", "range"):
        attrs["step"] = step
    datalist = (
        meta.get("datalist") or extra.get("datalist") or get_datalist_from_schema(schema, key)
    )
    return FieldView(
        key=key,
        name=name,
        label=str(meta.get("label") or name),
        input_type=input_type,
        required=bool(field.required),
        value=_as_text(field, raw_value),
        checked=raw_value is not None and _is_checked(field, raw_value),
        options=_pairs(meta.get("options") or extra.get("options")),
        datalist=_pairs(datalist),
        errors=_messages(_lookup(errors, name, key)),
        attrs=attrs,
        is_data_input="data_input_type" in meta or "data_content_types" in meta,
        is_plugin_input="plugin_tags" in meta or "plugin_name" in meta,
        is_private=is_private_field(field),
    )


def register_jinja_helpers(app: Flask) -> None:
    """Make the form helpers and the ``markdown`` filter available to every template of ``app``."""
    app.jinja_env.globals.update(
        get_input_type=get_input_type,
        get_input_attr_step=get_input_attr_step,
        get_validation_attrs=get_validation_attrs,
        space_delimited_list=space_delimited_list,
        get_datalist_from_schema=get_datalist_from_schema,
        get_field_view=get_field_view,
    )
    app.jinja_env.filters["markdown"] = render_markdown
