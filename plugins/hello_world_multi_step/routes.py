# SPDX-License-Identifier: Apache-2.0
"""Endpoints of hello-world-multi-step: metadata, the first form, the step form and both
processing endpoints."""

from __future__ import annotations

from http import HTTPStatus
from json import dumps
from typing import Any

from flask import Response, current_app, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import EXCLUDE

from qhana_plugin_runner.api.plugin_schemas import (
    DataMetadata,
    EntryPoint,
    PluginMetadata,
    PluginMetadataSchema,
    PluginType,
)
from qhana_plugin_runner.db.models.tasks import ProcessingTask
from qhana_plugin_runner.tasks import (
    TASK_STEPS_CHANGED,
    add_step,
    save_task_error,
    save_task_result,
)

from . import HELLO_MULTI_BLP, HelloWorldMultiStep
from .schemas import HelloWorldParametersSchema
from .tasks import preprocessing_task, processing_task

_TASK_NAME = "hello-world-multi-step"
_UI_SCHEMA = HelloWorldParametersSchema(partial=True, unknown=EXCLUDE, validate_errors_as_result=True)


@HELLO_MULTI_BLP.route("/")
class PluginsView(MethodView):
    """The plugin's metadata."""

    @HELLO_MULTI_BLP.response(HTTPStatus.OK, PluginMetadataSchema())
    @HELLO_MULTI_BLP.require_jwt("jwt", optional=True)
    def get(self) -> PluginMetadata:
        plugin = HelloWorldMultiStep.instance
        return PluginMetadata(
            title=plugin.name,
            description=plugin.description,
            name=plugin.name,
            version=plugin.version,
            type=PluginType.processing,
            entry_point=EntryPoint(
                href=url_for(f"{HELLO_MULTI_BLP.name}.ProcessView"),
                ui_href=url_for(f"{HELLO_MULTI_BLP.name}.MicroFrontend"),
                data_input=[],
                data_output=[DataMetadata(data_type="hello-world-output", content_type=["text/plain"], required=True)],
            ),
            tags=plugin.tags,
        )


def _render(values: Any, errors: dict[str, Any], valid: bool, process: str, example: str) -> Response:
    return Response(
        render_template(
            "simple_template.html",
            name=HelloWorldMultiStep.instance.name,
            version=HelloWorldMultiStep.instance.version,
            schema=HelloWorldParametersSchema(),
            values=values,
            valid=valid,
            errors=errors,
            process=process,
            help_text="Step one stores your text; the second form then asks for more.",
            example_values=example,
        )
    )


@HELLO_MULTI_BLP.route("/ui/")
class MicroFrontend(MethodView):
    """The first form."""

    @HELLO_MULTI_BLP.html_response(HTTPStatus.OK, description="The first form.")
    @HELLO_MULTI_BLP.arguments(_UI_SCHEMA, location="query", required=False)
    @HELLO_MULTI_BLP.require_jwt("jwt", optional=True)
    def get(self, errors: dict[str, Any]) -> Response:
        return self.render(request.args, errors, False)

    @HELLO_MULTI_BLP.html_response(HTTPStatus.OK, description="The first form, validated.")
    @HELLO_MULTI_BLP.arguments(_UI_SCHEMA, location="form", required=False)
    @HELLO_MULTI_BLP.require_jwt("jwt", optional=True)
    def post(self, errors: dict[str, Any]) -> Response:
        return self.render(request.form, errors, not errors)

    def render(self, values: Any, errors: dict[str, Any], valid: bool) -> Response:
        name = HELLO_MULTI_BLP.name
        return _render(values, errors, valid, url_for(f"{name}.ProcessView"), url_for(f"{name}.MicroFrontend", inputStr="Test."))


@HELLO_MULTI_BLP.route("/process/")
class ProcessView(MethodView):
    """Run the preprocessing step, then open the second step."""

    @HELLO_MULTI_BLP.arguments(HelloWorldParametersSchema(unknown=EXCLUDE), location="form")
    @HELLO_MULTI_BLP.response(HTTPStatus.SEE_OTHER)
    @HELLO_MULTI_BLP.require_jwt("jwt", optional=True)
    def post(self, arguments: dict[str, Any]) -> Response:
        db_task = ProcessingTask(task_name=_TASK_NAME, parameters=dumps(arguments))
        db_task.save(commit=True)
        name = HELLO_MULTI_BLP.name
        href = url_for(f"{name}.DemoStepView", db_id=db_task.id, _external=True)
        ui_href = url_for(f"{name}.DemoStepFrontend", db_id=db_task.id, _external=True)
        chain = preprocessing_task.s(db_id=db_task.id) | add_step.s(
            db_id=db_task.id, step_id="demo-step", href=href, ui_href=ui_href, prog_value=50
        )
        chain.link_error(save_task_error.s(db_id=db_task.id))
        chain.apply_async()
        return redirect(url_for("tasks-api.TaskView", task_id=str(db_task.id)), HTTPStatus.SEE_OTHER)


def _task_or_404(db_id: int) -> ProcessingTask:
    task = ProcessingTask.get_by_id(id_=db_id)
    if task is None or task.task_name != _TASK_NAME:  # another plugin's task is not ours to step
        abort(HTTPStatus.NOT_FOUND, message=f"No {_TASK_NAME} task with id {db_id}.")
    return task


@HELLO_MULTI_BLP.route("/<int:db_id>/demo-step-ui/")
class DemoStepFrontend(MethodView):
    """The second form, prefilled from the preprocessing step."""

    @HELLO_MULTI_BLP.html_response(HTTPStatus.OK, description="The step form.")
    @HELLO_MULTI_BLP.arguments(_UI_SCHEMA, location="query", required=False)
    @HELLO_MULTI_BLP.require_jwt("jwt", optional=True)
    def get(self, errors: dict[str, Any], db_id: int) -> Response:
        return self.render(request.args, db_id, errors, False)

    @HELLO_MULTI_BLP.html_response(HTTPStatus.OK, description="The step form, validated.")
    @HELLO_MULTI_BLP.arguments(_UI_SCHEMA, location="form", required=False)
    @HELLO_MULTI_BLP.require_jwt("jwt", optional=True)
    def post(self, errors: dict[str, Any], db_id: int) -> Response:
        return self.render(request.form, db_id, errors, not errors)

    def render(self, values: Any, db_id: int, errors: dict[str, Any], valid: bool) -> Response:
        task = _task_or_404(db_id)
        if not values:
            first = task.data.get("input_str", "") if isinstance(task.data, dict) else ""
            values = {"inputStr": "Input from preprocessing: " + first}
        name = HELLO_MULTI_BLP.name
        return _render(
            values,
            errors,
            valid,
            url_for(f"{name}.DemoStepView", db_id=db_id),
            url_for(f"{name}.DemoStepFrontend", db_id=db_id, inputStr="Sample input string."),
        )


@HELLO_MULTI_BLP.route("/<int:db_id>/demo-step-process/")
class DemoStepView(MethodView):
    """Close the step and run the processing step."""

    @HELLO_MULTI_BLP.arguments(HelloWorldParametersSchema(unknown=EXCLUDE), location="form")
    @HELLO_MULTI_BLP.response(HTTPStatus.SEE_OTHER)
    @HELLO_MULTI_BLP.alt_response(HTTPStatus.CONFLICT, description="The step is not open.")
    @HELLO_MULTI_BLP.require_jwt("jwt", optional=True)
    def post(self, arguments: dict[str, Any], db_id: int) -> Response:
        task = _task_or_404(db_id)
        if task.is_finished or not task.has_uncleared_step:
            abort(HTTPStatus.CONFLICT, message="This step is not open (not reached yet, or already submitted).")
        task.parameters = dumps(arguments)
        task.clear_previous_step()
        task.save(commit=True)
        TASK_STEPS_CHANGED.send(current_app._get_current_object(), task_id=db_id)
        chain = processing_task.s(db_id=db_id) | save_task_result.s(db_id=db_id)
        chain.link_error(save_task_error.s(db_id=db_id))
        chain.apply_async()
        return redirect(url_for("tasks-api.TaskView", task_id=str(db_id)), HTTPStatus.SEE_OTHER)
