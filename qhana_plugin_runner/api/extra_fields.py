# SPDX-License-Identifier: Apache-2.0
"""Extra marshmallow fields plugins use in their forms: ``EnumField`` and ``CSVList``. Public."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

import marshmallow as ma
from marshmallow.validate import OneOf, ValidationError

__all__ = ["EnumField", "OneOfEnum", "CSVList"]


class OneOfEnum(OneOf):
    """``OneOf`` over enum member names; None (an empty choice) always passes.

    ``choices`` holds names (strings), so the OpenAPI document lists them as the enum.
    """

    def __init__(
        self,
        enum: type[Enum],
        choices: Iterable[Any],
        labels: Iterable[str] | None = None,
        *,
        error: str | None = None,
        use_value: bool = False,
    ) -> None:
        self.enum = enum
        self.use_value = use_value
        names = [c.name if isinstance(c, Enum) else str(c) for c in choices]
        super().__init__([n for n in names if n != ""], labels, error=error)

    def __call__(self, value: Any) -> Any:
        if value is None:  # "" loads as None: no choice made (required-ness is checked elsewhere)
            return value
        name = value.name if isinstance(value, self.enum) else value
        if name not in self.choices:
            raise ValidationError(self._format_error(value))
        return value


class EnumField(ma.fields.Field):
    """An enum member in, its name out; ``metadata["options"]`` lists name → label for forms.

    With ``use_value`` a member's value is accepted as well as its name (the value wins when
    a value equals another member's name).
    """

    default_error_messages = {"invalid": "Not a valid choice."}

    def __init__(self, enum_type: type[Enum], use_value: bool = False, **kwargs: Any) -> None:
        self.enum_type = enum_type
        self.use_value = use_value
        metadata = dict(kwargs.pop("metadata", None) or {})
        metadata["options"] = self._options(metadata.get("options"))
        kwargs["metadata"] = metadata
        super().__init__(**kwargs)
        choices = [key for key in metadata["options"].keys()]
        self.validators.insert(0, OneOfEnum(enum_type, choices, error=self.error_messages["invalid"], use_value=False))

    def _options(self, overrides: Mapping[Any, str] | None) -> OrderedDict[str, str]:
        options: OrderedDict[str, str] = OrderedDict(
            (member.name, str(member.value)) for member in self.enum_type
        )
        if overrides:
            relabelled: OrderedDict[str, str] = OrderedDict()
            for key, label in overrides.items():
                name = key.name if isinstance(key, Enum) else str(key)
                relabelled[name] = label
            if "" in relabelled:
                relabelled.move_to_end("", last=False)
            options = relabelled
        return options

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, self.enum_type):
            return value.name
        return str(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Enum | None:
        if value == "" or value is None:
            return None
        if isinstance(value, self.enum_type):
            return value
        if self.use_value:
            try:
                return self.enum_type(value)
            except ValueError:
                pass  # a name: what the form's options and ``_serialize`` give
        try:
            return self.enum_type[value]
        except (KeyError, TypeError):  # TypeError: a list or dict from a JSON body
            raise self.make_error("invalid") from None


class CSVList(ma.fields.Field):
    """A list that travels as one comma-separated string (``"a,b"`` ↔ ``["a", "b"]``)."""

    def __init__(self, element_type: ma.fields.Field, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.element_type = element_type

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return ",".join(str(self.element_type._serialize(v, attr, obj, **kwargs)) for v in value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        if isinstance(value, list | tuple):
            items = list(value)
        elif not isinstance(value, str):
            raise self.make_error("invalid")
        else:
            items = [item.strip() for item in value.split(",")] if value.strip() else []
        return [self.element_type.deserialize(item) for item in items]

    default_error_messages = {"invalid": "Not a valid comma separated list."}
