# SPDX-License-Identifier: Apache-2.0
"""Endpoints of the optimization coordinator: metadata, form, process and the webhook."""

from __future__ import annotations

from http import HTTPStatus
from json import dumps
from typing import Any

import marshmallow as ma
from flask import Response, redirect, render_template, request, url_for
from flask.views import MethodView
from marshmallow import EXCLUDE

from qhana_plugin_runner.api.plugin_schemas import (
    EntryPoint,
    PluginMetadata,
    PluginMetadataSchema,
    PluginType,
)
from qhana_plugin_runner.api.util import FrontendFormBaseSchema, PluginUrl
from qhana_plugin_runner.db.models.tasks import ProcessingTask
from qhana_plugin_runner.tasks import save_task_error

from . import COORDINATOR_BLP, OptimizationCoordinator
from .tasks import CREATED, DONE, advance, start_objective

_B = COORDINATOR_BLP.name


class OptimizationSchema(FrontendFormBaseSchema):
    objective_function_url = PluginUrl(
        required=True,
        plugin_tags=["objective-function"],
        metadata={"label": "Objective function plugin"},
    )
    minimizer_url = PluginUrl(
        required=True, plugin_tags=["minimizer"], metadata={"label": "Minimizer plugin"}
    )
    features = ma.fields.String(
        required=True,
        metadata={
            "label": "Features",
            "description": "URL of entity/vector data, or an inline JSON list of rows.",
            "input_type": "textarea",
        },
    )
    target = ma.fields.String(
        required=True,
        metadata={
            "label": "Target",
            "description": "URL of entity/vector data (one value per entity), or an inline JSON list.",
            "input_type": "textarea",
        },
    )
    initial_weights = ma.fields.String(
        load_default="",
        metadata={
            "label": "Initial weights",
            "description": "Optional, passed on to the minimizer.",
        },
    )


@COORDINATOR_BLP.route("/")
class PluginsView(MethodView):
    """The plugin's metadata."""

    @COORDINATOR_BLP.response(HTTPStatus.OK, PluginMetadataSchema())
    @COORDINATOR_BLP.require_jwt("jwt", optional=True)
    def get(self) -> PluginMetadata:
        plugin = OptimizationCoordinator.instance
        return PluginMetadata(
            title="Optimization",
            description=plugin.description,
            name=plugin.name,
            version=plugin.version,
            type=PluginType.processing,
            tags=plugin.tags,
            entry_point=EntryPoint(
                href=url_for(f"{_B}.ProcessView"), ui_href=url_for(f"{_B}.MicroFrontend")
            ),
        )


@COORDINATOR_BLP.route("/ui/")
class MicroFrontend(MethodView):
    """The form: which plugins, which data."""

    @COORDINATOR_BLP.html_response(HTTPStatus.OK, description="The optimization form.")
    @COORDINATOR_BLP.require_jwt("jwt", optional=True)
    def get(self) -> Response:
        plugin = OptimizationCoordinator.instance
        return Response(
            render_template(
                "simple_template.html",
                name=plugin.name,
                version=plugin.version,
                schema=OptimizationSchema(),
                values=request.args,
                valid=False,
                errors={},
                process=url_for(f"{_B}.ProcessView"),
                help_text="Pick an objective function and a minimizer; the result is the optimal weight vector.",
            )
        )


@COORDINATOR_BLP.route("/process/")
class ProcessView(MethodView):
    """Create the task and start the objective function (in Celery)."""

    @COORDINATOR_BLP.arguments(OptimizationSchema(unknown=EXCLUDE), location="form")
    @COORDINATOR_BLP.response(HTTPStatus.SEE_OTHER)
    @COORDINATOR_BLP.require_jwt("jwt", optional=True)
    def post(self, arguments: dict[str, Any]) -> Response:
        task = ProcessingTask(
            task_name=advance.name,
            parameters=dumps(arguments),
            progress_value=CREATED,
            progress_target=DONE,
            progress_unit="stages",
        )
        task.save(commit=True)
        task.data["webhook"] = url_for(f"{_B}.WebhookView", db_id=task.id, _external=True)
        task.save(commit=True)
        start = start_objective.si(db_id=task.id)
        start.link_error(save_task_error.s(db_id=task.id))
        start.apply_async()
        return redirect(url_for("tasks-api.TaskView", task_id=str(task.id)), HTTPStatus.SEE_OTHER)


@COORDINATOR_BLP.route("/<int:db_id>/webhook/")
class WebhookView(MethodView):
    """Called by the objective function and the minimizer tasks when they change."""

    @COORDINATOR_BLP.response(HTTPStatus.NO_CONTENT)
    @COORDINATOR_BLP.require_jwt("jwt", optional=True)
    def post(self, db_id: int) -> Response:
        task = ProcessingTask.get_by_id(id_=db_id)
        source = request.args.get("source")
        # only this plugin's own running tasks advance (any other id is ignored, like a stale call)
        if task is not None and task.task_name == advance.name and not task.is_finished and source:
            step = advance.si(db_id=db_id, source=source)
            step.link_error(save_task_error.s(db_id=db_id))
            step.apply_async()
        return Response(status=HTTPStatus.NO_CONTENT)
