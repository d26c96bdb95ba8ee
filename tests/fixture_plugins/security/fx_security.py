"""Fixture plugin of the security tests: script payloads in every string a plugin provides,
JWT-protected endpoints, a private and a password field, a task with a result and a temp file."""

import enum
import logging
from http import HTTPStatus
from json import dumps, loads

import marshmallow as ma
from flask import Response, redirect, render_template, request, url_for
from flask.views import MethodView

from qhana_plugin_runner.api import EnumField
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

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
BREAKOUT = '" onmouseover="alert(3)" x="'
JS_LINK = "[click](javascript:alert(4))"

BLP = SecurityBlueprint(plugin_identifier("fx-security", "1.0.0"), __name__, description=SCRIPT)
LOG = logging.getLogger("fx_security")


class FxSecurity(QHAnaPluginBase):
    name = "fx-security"
    version = "1.0.0"
    description = f"{SCRIPT} {IMG} {BREAKOUT}"
    tags = [SCRIPT, BREAKOUT]

    def get_api_blueprint(self):
        return BLP


class Choice(enum.Enum):
    plain = "plain"
    scripted = SCRIPT
    breakout = BREAKOUT


class Params(FrontendFormBaseSchema):
    text = ma.fields.String(
        required=True,
        metadata={"label": f"{SCRIPT}{BREAKOUT}", "description": f"{SCRIPT} {IMG} {JS_LINK} {BREAKOUT}"},
    )
    choice = EnumField(Choice, load_default=None, metadata={"label": IMG})
    raw_choice = ma.fields.String(
        load_default="ok", validate=ma.validate.OneOf([BREAKOUT, "ok"]), metadata={"label": "raw", "options": {BREAKOUT: SCRIPT, "ok": IMG}}
    )
    api_token = ma.fields.String(load_default="", metadata={"label": "API token", "private": True})
    password = ma.fields.String(load_default="", metadata={"label": "Password", "input_type": "password"})


@BLP.route("/")
class Meta(MethodView):
    @BLP.response(HTTPStatus.OK, PluginMetadataSchema())
    def get(self):
        return PluginMetadata(
            title=SCRIPT, description=FxSecurity.description, name=FxSecurity.name, version=FxSecurity.version,
            type=PluginType.processing,
            entry_point=EntryPoint(href=url_for(f"{BLP.name}.Process"), ui_href=url_for(f"{BLP.name}.Ui")),
            tags=FxSecurity.tags,
        )


@BLP.route("/ui/")
class Ui(MethodView):
    """Echoes the query (or form) back into the form, like every plugin's micro-frontend."""

    @BLP.html_response(HTTPStatus.OK)
    @BLP.arguments(Params(partial=True, unknown=ma.EXCLUDE, validate_errors_as_result=True), location="query", required=False)
    def get(self, errors):
        return self.render(request.args, errors)

    @BLP.html_response(HTTPStatus.OK)
    @BLP.arguments(Params(partial=True, unknown=ma.EXCLUDE, validate_errors_as_result=True), location="form", required=False)
    def post(self, errors):
        return self.render(request.form, errors)

    def render(self, values, errors):
        return Response(render_template(
            "simple_template.html", schema=Params(), values=values, errors=errors, valid=not errors,
            process=url_for(f"{BLP.name}.Process"), help_text=f"{SCRIPT} {IMG} {JS_LINK} {BREAKOUT}",
        ))


@BLP.route("/process/")
class Process(MethodView):
    @BLP.arguments(Params(unknown=ma.EXCLUDE), location="form")
    @BLP.response(HTTPStatus.SEE_OTHER)
    def post(self, arguments):
        LOG.info("starting with %s", Params().redact(arguments))
        task = ProcessingTask(task_name="fx-security", parameters=dumps({k: str(v) for k, v in arguments.items()}))
        task.save(commit=True)
        chain = work.s(db_id=task.id) | save_task_result.s(db_id=task.id)
        chain.link_error(save_task_error.s(db_id=task.id))
        chain.apply_async()
        return redirect(url_for("tasks-api.TaskView", task_id=task.id), HTTPStatus.SEE_OTHER)


@BLP.route("/protected/")
class Protected(MethodView):
    @BLP.response(HTTPStatus.OK)
    @BLP.require_jwt("jwt")
    def get(self):
        return {"ok": True}

    @BLP.arguments(Params(unknown=ma.EXCLUDE), location="form")
    @BLP.response(HTTPStatus.OK)
    @BLP.require_jwt("jwt")
    def post(self, arguments):
        return {"ok": True}


@CELERY.task(name=f"{FxSecurity.instance.identifier}.work", bind=True)
def work(self, db_id):
    params = loads(ProcessingTask.get_by_id(db_id).parameters)
    STORE.persist_task_temp_file(db_id, f"credentials: {params['api_token']}", "credentials.txt", "text/plain")
    STORE.persist_task_result(db_id, params["text"].upper(), "out.txt", "custom/text", "text/plain")
    return "done"
