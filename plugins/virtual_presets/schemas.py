# SPDX-License-Identifier: Apache-2.0
"""Forms and JSON shapes of the presets plugin."""

from __future__ import annotations

import marshmallow as ma

from qhana_plugin_runner.api.util import FrontendFormBaseSchema, MaBaseSchema

from .store import slug_of

_INPUT_METADATA = {
    "label": "Input String",
    "description": 'The text hello-world works on; every "input" in it becomes "output".',
    "input_type": "textarea",
}


def _has_slug(value: str) -> None:
    if not slug_of(value):
        raise ma.ValidationError("The name needs at least one letter or digit.")


class PresetFormSchema(FrontendFormBaseSchema):
    """The form that saves a preset: its name, a description and the hello-world input."""

    preset_name = ma.fields.String(
        required=True,
        allow_none=False,
        validate=[ma.validate.Length(min=1, max=100), _has_slug],
        metadata={"label": "Preset name", "description": "Names the new plugin (letters and digits make its id)."},
    )
    preset_description = ma.fields.String(
        required=False,
        load_default="",
        validate=ma.validate.Length(max=1000),
        metadata={"label": "Description", "description": "What the preset is for (optional).", "input_type": "textarea"},
    )
    input_str = ma.fields.String(required=True, allow_none=False, validate=ma.validate.Length(min=1), metadata=_INPUT_METADATA)


class PresetInputSchema(FrontendFormBaseSchema):
    """The preset plugin's own form: hello-world's input, prefilled with the preset."""

    input_str = ma.fields.String(required=True, allow_none=False, validate=ma.validate.Length(min=1), metadata=_INPUT_METADATA)


class PresetRunSchema(FrontendFormBaseSchema):
    """What running a preset accepts: every field optional, a missing one keeps the preset's."""

    input_str = ma.fields.String(required=False, allow_none=True, load_default=None, metadata=_INPUT_METADATA)


class PresetEntrySchema(MaBaseSchema):
    preset_id = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    href = ma.fields.Url(required=True, require_tld=False)


class PresetListSchema(MaBaseSchema):
    presets = ma.fields.List(ma.fields.Nested(PresetEntrySchema()), required=True)
