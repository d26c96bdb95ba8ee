# SPDX-License-Identifier: Apache-2.0
"""Endpoints of scipy-minimizer: metadata, forms, the start and the ``minimize`` step."""

from __future__ import annotations

from http import HTTPStatus
from json import dumps, loads
from typing import Any

import marshmallow as ma
from flask import Response, current_app, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import EXCLUDE

from qhana_plugin_runner.api.plugin_schemas import (
    EntryPoint,
    PluginMetadata,
    PluginMetadataSchema,
    PluginType,
)
from qhana_plugin_runner.api.util import FrontendFormBaseSchema
from qhana_plugin_runner.db.models.tasks import ProcessingTask, TaskUpdateSubscription
from qhana_plugin_runner.tasks import TASK_STEPS_CHANGED, save_task_error, save_task_result

from . import MINIMIZER_BLP, ScipyMinimizer
from .tasks import minimize_task

_B = MINIMIZER_BLP.name


class StartSchema(FrontendFormBaseSchema):
    method = ma.fields.String(
        load_default="",
        metadata={
            "label": "Method",
            "description": "scipy method name; empty: BFGS with a gradient, else Nelder-Mead.",
        },
    )


class MinimizeSchema(FrontendFormBaseSchema):
    objective_function = ma.fields.Url(
        required=True,
        require_tld=False,
        metadata={
            "label": "Objective function",
            "description": "URL of an objective-function task in its evaluate step.",
        },
    )
    initial_weights = ma.fields.String(
        load_default="",
        metadata={
            "label": "Initial weights",
            "description": "Optional: URL of entity/vector JSON or an inline JSON list.",
        },
    )


def _form(schema: ma.Schema, process: str, help_text: str) -> Response:
    plugin = ScipyMinimizer.instance
    return Response(
        render_template(
            "simple_template.html",
            name=plugin.name,
            version=plugin.version,
            schema=schema,
            values=request.args,
            valid=False,
            errors={},
            process=process,
            help_text=help_text,
        )
    )


@MINIMIZER_BLP.route("/")
class PluginsView(MethodView):
    """The plugin's metadata."""

    @MINIMIZER_BLP.response(HTTPStatus.OK, PluginMetadataSchema())
    @MINIMIZER_BLP.require_jwt("jwt", optional=True)
    def get(self) -> PluginMetadata:
        plugin = ScipyMinimizer.instance
        return PluginMetadata(
            title="scipy Minimizer",
            description=plugin.description,
            name=plugin.name,
            version=plugin.version,
            type=PluginType.processing,
            tags=plugin.tags,
            entry_point=EntryPoint(
                href=url_for(f"{_B}.ProcessView"), ui_href=url_for(f"{_B}.MicroFrontend")
            ),
        )


@MINIMIZER_BLP.route("/ui/")
class MicroFrontend(MethodView):
    """The start form; a ``callback`` query parameter is handed on to the process endpoint."""

    @MINIMIZER_BLP.html_response(HTTPStatus.OK, description="Start form.")
    @MINIMIZER_BLP.require_jwt("jwt", optional=True)
    def get(self) -> Response:
        return _form(
            StartSchema(),
            url_for(f"{_B}.ProcessView", callback=request.args.get("callback")),
            "Pick a method; the objective function follows.",
        )


@MINIMIZER_BLP.route("/process/")
class ProcessView(MethodView):
    """Create the task, subscribe the caller's webhook and open ``minimize``."""

    @MINIMIZER_BLP.arguments(StartSchema(unknown=EXCLUDE), location="form")
    @MINIMIZER_BLP.response(HTTPStatus.SEE_OTHER)
    @MINIMIZER_BLP.require_jwt("jwt", optional=True)
    def post(self, arguments: dict[str, Any]) -> Response:
        task = ProcessingTask(
            task_name=minimize_task.name, multi_step=True, parameters=dumps(arguments)
        )
        task.save(commit=True)
        task_url = url_for("tasks-api.TaskView", task_id=str(task.id), _external=True)
        callback = request.args.get("callback")
        if callback:
            TaskUpdateSubscription(
                task=task, webhook_href=callback, task_href=task_url, event_type=None
            )
        task.add_next_step(
            href=url_for(f"{_B}.MinimizeView", db_id=task.id, _external=True),
            ui_href=url_for(f"{_B}.MinimizeFrontend", db_id=task.id, _external=True),
            step_id="minimize",
        )
        task.save(commit=True)
        TASK_STEPS_CHANGED.send(current_app._get_current_object(), task_id=task.id)
        return redirect(task_url, HTTPStatus.SEE_OTHER)


@MINIMIZER_BLP.route("/<int:db_id>/minimize-ui/")
class MinimizeFrontend(MethodView):
    """Form of the ``minimize`` step."""

    @MINIMIZER_BLP.html_response(HTTPStatus.OK, description="Objective function form.")
    @MINIMIZER_BLP.require_jwt("jwt", optional=True)
    def get(self, db_id: int) -> Response:
        return _form(
            MinimizeSchema(),
            url_for(f"{_B}.MinimizeView", db_id=db_id),
            "The objective function task to minimize.",
        )


@MINIMIZER_BLP.route("/<int:db_id>/minimize/")
class MinimizeView(MethodView):
    """Close ``minimize`` and run the minimization in Celery."""

    @MINIMIZER_BLP.arguments(MinimizeSchema(unknown=EXCLUDE), location="form")
    @MINIMIZER_BLP.response(HTTPStatus.SEE_OTHER)
    @MINIMIZER_BLP.alt_response(HTTPStatus.CONFLICT, description="The step 'minimize' is not open.")
    @MINIMIZER_BLP.require_jwt("jwt", optional=True)
    def post(self, arguments: dict[str, Any], db_id: int) -> Response:
        task = ProcessingTask.get_by_id(id_=db_id)
        if task is None or task.task_name != minimize_task.name:  # not another plugin's task
            abort(HTTPStatus.NOT_FOUND, message=f"No scipy-minimizer task with id {db_id}.")
        if task.is_finished or not task.has_uncleared_step:
            abort(HTTPStatus.CONFLICT, message="The step 'minimize' is not open.")
        task.parameters = dumps({**loads(task.parameters or "{}"), **arguments})
        task.clear_previous_step()
        task.save(commit=True)
        TASK_STEPS_CHANGED.send(current_app._get_current_object(), task_id=db_id)
        chain = minimize_task.s(db_id=db_id) | save_task_result.s(db_id=db_id)
        chain.link_error(save_task_error.s(db_id=db_id))
        chain.apply_async()
        return redirect(
            url_for("tasks-api.TaskView", task_id=str(db_id), _external=True), HTTPStatus.SEE_OTHER
        )
