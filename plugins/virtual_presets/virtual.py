# SPDX-License-Identifier: Apache-2.0
"""Endpoints of each preset's virtual plugin, under ``presets/<preset-id>/``: metadata, removal,
hello-world's form prefilled with the preset, and a processing endpoint that runs hello-world.

Removal deletes the rows first, so the href answers 404 before ``VIRTUAL_PLUGIN_REMOVED`` is
sent (the registry deletes a plugin only when its URL answers 404).
"""

from __future__ import annotations

from http import HTTPStatus
from json import dumps
from typing import Any

from flask import Response, current_app, redirect, request, url_for
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
from qhana_plugin_runner.api.util import camelcase
from qhana_plugin_runner.celery import CELERY
from qhana_plugin_runner.db.models.tasks import ProcessingTask
from qhana_plugin_runner.db.models.virtual_plugins import VIRTUAL_PLUGIN_REMOVED
from qhana_plugin_runner.tasks import save_task_error, save_task_result
from qhana_plugin_runner.util.plugins import QHAnaPluginBase

from . import PRESETS_BLP
from .routes import owner_id, render_form
from .schemas import PresetInputSchema, PresetRunSchema
from .store import VIRTUAL_TAGS, Preset, delete_preset, load_preset

HELLO_WORLD = "hello-world"
_BP = PRESETS_BLP.name
_OUTPUT = DataMetadata(data_type="custom/hello-world-output", content_type=["text/plain"], required=True)


def _remove(preset_id: str) -> None:
    """Delete the preset (its href answers 404 from now on), then announce the removal."""
    href = delete_preset(owner_id(), preset_id)
    if href is None:
        abort(HTTPStatus.NOT_FOUND, message="No preset with that id.")
    VIRTUAL_PLUGIN_REMOVED.send(current_app._get_current_object(), plugin_url=href)


def _load_or_404(preset_id: str) -> Preset:
    preset = load_preset(owner_id(), preset_id)
    if preset is None:
        abort(HTTPStatus.NOT_FOUND, message="No preset with that id.")
    return preset


@PRESETS_BLP.route("/presets/<string:preset_id>/")
class PresetView(MethodView):
    """A preset's virtual plugin: its metadata (GET) and its removal (DELETE)."""

    @PRESETS_BLP.response(HTTPStatus.OK, PluginMetadataSchema())
    @PRESETS_BLP.alt_response(HTTPStatus.NOT_FOUND, description="No such preset (any more).")
    @PRESETS_BLP.require_jwt("jwt", optional=True)
    def get(self, preset_id: str) -> PluginMetadata:
        preset = _load_or_404(preset_id)
        return PluginMetadata(
            title=preset.title,
            description=preset.plugin_description,
            name=preset.plugin_name,
            version=preset.version,
            type=PluginType.processing,
            entry_point=EntryPoint(
                href=url_for(f"{_BP}.PresetProcessView", preset_id=preset_id),
                ui_href=url_for(f"{_BP}.PresetMicroFrontend", preset_id=preset_id),
                data_input=[],
                data_output=[_OUTPUT],
            ),
            tags=list(VIRTUAL_TAGS),
        )

    @PRESETS_BLP.response(HTTPStatus.NO_CONTENT)
    @PRESETS_BLP.alt_response(HTTPStatus.NOT_FOUND, description="No such preset.")
    @PRESETS_BLP.require_jwt("jwt", optional=True)
    def delete(self, preset_id: str) -> None:
        _remove(preset_id)


@PRESETS_BLP.route("/presets/<string:preset_id>/remove/")
class PresetRemoveView(MethodView):
    """Remove a preset with a plain form POST (for pages that cannot send DELETE)."""

    @PRESETS_BLP.response(HTTPStatus.NO_CONTENT)
    @PRESETS_BLP.alt_response(HTTPStatus.NOT_FOUND, description="No such preset.")
    @PRESETS_BLP.require_jwt("jwt", optional=True)
    def post(self, preset_id: str) -> None:
        _remove(preset_id)


_RUN_HELP = "This is **hello-world** with the text of a preset filled in. Change it or submit it as it is."


@PRESETS_BLP.route("/presets/<string:preset_id>/ui/")
class PresetMicroFrontend(MethodView):
    """hello-world's form, prefilled with the preset (values in the query or form win)."""

    @PRESETS_BLP.html_response(HTTPStatus.OK, description="Form of a preset.")
    @PRESETS_BLP.arguments(PresetInputSchema(partial=True, unknown=EXCLUDE, validate_errors_as_result=True), location="query", required=False)
    @PRESETS_BLP.require_jwt("jwt", optional=True)
    def get(self, errors: dict[str, Any], preset_id: str) -> Response:
        return self.render(preset_id, request.args, errors, False)

    @PRESETS_BLP.html_response(HTTPStatus.OK, description="Form of a preset.")
    @PRESETS_BLP.arguments(PresetInputSchema(partial=True, unknown=EXCLUDE, validate_errors_as_result=True), location="form", required=False)
    @PRESETS_BLP.require_jwt("jwt", optional=True)
    def post(self, errors: dict[str, Any], preset_id: str) -> Response:
        return self.render(preset_id, request.form, errors, not errors)

    def render(self, preset_id: str, given: Any, errors: dict[str, Any], valid: bool) -> Response:
        preset = _load_or_404(preset_id)
        values = {camelcase(key): value for key, value in preset.values.items()}
        values.update({key: value for key, value in given.items() if value})
        process = url_for(f"{_BP}.PresetProcessView", preset_id=preset_id)
        return render_form(PresetInputSchema(), values, errors, valid, process, _RUN_HELP)


def _hello_world_task() -> str | None:
    """Wire name of the newest loaded hello-world's task (its name is hello-world's contract)."""
    found = [p for p in QHAnaPluginBase.get_plugins().values() if p.name == HELLO_WORLD]
    if not found:
        return None
    return f"{max(found, key=lambda p: p.parsed_version).identifier}.demo_task"


@PRESETS_BLP.route("/presets/<string:preset_id>/process/")
class PresetProcessView(MethodView):
    """Run hello-world with the preset's values (fields sent with the request replace them)."""

    @PRESETS_BLP.arguments(PresetRunSchema(unknown=EXCLUDE), location="form", required=False)
    @PRESETS_BLP.response(HTTPStatus.SEE_OTHER)
    @PRESETS_BLP.alt_response(HTTPStatus.NOT_FOUND, description="No such preset.")
    @PRESETS_BLP.alt_response(HTTPStatus.SERVICE_UNAVAILABLE, description="hello-world is not loaded.")
    @PRESETS_BLP.require_jwt("jwt", optional=True)
    def post(self, arguments: dict[str, Any], preset_id: str) -> Response:
        preset = _load_or_404(preset_id)
        task_name = _hello_world_task()
        if task_name is None:
            abort(HTTPStatus.SERVICE_UNAVAILABLE, message="hello-world is not loaded on this runner, so presets cannot run.")
        values = {**preset.values, **{k: v for k, v in (arguments or {}).items() if v}}
        db_task = ProcessingTask(task_name=task_name, parameters=dumps(values))
        db_task.save(commit=True)
        chain = CELERY.signature(task_name, kwargs={"db_id": db_task.id}) | save_task_result.s(db_id=db_task.id)
        chain.link_error(save_task_error.s(db_id=db_task.id))
        chain.apply_async()
        return redirect(url_for("tasks-api.TaskView", task_id=str(db_task.id)), HTTPStatus.SEE_OTHER)
