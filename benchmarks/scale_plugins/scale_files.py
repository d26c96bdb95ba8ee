# SPDX-License-Identifier: Apache-2.0
"""scale-files: a benchmark plugin (loaded by ``benchmarks/scale.py`` through PLUGIN_FOLDERS)
that produces large result files through the storage API.

``POST ./process/`` with the form field ``sizeMb`` starts a task that writes a result file of
that many MiB in 1 MiB chunks (never holding the file in memory); with a multipart file field
``data`` the uploaded file is stored as the task's result by the API process instead.
"""

from __future__ import annotations

import io
import os
from http import HTTPStatus
from json import dumps, loads
from typing import Any

import marshmallow as ma
from flask import Response, redirect, request, url_for
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

_NAME = "scale-files"
__version__ = "v0.1.0"
_IDENTIFIER = plugin_identifier(_NAME, __version__)
_MIB = 1024 * 1024
DATA_TYPE = "custom/scale-bytes"

SCALE_BLP = SecurityBlueprint(_IDENTIFIER, __name__, description="Benchmark plugin: large result files.")


class ScaleFilesSchema(FrontendFormBaseSchema):
    size_mb = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0), metadata={"label": "Size in MiB"})


class ScaleFiles(QHAnaPluginBase):
    name = _NAME
    version = __version__
    description = "Writes (or stores an uploaded) large result file; for benchmarks/scale.py."
    tags = ["benchmark"]

    def get_api_blueprint(self) -> SecurityBlueprint:
        return SCALE_BLP

    def get_requirements(self) -> str:
        return ""


class PatternReader(io.RawIOBase):
    """``size`` bytes made of one random 1 MiB block repeated, read without holding them."""

    def __init__(self, size: int) -> None:
        self.remaining = size
        self.block = memoryview(os.urandom(_MIB))

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.remaining, _MIB)
        buffer[:count] = self.block[:count]
        self.remaining -= count
        return count


@SCALE_BLP.route("/")
class MetadataView(MethodView):
    @SCALE_BLP.response(HTTPStatus.OK, PluginMetadataSchema())
    def get(self) -> PluginMetadata:
        plugin = ScaleFiles.instance
        return PluginMetadata(
            title="Scale files",
            description=plugin.description,
            name=plugin.name,
            version=plugin.version,
            type=PluginType.processing,
            entry_point=EntryPoint(
                href=url_for(f"{SCALE_BLP.name}.ProcessView"),
                ui_href=url_for(f"{SCALE_BLP.name}.ProcessView"),
                data_input=[],
                data_output=[DataMetadata(data_type=DATA_TYPE, content_type=["application/octet-stream"], required=True)],
            ),
            tags=plugin.tags,
        )


@SCALE_BLP.route("/process/")
class ProcessView(MethodView):
    @SCALE_BLP.arguments(ScaleFilesSchema(unknown=EXCLUDE), location="form")
    @SCALE_BLP.response(HTTPStatus.SEE_OTHER)
    def post(self, arguments: dict[str, Any]) -> Response:
        db_task = ProcessingTask(task_name=write_file.name, parameters=dumps(arguments))
        db_task.save(commit=True)
        upload = request.files.get("data")
        if upload is not None:  # stored here, by the API process, as it arrived
            STORE.persist_task_result(db_task.id, upload.stream, upload.filename or "upload.bin", DATA_TYPE, "application/octet-stream")
        chain = write_file.s(db_id=db_task.id) | save_task_result.s(db_id=db_task.id)
        chain.link_error(save_task_error.s(db_id=db_task.id))
        chain.apply_async()
        return redirect(url_for("tasks-api.TaskView", task_id=str(db_task.id)), HTTPStatus.SEE_OTHER)


@CELERY.task(name=f"{ScaleFiles.instance.identifier}.write_file", bind=True)
def write_file(self: Any, db_id: int) -> str:
    task = ProcessingTask.get_by_id(db_id)
    if task is None:
        raise KeyError(f"no task {db_id}")
    size = int(loads(task.parameters or "{}").get("size_mb") or 0) * _MIB
    if size:
        STORE.persist_task_result(db_id, PatternReader(size), "bytes.bin", DATA_TYPE, "application/octet-stream")
    return f"wrote {size} bytes" if size else "stored the upload"
