# SPDX-License-Identifier: Apache-2.0
"""hello-world: the smallest useful plugin. Text in; the text with "input" replaced by "output"
comes back as a file. Written against the public plugin API only, like any external plugin."""

from __future__ import annotations

from http import HTTPStatus
from json import dumps, loads
from tempfile import SpooledTemporaryFile
from typing import Any

import marshmallow as ma
from celery.utils.log import get_task_logger
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
from qhana_plugin_runner.api.util import FrontendFormBaseSchema, SecurityBlueprint
from qhana_plugin_runner.celery import CELERY
from qhana_plugin_runner.db.models.tasks import ProcessingTask
from qhana_plugin_runner.storage import STORE
from qhana_plugin_runner.tasks import save_task_error, save_task_result
from qhana_plugin_runner.util.plugins import QHAnaPluginBase, plugin_identifier

_NAME = "hello-world"
__version__ = "v0.2.1"
_IDENTIFIER = plugin_identifier(_NAME, __version__)

HELLO_BLP = SecurityBlueprint(_IDENTIFIER, __name__, description="Demo plugin API.")

TASK_LOGGER = get_task_logger(__name__)


class HelloWorldParametersSchema(FrontendFormBaseSchema):
    input_str = ma.fields.String(
        required=True,
        allow_none=False,
        validate=ma.validate.Length(min=1),
        metadata={"label": "Input String", "description": "Any text; every \"input\" in it becomes \"output\".", "input_type": "textarea"},
    )


class HelloWorld(QHAnaPluginBase):
    name = _NAME
    version = __version__
    description = "Tests the connection of all components by printing some text."
    tags = ["hello-world", "demo"]

    def get_api_blueprint(self) -> SecurityBlueprint:
        return HELLO_BLP

    def get_requirements(self) -> str:
        return ""


@HELLO_BLP.route("/")
class PluginsView(MethodView):
    """The plugin's metadata."""

    @HELLO_BLP.response(HTTPStatus.OK, PluginMetadataSchema())
    @HELLO_BLP.require_jwt("jwt", optional=True)
    def get(self) -> PluginMetadata:
        plugin = HelloWorld.instance
        return PluginMetadata(
            title="Hello World",
            description=plugin.description,
            name=plugin.name,
            version=plugin.version,
            type=PluginType.processing,
            entry_point=EntryPoint(
                href=url_for(f"{HELLO_BLP.name}.ProcessView"),
                ui_href=url_for(f"{HELLO_BLP.name}.MicroFrontend"),
                data_input=[],
                data_output=[DataMetadata(data_type="custom/hello-world-output", content_type=["text/plain"], required=True)],
            ),
            tags=plugin.tags,
        )


@HELLO_BLP.route("/ui/")
class MicroFrontend(MethodView):
    """The plugin's form (GET: empty or prefilled from the query; POST: validate)."""

    example_inputs = {"inputStr": "Sample input string."}

    @HELLO_BLP.html_response(HTTPStatus.OK, description="Micro frontend of the hello world plugin.")
    @HELLO_BLP.arguments(HelloWorldParametersSchema(partial=True, unknown=EXCLUDE, validate_errors_as_result=True), location="query", required=False)
    @HELLO_BLP.require_jwt("jwt", optional=True)
    def get(self, errors: dict[str, Any]) -> Response:
        return self.render(request.args, errors, False)

    @HELLO_BLP.html_response(HTTPStatus.OK, description="Micro frontend of the hello world plugin.")
    @HELLO_BLP.arguments(HelloWorldParametersSchema(partial=True, unknown=EXCLUDE, validate_errors_as_result=True), location="form", required=False)
    @HELLO_BLP.require_jwt("jwt", optional=True)
    def post(self, errors: dict[str, Any]) -> Response:
        return self.render(request.form, errors, not errors)

    def render(self, data: Any, errors: dict[str, Any], valid: bool) -> Response:
        return Response(
            render_template(
                "simple_template.html",
                name=HelloWorld.instance.name,
                version=HelloWorld.instance.version,
                schema=HelloWorldParametersSchema(),
                valid=valid,
                values=data,
                errors=errors,
                process=url_for(f"{HELLO_BLP.name}.ProcessView"),
                help_text="Type some text. The plugin answers with a file in which every **input** became **output**.",
                example_values=url_for(f"{HELLO_BLP.name}.MicroFrontend", **self.example_inputs),
            )
        )


@HELLO_BLP.route("/process/")
class ProcessView(MethodView):
    """Start the task; answers 303 to the task resource."""

    @HELLO_BLP.arguments(HelloWorldParametersSchema(unknown=EXCLUDE), location="form")
    @HELLO_BLP.response(HTTPStatus.SEE_OTHER)
    @HELLO_BLP.require_jwt("jwt", optional=True)
    def post(self, arguments: dict[str, Any]) -> Response:
        db_task = ProcessingTask(task_name=demo_task.name, parameters=dumps(arguments))
        db_task.save(commit=True)
        chain = demo_task.s(db_id=db_task.id) | save_task_result.s(db_id=db_task.id)
        chain.link_error(save_task_error.s(db_id=db_task.id))
        chain.apply_async()
        return redirect(url_for("tasks-api.TaskView", task_id=str(db_task.id)), HTTPStatus.SEE_OTHER)


@CELERY.task(name=f"{HelloWorld.instance.identifier}.demo_task", bind=True)
def demo_task(self: Any, db_id: int) -> str:
    task_data = ProcessingTask.get_by_id(id_=db_id)
    if task_data is None:
        raise KeyError(f"Could not load task data with id {db_id} to read parameters!")
    input_str: str | None = loads(task_data.parameters or "{}").get("input_str")
    if input_str is None:
        raise ValueError("No input argument provided!")
    out_str = input_str.replace("input", "output")
    with SpooledTemporaryFile(mode="w") as output:
        output.write(out_str)
        STORE.persist_task_result(db_id, output, "out.txt", "custom/hello-world-output", "text/plain")
    TASK_LOGGER.info("hello-world task %s done", db_id)
    return "result: " + repr(out_str)
