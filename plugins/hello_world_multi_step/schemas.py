# SPDX-License-Identifier: Apache-2.0
"""The one form both steps of hello-world-multi-step use."""

import marshmallow as ma

from qhana_plugin_runner.api.util import FrontendFormBaseSchema


class HelloWorldParametersSchema(FrontendFormBaseSchema):
    input_str = ma.fields.String(
        required=True,
        allow_none=False,
        metadata={"label": "Input String", "description": "Any text.", "input_type": "textarea"},
    )
