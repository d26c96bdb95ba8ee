# SPDX-License-Identifier: Apache-2.0
"""Endpoints of ridge-loss: metadata, forms, the two steps and the evaluation links."""

from __future__ import annotations

from http import HTTPStatus
from json import loads
from math import isfinite
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
from qhana_plugin_runner.db.models.tasks import ProcessingTask, TaskLink, TaskUpdateSubscription
from qhana_plugin_runner.requests import open_url
from qhana_plugin_runner.tasks import TASK_DETAILS_CHANGED, TASK_STEPS_CHANGED, save_task_result

from . import RIDGE_BLP, RidgeLoss

_B = RIDGE_BLP.name


class StartSchema(FrontendFormBaseSchema):
    alpha = ma.fields.Float(
        load_default=0.1,
        validate=ma.validate.Range(min=0),
        metadata={"label": "Alpha", "description": "Weight of the L2 penalty."},
    )


class PassDataSchema(FrontendFormBaseSchema):
    features = ma.fields.String(
        required=True,
        metadata={
            "label": "Features",
            "description": "URL of entity/vector JSON, or an inline JSON list of rows.",
            "input_type": "textarea",
        },
    )
    target = ma.fields.String(
        required=True,
        metadata={
            "label": "Target",
            "description": "URL of entity/vector JSON (one value each), or an inline JSON list.",
            "input_type": "textarea",
        },
    )


class WeightsSchema(ma.Schema):
    weights = ma.fields.List(ma.fields.Float(allow_nan=False), required=True)


class WeightCountSchema(ma.Schema):
    weights = ma.fields.Integer(required=True, metadata={"description": "How many weights."})


class LossSchema(ma.Schema):
    loss = ma.fields.Float(required=True)


class GradientSchema(ma.Schema):
    gradient = ma.fields.List(ma.fields.Float(), required=True)


class LossAndGradientSchema(LossSchema, GradientSchema):
    pass


_NOT_OPEN = "The step this endpoint belongs to is not open."


def _rows(value: str) -> list[list[float]]:
    """Inline JSON or a URL answering JSON; entities (dicts) keep their non-ID/href values in order.

    Raises:
        ValueError: the data cannot be read or is not a list of rows of finite numbers.
    """
    from requests import RequestException  # here: the app starts without requests

    try:
        if value.lstrip().startswith("["):
            data = loads(value)
        else:
            with open_url(value) as response:
                data = response.json()
    except RecursionError:
        raise ValueError("is nested too deeply") from None
    except RequestException as err:  # before ValueError: requests' JSONDecodeError is both
        raise ValueError(f"could not be read: {err}") from None
    except ValueError as err:
        raise ValueError(f"is not valid JSON: {err}") from None
    if not isinstance(data, list):
        raise ValueError("must be a JSON list")
    rows = [
        [v for k, v in e.items() if k not in ("ID", "href")] if isinstance(e, dict) else e
        for e in data
    ]
    return [[_finite(x) for x in (r if isinstance(r, list) else [r])] for r in rows]


def _finite(value: Any) -> float:
    try:
        number = float(value) if isinstance(value, (int, float)) else None
    except OverflowError:  # an integer beyond float range
        number = None
    if number is None or not isfinite(number):
        raise ValueError("must hold finite numbers only")
    return number


def _form(schema: ma.Schema, values: Any, process: str, help_text: str) -> Response:
    plugin = RidgeLoss.instance
    return Response(
        render_template(
            "simple_template.html",
            name=plugin.name,
            version=plugin.version,
            schema=schema,
            values=values,
            valid=False,
            errors={},
            process=process,
            help_text=help_text,
        )
    )


def _task(db_id: int) -> ProcessingTask:
    task = ProcessingTask.get_by_id(id_=db_id)
    if task is None or task.task_name != RidgeLoss.instance.identifier:
        abort(HTTPStatus.NOT_FOUND, message=f"No ridge-loss task with id {db_id}.")
    return task


def _open_step(db_id: int, step_id: str) -> ProcessingTask:
    task = _task(db_id)
    if (
        task.is_finished
        or not task.steps
        or task.steps[-1].cleared
        or task.steps[-1].step_id != step_id
    ):
        abort(HTTPStatus.CONFLICT, message=f"The step {step_id!r} is not open.")
    return task


def _announce(db_id: int, *signals: Any) -> None:
    for signal in signals:
        signal.send(current_app._get_current_object(), task_id=db_id)


@RIDGE_BLP.route("/")
class PluginsView(MethodView):
    """The plugin's metadata."""

    @RIDGE_BLP.response(HTTPStatus.OK, PluginMetadataSchema())
    @RIDGE_BLP.require_jwt("jwt", optional=True)
    def get(self) -> PluginMetadata:
        plugin = RidgeLoss.instance
        return PluginMetadata(
            title="Ridge Loss",
            description=plugin.description,
            name=plugin.name,
            version=plugin.version,
            type=PluginType.processing,
            tags=plugin.tags,
            entry_point=EntryPoint(
                href=url_for(f"{_B}.ProcessView"), ui_href=url_for(f"{_B}.MicroFrontend")
            ),
        )


@RIDGE_BLP.route("/ui/")
class MicroFrontend(MethodView):
    """The start form; a ``callback`` query parameter is handed on to the process endpoint."""

    @RIDGE_BLP.html_response(HTTPStatus.OK, description="Start form.")
    @RIDGE_BLP.require_jwt("jwt", optional=True)
    def get(self) -> Response:
        process = url_for(f"{_B}.ProcessView", callback=request.args.get("callback"))
        return _form(
            StartSchema(),
            request.args,
            process,
            "Choose the penalty weight; the data follows in the next step.",
        )


@RIDGE_BLP.route("/process/")
class ProcessView(MethodView):
    """Create the task, subscribe the caller's webhook and open ``pass_data``."""

    @RIDGE_BLP.arguments(StartSchema(unknown=EXCLUDE), location="form")
    @RIDGE_BLP.response(HTTPStatus.SEE_OTHER)
    @RIDGE_BLP.require_jwt("jwt", optional=True)
    def post(self, arguments: dict[str, Any]) -> Response:
        task = ProcessingTask(
            task_name=RidgeLoss.instance.identifier,
            multi_step=True,
            data={"alpha": arguments["alpha"]},
        )
        task.save(commit=True)
        task_url = url_for("tasks-api.TaskView", task_id=str(task.id), _external=True)
        callback = request.args.get("callback")
        if callback:
            TaskUpdateSubscription(
                task=task, webhook_href=callback, task_href=task_url, event_type=None
            )
        task.add_next_step(
            href=url_for(f"{_B}.PassDataView", db_id=task.id, _external=True),
            ui_href=url_for(f"{_B}.PassDataFrontend", db_id=task.id, _external=True),
            step_id="pass_data",
        )
        task.save(commit=True)
        _announce(task.id, TASK_STEPS_CHANGED)
        return redirect(task_url, HTTPStatus.SEE_OTHER)


@RIDGE_BLP.route("/<int:db_id>/pass-data-ui/")
class PassDataFrontend(MethodView):
    """Form of the ``pass_data`` step."""

    @RIDGE_BLP.html_response(HTTPStatus.OK, description="Data form.")
    @RIDGE_BLP.require_jwt("jwt", optional=True)
    def get(self, db_id: int) -> Response:
        return _form(
            PassDataSchema(),
            request.args,
            url_for(f"{_B}.PassDataView", db_id=db_id),
            "Features and targets, same entities in the same order.",
        )


@RIDGE_BLP.route("/<int:db_id>/pass-data/")
class PassDataView(MethodView):
    """Store the data, open ``evaluate`` and activate the evaluation links."""

    @RIDGE_BLP.arguments(PassDataSchema(unknown=EXCLUDE), location="form")
    @RIDGE_BLP.response(HTTPStatus.SEE_OTHER)
    @RIDGE_BLP.alt_response(HTTPStatus.CONFLICT, description=_NOT_OPEN)
    @RIDGE_BLP.require_jwt("jwt", optional=True)
    def post(self, arguments: dict[str, Any], db_id: int) -> Response:
        task = _open_step(db_id, "pass_data")
        rows = {}
        for field in ("features", "target"):
            try:
                rows[field] = _rows(arguments[field])
            except ValueError as err:
                abort(HTTPStatus.UNPROCESSABLE_ENTITY, errors={"form": {field: [f"{field} {err}"]}})
        features, target = rows["features"], rows["target"]
        if (
            not features
            or not features[0]
            or len(features) != len(target)
            or any(len(t) != 1 for t in target)
            or len({len(r) for r in features}) != 1
        ):
            abort(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                message="features must be equally long rows, one target value per row.",
            )
        task.data.update(features=features, target=[t[0] for t in target])
        task.clear_previous_step()
        for link_type, endpoint in (
            ("of-weights", "WeightsView"),
            ("of-evaluate", "EvaluateView"),
            ("of-evaluate-gradient", "GradientView"),
            ("of-evaluate-combined", "CombinedView"),
        ):
            TaskLink(
                task=task,
                type=link_type,
                href=url_for(f"{_B}.{endpoint}", db_id=db_id, _external=True),
            )
        task.add_next_step(
            href=url_for(f"{_B}.EvaluateStepView", db_id=db_id, _external=True),
            ui_href=url_for(f"{_B}.EvaluateStepView", db_id=db_id, _external=True),
            step_id="evaluate",
        )
        task.save(commit=True)
        _announce(db_id, TASK_STEPS_CHANGED, TASK_DETAILS_CHANGED)
        return redirect(
            url_for("tasks-api.TaskView", task_id=str(db_id), _external=True), HTTPStatus.SEE_OTHER
        )


@RIDGE_BLP.route("/<int:db_id>/evaluate-step/")
class EvaluateStepView(MethodView):
    """Complete the ``evaluate`` step (no inputs): the task finishes, the links go inactive."""

    @RIDGE_BLP.html_response(HTTPStatus.OK, description="Explains the step.")
    @RIDGE_BLP.require_jwt("jwt", optional=True)
    def get(self, db_id: int) -> Response:
        return _form(
            ma.Schema(),
            {},
            url_for(f"{_B}.EvaluateStepView", db_id=db_id),
            "The objective function is ready. Submit to end it.",
        )

    @RIDGE_BLP.response(HTTPStatus.SEE_OTHER)
    @RIDGE_BLP.alt_response(HTTPStatus.CONFLICT, description=_NOT_OPEN)
    @RIDGE_BLP.require_jwt("jwt", optional=True)
    def post(self, db_id: int) -> Response:
        task = _open_step(db_id, "evaluate")
        task.clear_previous_step()
        task.save(commit=True)
        _announce(db_id, TASK_STEPS_CHANGED)
        save_task_result.s("objective function closed", db_id=db_id).apply_async()
        return redirect(
            url_for("tasks-api.TaskView", task_id=str(db_id), _external=True), HTTPStatus.SEE_OTHER
        )


def _problem(db_id: int) -> tuple[Any, Any, float]:
    import numpy as np

    task = _open_step(db_id, "evaluate")
    return (
        np.asarray(task.data["features"], dtype=float),
        np.asarray(task.data["target"], dtype=float),
        float(task.data["alpha"]),
    )


def _loss_and_gradient(db_id: int, body: dict[str, Any]) -> tuple[float, list[float]]:
    import numpy as np

    x, y, alpha = _problem(db_id)
    w = np.asarray(body["weights"], dtype=float)
    if w.shape != (x.shape[1],):
        abort(
            HTTPStatus.UNPROCESSABLE_ENTITY, message=f"expected {x.shape[1]} weights, got {w.size}"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        residual = x @ w - y
        n = len(y)
        loss = float(residual @ residual / n + alpha * (w @ w))
        gradient = 2 * x.T @ residual / n + 2 * alpha * w
    if not (np.isfinite(loss) and np.isfinite(gradient).all()):  # JSON has no Infinity
        abort(HTTPStatus.UNPROCESSABLE_ENTITY, message="The loss overflows at these weights.")
    return loss, gradient.tolist()


@RIDGE_BLP.route("/<int:db_id>/weights/")
class WeightsView(MethodView):
    """``of-weights``: how many weights the function takes."""

    @RIDGE_BLP.response(HTTPStatus.OK, WeightCountSchema())
    @RIDGE_BLP.alt_response(HTTPStatus.CONFLICT, description=_NOT_OPEN)
    @RIDGE_BLP.require_jwt("jwt", optional=True)
    def get(self, db_id: int) -> dict[str, int]:
        return {"weights": _problem(db_id)[0].shape[1]}


@RIDGE_BLP.route("/<int:db_id>/evaluate/")
class EvaluateView(MethodView):
    """``of-evaluate``: the loss at the posted weights."""

    @RIDGE_BLP.arguments(WeightsSchema(unknown=EXCLUDE), location="json")
    @RIDGE_BLP.response(HTTPStatus.OK, LossSchema())
    @RIDGE_BLP.alt_response(HTTPStatus.CONFLICT, description=_NOT_OPEN)
    @RIDGE_BLP.require_jwt("jwt", optional=True)
    def post(self, body: dict[str, Any], db_id: int) -> dict[str, float]:
        return {"loss": _loss_and_gradient(db_id, body)[0]}


@RIDGE_BLP.route("/<int:db_id>/gradient/")
class GradientView(MethodView):
    """``of-evaluate-gradient``: the gradient (one entry per weight) at the posted weights."""

    @RIDGE_BLP.arguments(WeightsSchema(unknown=EXCLUDE), location="json")
    @RIDGE_BLP.response(HTTPStatus.OK, GradientSchema())
    @RIDGE_BLP.alt_response(HTTPStatus.CONFLICT, description=_NOT_OPEN)
    @RIDGE_BLP.require_jwt("jwt", optional=True)
    def post(self, body: dict[str, Any], db_id: int) -> dict[str, list[float]]:
        return {"gradient": _loss_and_gradient(db_id, body)[1]}


@RIDGE_BLP.route("/<int:db_id>/combined/")
class CombinedView(MethodView):
    """``of-evaluate-combined``: loss and gradient in one request."""

    @RIDGE_BLP.arguments(WeightsSchema(unknown=EXCLUDE), location="json")
    @RIDGE_BLP.response(HTTPStatus.OK, LossAndGradientSchema())
    @RIDGE_BLP.alt_response(HTTPStatus.CONFLICT, description=_NOT_OPEN)
    @RIDGE_BLP.require_jwt("jwt", optional=True)
    def post(self, body: dict[str, Any], db_id: int) -> dict[str, Any]:
        loss, gradient = _loss_and_gradient(db_id, body)
        return {"loss": loss, "gradient": gradient}
