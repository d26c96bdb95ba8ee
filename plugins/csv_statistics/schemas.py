# SPDX-License-Identifier: Apache-2.0
"""The form of csv-statistics: a CSV file URL, the delimiter, the columns to summarise."""

from __future__ import annotations

from enum import Enum

import marshmallow as ma

from qhana_plugin_runner.api import EnumField
from qhana_plugin_runner.api.extra_fields import CSVList
from qhana_plugin_runner.api.util import FileUrl, FrontendFormBaseSchema

__all__ = ["Delimiter", "CsvStatisticsSchema"]


class Delimiter(Enum):
    comma = ","
    semicolon = ";"
    tab = "\t"


class CsvStatisticsSchema(FrontendFormBaseSchema):
    data_url = FileUrl(
        required=True,
        allow_none=False,
        data_input_type="entity/list",
        data_content_types=["text/csv"],
        metadata={
            "label": "CSV file",
            "description": "A table with a header row, e.g. `entity/list` data in `text/csv`.",
        },
    )
    delimiter = EnumField(
        Delimiter,
        load_default=Delimiter.comma,
        metadata={
            "label": "Delimiter",
            "input_type": "radio",
            "options": {Delimiter.comma: "comma", Delimiter.semicolon: "semicolon", Delimiter.tab: "tab"},
        },
    )
    columns = CSVList(
        ma.fields.String(),
        load_default=None,
        metadata={
            "label": "Columns",
            "description": "Comma-separated column names; empty means every numeric column.",
        },
    )
    max_rows = ma.fields.Integer(
        load_default=100_000,
        validate=ma.validate.Range(min=1, max=10_000_000),
        metadata={"label": "Row limit", "description": "Rows read at most."},
    )
