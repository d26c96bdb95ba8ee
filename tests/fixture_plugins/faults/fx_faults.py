"""A plugin for the fault tests: its task sleeps, writes one output file, and sleeps again.
Each run appends ``<task id> <process id> start``, ``... wrote`` once the file is stored and
``... done`` at its end to ``fx_faults_runs.log`` in the instance folder.

``before`` and ``after`` (seconds) place the write inside the task's run time, so a worker
killed while the task runs may die before or after the output exists.
"""

import os
import time
from http import HTTPStatus
from json import dumps, loads
from pathlib import Path

import marshmallow as ma
from flask import current_app, redirect, url_for
from flask.views import MethodView

from qhana_plugin_runner.api.plugin_schemas import (
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

BLP = SecurityBlueprint(plugin_identifier("fx-faults", "1.0.0"), __name__)


class FxFaults(QHAnaPluginBase):
    name = "fx-faults"
    version = "1.0.0"
    description = "fixture for the fault tests"
    tags = ["fixture"]

    def get_api_blueprint(self):
        return BLP


class Params(FrontendFormBaseSchema):
    text = ma.fields.String(required=True)
    before = ma.fields.Float(load_default=0.0, validate=ma.validate.Range(min=0, max=60))
    after = ma.fields.Float(load_default=0.0, validate=ma.validate.Range(min=0, max=60))


@BLP.route("/")
class Meta(MethodView):
    @BLP.response(HTTPStatus.OK, PluginMetadataSchema())
    def get(self):
        return PluginMetadata(
            title="Faults fixture", description=FxFaults.description, name=FxFaults.name, version=FxFaults.version,
            type=PluginType.processing,
            entry_point=EntryPoint(href=url_for(f"{BLP.name}.Process"), ui_href=url_for(f"{BLP.name}.Process")),
            tags=FxFaults.tags,
        )


@BLP.route("/process/")
class Process(MethodView):
    @BLP.arguments(Params(unknown=ma.EXCLUDE), location="form")
    @BLP.response(HTTPStatus.SEE_OTHER)
    def post(self, arguments):
        task = ProcessingTask(task_name="fx-faults", parameters=dumps(arguments))
        task.save(commit=True)
        # a Celery task id that names the task, so worker logs can be read against the test
        chain = slow_write.s(db_id=task.id).set(task_id=f"fx-faults-{task.id}") | save_task_result.s(db_id=task.id)
        chain.link_error(save_task_error.s(db_id=task.id))
        chain.apply_async()
        return redirect(url_for("tasks-api.TaskView", task_id=task.id), HTTPStatus.SEE_OTHER)


@CELERY.task(name=f"{FxFaults.instance.identifier}.slow_write", bind=True)
def slow_write(self, db_id):
    params = loads(ProcessingTask.get_by_id(db_id).parameters)
    _note(db_id, "start")
    time.sleep(params["before"])
    STORE.persist_task_result(db_id, params["text"], "out.txt", "custom/text", "text/plain")
    _note(db_id, "wrote")
    time.sleep(params["after"])
    _note(db_id, "done")
    return "written"


def _note(db_id, event):
    """One line per run and event, so a test can tell how often a task ran, where, and how far."""
    with (Path(current_app.instance_path) / "fx_faults_runs.log").open("a") as runs:
        runs.write(f"{db_id} {os.getpid()} {event}\n")
