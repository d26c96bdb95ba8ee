# SPDX-License-Identifier: Apache-2.0
"""The Celery task of scipy-minimizer: minimize an objective function reachable over HTTP."""

from __future__ import annotations

from json import dumps, loads
from tempfile import SpooledTemporaryFile
from typing import Any

from flask import current_app

from qhana_plugin_runner import requests as runner_requests
from qhana_plugin_runner.celery import CELERY
from qhana_plugin_runner.db.models.tasks import ProcessingTask
from qhana_plugin_runner.plugin_utils.interop import InteropError, get_task_result_no_wait
from qhana_plugin_runner.requests import open_url, rewrite_url
from qhana_plugin_runner.storage import STORE

from . import ScipyMinimizer

#: scipy methods that warn when handed a gradient.
_GRADIENT_FREE = frozenset({"nelder-mead", "powell", "cobyla", "cobyqa"})


def _timeout() -> float:
    return float(current_app.config.get("INTEROP_REQUEST_TIMEOUT") or 10)


def _post(url: str, weights: Any) -> dict[str, Any]:
    with runner_requests.REQUEST_SESSION.post(  # made on first use, not at import
        rewrite_url(url), json={"weights": weights.tolist()}, timeout=_timeout()
    ) as response:
        response.raise_for_status()
        return response.json()


def _initial(value: str | None, size: int) -> list[float]:
    if not value:
        return [0.0] * size
    if value.lstrip().startswith("["):
        data = loads(value)
    else:
        with open_url(value, timeout=_timeout()) as response:
            data = response.json()
    if data and isinstance(data[0], dict):  # entity/vector: one entity
        data = [v for k, v in data[0].items() if k not in ("ID", "href")]
    if len(data) != size:
        raise ValueError(f"{len(data)} initial weights given, the objective function takes {size}")
    return [float(v) for v in data]


@CELERY.task(name=f"{ScipyMinimizer.instance.identifier}.minimize", bind=True)
def minimize_task(self: Any, db_id: int) -> str:
    """Run the minimization; returns a log line for ``save_task_result``."""
    import numpy as np
    from scipy.optimize import minimize

    task = ProcessingTask.get_by_id(id_=db_id)
    if task is None:
        raise KeyError(f"no task with id {db_id}")
    params = loads(task.parameters or "{}")
    _, objective = get_task_result_no_wait(params["objective_function"])
    links = {link.get("type"): link.get("href") for link in objective.get("links") or []}
    if "of-evaluate" not in links or "of-weights" not in links:
        raise InteropError(
            f"{params['objective_function']} offers no of-evaluate/of-weights link (not in its evaluate step?)"
        )
    with open_url(links["of-weights"], timeout=_timeout()) as response:
        size = int(response.json()["weights"])
    x0 = np.asarray(_initial(params.get("initial_weights"), size), dtype=float)

    def loss(w: Any) -> float:
        return float(_post(links["of-evaluate"], w)["loss"])

    def gradient(w: Any) -> Any:
        return np.asarray(_post(links["of-evaluate-gradient"], w)["gradient"], dtype=float).reshape(
            -1
        )

    has_gradient = "of-evaluate-gradient" in links
    method = params.get("method") or ("BFGS" if has_gradient else "Nelder-Mead")
    use_gradient = has_gradient and method.lower() not in _GRADIENT_FREE
    result = minimize(
        loss,
        x0,
        jac=gradient if use_gradient else None,
        method=method,
        tol=params.get("tol") or 1e-10,
    )
    entity = {"ID": "weights", "href": "", **{f"w{i}": float(v) for i, v in enumerate(result.x)}}
    with SpooledTemporaryFile(mode="w") as output:
        output.write(dumps([entity]))
        STORE.persist_task_result(
            db_id, output, "weights.json", "entity/vector", "application/json"
        )
    return (
        f"{method}: {result.message} (loss {float(result.fun):.6g} after {result.nit} iterations)"
    )
