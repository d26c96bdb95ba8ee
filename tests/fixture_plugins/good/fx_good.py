"""A good fixture plugin: metadata, a form, a task that succeeds or fails on request."""

from http import HTTPStatus
from json import dumps, loads

import marshmallow as ma
from flask import redirect, url_for
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

BLP = SecurityBlueprint(plugin_identifier("fx-good", "1.0.0"), __name__)


class FxGood(QHAnaPluginBase):
    name = "fx-good"
    version = "1.0.0"
    description = "fixture"
    tags = ["fixture"]

    def get_api_blueprint(self):
        return BLP


class Params(FrontendFormBaseSchema):
    mode = ma.fields.String(required=True, validate=ma.validate.OneOf(["ok", "fail", "binary"]))
    count = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=0, max=10))


@BLP.route("/")
class Meta(MethodView):
    @BLP.response(HTTPStatus.OK, PluginMetadataSchema())
    def get(self):
        return PluginMetadata(
            title="Fixture", description="fixture", name=FxGood.name, version=FxGood.version,
            type=PluginType.processing,
            entry_point=EntryPoint(href=url_for(f"{BLP.name}.Process"), ui_href=url_for(f"{BLP.name}.Process")),
            tags=FxGood.tags,
        )


@BLP.route("/process/")
class Process(MethodView):
    @BLP.arguments(Params(unknown=ma.EXCLUDE), location="form")
    @BLP.response(HTTPStatus.SEE_OTHER)
    def post(self, arguments):
        task = ProcessingTask(task_name="fx-good", parameters=dumps(arguments))
        task.save(commit=True)
        chain = work.s(db_id=task.id) | save_task_result.s(db_id=task.id)
        chain.link_error(save_task_error.s(db_id=task.id))
        chain.apply_async()
        return redirect(url_for("tasks-api.TaskView", task_id=task.id), HTTPStatus.SEE_OTHER)


@CELERY.task(name=f"{FxGood.instance.identifier}.work", bind=True)
def work(self, db_id):
    task = ProcessingTask.get_by_id(db_id)
    params = loads(task.parameters)
    if params["mode"] == "fail":
        raise RuntimeError("fixture failure as requested")
    for i in range(params.get("count", 1)):
        if params["mode"] == "binary":
            STORE.persist_task_result(db_id, bytes(range(256)), "data.bin", "custom/bytes", "application/octet-stream")
        else:
            STORE.persist_task_result(db_id, f"line {i}\n", "out.txt", "custom/text", "text/plain")
    return "done"
