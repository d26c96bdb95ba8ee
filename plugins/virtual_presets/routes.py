# SPDX-License-Identifier: Apache-2.0
"""Endpoints of the presets plugin itself: metadata, the form that saves a preset, its
processing endpoint, and the preset collection (list, and save with 201).

Saving commits first and then sends ``VIRTUAL_PLUGIN_CREATED``; the runner's notifier tells
the plugin registry in the background. Each preset's own endpoints are in ``virtual.py``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from http import HTTPStatus
from json import dumps
from typing import Any

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
from qhana_plugin_runner.db import DB
from qhana_plugin_runner.db.models.tasks import ProcessingTask, TaskLink, TaskStatus
from qhana_plugin_runner.db.models.virtual_plugins import VIRTUAL_PLUGIN_CREATED

from . import PRESETS_BLP, Presets
from .schemas import PresetEntrySchema, PresetFormSchema, PresetListSchema
from .store import Preset, PresetExists, list_presets, save_preset, slug_of

_BP = PRESETS_BLP.name


def owner_id() -> str:
    """The id presets are stored under (this plugin's identifier)."""
    return Presets.instance.identifier


def render_form(schema: Any, values: Any, errors: dict[str, Any], valid: bool, process: str, help_text: str, example: str | None = None) -> Response:
    """A page of the shared form template (``simple_template.html``)."""
    return Response(
        render_template(
            "simple_template.html",
            name=Presets.instance.name,
            version=Presets.instance.version,
            schema=schema,
            values=values,
            errors=errors,
            valid=valid,
            process=process,
            help_text=help_text,
            example_values=example,
        )
    )


def _entry(preset: Preset) -> dict[str, Any]:
    return {"preset_id": preset.preset_id, "title": preset.title, "description": preset.description, "href": preset.href}


def _create(arguments: dict[str, Any]) -> Preset:
    """Save the preset, then announce its virtual plugin (409 if the name is taken)."""
    preset_id = slug_of(arguments["preset_name"])
    preset = Preset(
        preset_id=preset_id,
        title=arguments["preset_name"].strip(),
        description=(arguments.get("preset_description") or "").strip(),
        version=Presets.instance.version,
        href=url_for(f"{_BP}.PresetView", preset_id=preset_id, _external=True),
        values={"input_str": arguments["input_str"]},
    )
    try:
        save_preset(owner_id(), preset)
    except PresetExists:
        abort(HTTPStatus.CONFLICT, message=f"A preset with the id {preset_id!r} exists already; choose another name.")
    VIRTUAL_PLUGIN_CREATED.send(current_app._get_current_object(), plugin_url=preset.href)
    return preset


@PRESETS_BLP.route("/")
class PluginsView(MethodView):
    """The presets plugin's metadata."""

    @PRESETS_BLP.response(HTTPStatus.OK, PluginMetadataSchema())
    @PRESETS_BLP.require_jwt("jwt", optional=True)
    def get(self) -> PluginMetadata:
        plugin = Presets.instance
        return PluginMetadata(
            title="Presets for hello-world",
            description=plugin.description,
            name=plugin.name,
            version=plugin.version,
            type=PluginType.processing,
            entry_point=EntryPoint(href=url_for(f"{_BP}.ProcessView"), ui_href=url_for(f"{_BP}.MicroFrontend"), data_input=[], data_output=[]),
            tags=plugin.tags,
        )


_SAVE_HELP = (
    "Give the preset a name and the text hello-world should work on. Submitting saves it as a "
    "new plugin named after the preset; running that plugin runs **hello-world** with the text."
)


@PRESETS_BLP.route("/ui/")
class MicroFrontend(MethodView):
    """The form that saves a preset (GET: empty or prefilled from the query; POST: validate)."""

    example_inputs = {"presetName": "Greeting", "inputStr": "Say hello to the input."}

    @PRESETS_BLP.html_response(HTTPStatus.OK, description="Form of the presets plugin.")
    @PRESETS_BLP.arguments(PresetFormSchema(partial=True, unknown=EXCLUDE, validate_errors_as_result=True), location="query", required=False)
    @PRESETS_BLP.require_jwt("jwt", optional=True)
    def get(self, errors: dict[str, Any]) -> Response:
        return self.render(request.args, errors, False)

    @PRESETS_BLP.html_response(HTTPStatus.OK, description="Form of the presets plugin.")
    @PRESETS_BLP.arguments(PresetFormSchema(partial=True, unknown=EXCLUDE, validate_errors_as_result=True), location="form", required=False)
    @PRESETS_BLP.require_jwt("jwt", optional=True)
    def post(self, errors: dict[str, Any]) -> Response:
        return self.render(request.form, errors, not errors)

    def render(self, values: Any, errors: dict[str, Any], valid: bool) -> Response:
        example = url_for(f"{_BP}.MicroFrontend", **self.example_inputs)
        return render_form(PresetFormSchema(), values, errors, valid, url_for(f"{_BP}.ProcessView"), _SAVE_HELP, example)


@PRESETS_BLP.route("/process/")
class ProcessView(MethodView):
    """Save a preset; answers 303 to a task that is already finished and links the new plugin."""

    @PRESETS_BLP.arguments(PresetFormSchema(unknown=EXCLUDE), location="form")
    @PRESETS_BLP.response(HTTPStatus.SEE_OTHER)
    @PRESETS_BLP.alt_response(HTTPStatus.CONFLICT, description="A preset of that name exists.")
    @PRESETS_BLP.require_jwt("jwt", optional=True)
    def post(self, arguments: dict[str, Any]) -> Response:
        preset = _create(arguments)
        task = ProcessingTask(task_name=f"{owner_id()}.save-preset", parameters=dumps(arguments))
        task.task_status = TaskStatus.SUCCESS.value
        task.finished_at = datetime.now(timezone.utc)
        task.task_log = f'Saved the preset "{preset.title}" as the plugin {preset.href}'
        task.save()
        TaskLink(task, "plugin", preset.href)
        DB.session.commit()
        return redirect(url_for("tasks-api.TaskView", task_id=str(task.id)), HTTPStatus.SEE_OTHER)


@PRESETS_BLP.route("/presets/")
class PresetsView(MethodView):
    """The saved presets; POST (form fields as in the UI) saves one and answers 201."""

    @PRESETS_BLP.response(HTTPStatus.OK, PresetListSchema())
    @PRESETS_BLP.require_jwt("jwt", optional=True)
    def get(self) -> dict[str, Any]:
        return {"presets": [_entry(p) for p in list_presets(owner_id())]}

    @PRESETS_BLP.arguments(PresetFormSchema(unknown=EXCLUDE), location="form")
    @PRESETS_BLP.response(HTTPStatus.CREATED, PresetEntrySchema())
    @PRESETS_BLP.alt_response(HTTPStatus.CONFLICT, description="A preset of that name exists.")
    @PRESETS_BLP.require_jwt("jwt", optional=True)
    def post(self, arguments: dict[str, Any]) -> Any:
        preset = _create(arguments)
        return _entry(preset), {"Location": preset.href}
