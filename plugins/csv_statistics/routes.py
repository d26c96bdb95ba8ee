# SPDX-License-Identifier: Apache-2.0
"""Endpoints of csv-statistics: metadata, the micro-frontend and the processing endpoint."""

from __future__ import annotations

from http import HTTPStatus
from json import dumps
from typing import Any

from flask import Response, redirect, render_template, request, url_for
from flask.views import MethodView
from marshmallow import EXCLUDE

from qhana_plugin_runner.api.plugin_schemas import (
    DataMetadata,
    EntryPoint,
    PluginMetadata,
    PluginMetadataSchema,
    PluginType,
)
from qhana_plugin_runner.db.models.tasks import ProcessingTask
from qhana_plugin_runner.tasks import save_task_error, save_task_result

from . import CSV_STATS_BLP, CsvStatistics
from .schemas import CsvStatisticsSchema
from .tasks import statistics_task

_UI_SCHEMA = CsvStatisticsSchema(partial=True, unknown=EXCLUDE, validate_errors_as_result=True)
_FORM_DEFAULTS = {"delimiter": "comma", "maxRows": "100000"}
_HELP = """Summarises the numeric columns of a CSV file with a header row.

Outputs: `statistics.json`, `statistics.csv`, a bar chart of the means (`means.svg`) and an
HTML report. Non-numeric cells are counted as values but left out of the statistics."""


@CSV_STATS_BLP.route("/")
class PluginsView(MethodView):
    """The plugin's metadata."""

    @CSV_STATS_BLP.response(HTTPStatus.OK, PluginMetadataSchema())
    @CSV_STATS_BLP.require_jwt("jwt", optional=True)
    def get(self) -> PluginMetadata:
        plugin = CsvStatistics.instance
        return PluginMetadata(
            title="CSV statistics",
            description=plugin.description,
            name=plugin.name,
            version=plugin.version,
            type=PluginType.processing,
            entry_point=EntryPoint(
                href=url_for(f"{CSV_STATS_BLP.name}.ProcessView"),
                ui_href=url_for(f"{CSV_STATS_BLP.name}.MicroFrontend"),
                data_input=[DataMetadata(data_type="entity/list", content_type=["text/csv"], required=True)],
                data_output=[
                    DataMetadata(data_type="custom/column-statistics", content_type=["application/json", "text/csv"], required=True),
                    DataMetadata(data_type="plot", content_type=["image/svg+xml", "text/html"], required=True),
                ],
            ),
            tags=plugin.tags,
        )


@CSV_STATS_BLP.route("/ui/")
class MicroFrontend(MethodView):
    """The form (GET: empty or prefilled from the query; POST: validate)."""

    @CSV_STATS_BLP.html_response(HTTPStatus.OK, description="The form.")
    @CSV_STATS_BLP.arguments(_UI_SCHEMA, location="query", required=False)
    @CSV_STATS_BLP.require_jwt("jwt", optional=True)
    def get(self, errors: dict[str, Any]) -> Response:
        return self.render(request.args, errors, False)

    @CSV_STATS_BLP.html_response(HTTPStatus.OK, description="The form, validated.")
    @CSV_STATS_BLP.arguments(_UI_SCHEMA, location="form", required=False)
    @CSV_STATS_BLP.require_jwt("jwt", optional=True)
    def post(self, errors: dict[str, Any]) -> Response:
        return self.render(request.form, errors, not errors)

    def render(self, values: Any, errors: dict[str, Any], valid: bool) -> Response:
        name = CSV_STATS_BLP.name
        values = {**_FORM_DEFAULTS, **{key: values.get(key) for key in values}}
        example = url_for("static", filename="debug/samples/measurements.csv", _external=True)
        return Response(
            render_template(
                "simple_template.html",
                name=CsvStatistics.instance.name,
                version=CsvStatistics.instance.version,
                schema=CsvStatisticsSchema(),
                values=values,
                errors=errors,
                valid=valid,
                process=url_for(f"{name}.ProcessView"),
                help_text=_HELP,
                example_values=url_for(f"{name}.MicroFrontend", dataUrl=example, delimiter="comma", columns="temperature,humidity"),
            )
        )


@CSV_STATS_BLP.route("/process/")
class ProcessView(MethodView):
    """Start the task; answers 303 to the task resource."""

    @CSV_STATS_BLP.arguments(CsvStatisticsSchema(unknown=EXCLUDE), location="form")
    @CSV_STATS_BLP.response(HTTPStatus.SEE_OTHER)
    @CSV_STATS_BLP.require_jwt("jwt", optional=True)
    def post(self, arguments: dict[str, Any]) -> Response:
        db_task = ProcessingTask(task_name=statistics_task.name, parameters=dumps(CsvStatisticsSchema().dump(arguments)))
        db_task.save(commit=True)
        chain = statistics_task.s(db_id=db_task.id) | save_task_result.s(db_id=db_task.id)
        chain.link_error(save_task_error.s(db_id=db_task.id))
        chain.apply_async()
        return redirect(url_for("tasks-api.TaskView", task_id=str(db_task.id)), HTTPStatus.SEE_OTHER)
