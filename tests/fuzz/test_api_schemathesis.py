# SPDX-License-Identifier: Apache-2.0
"""Schemathesis against ``/api-spec.json``: the core endpoints and every bundled plugin's.

One app with all bundled plugins is built for the module (SQLite in a temporary folder, the
in-memory broker without a worker, so started tasks stay PENDING). Every operation is called
with generated valid input, invalid input, a bad bearer token where it takes one, and valid
input aimed at freshly seeded rows where its path names a task, file or preset. An answer
fails when it is a 5xx, when its status, content type, body or headers are not what the
OpenAPI document says, or when its JSON holds NaN or Infinity.

The run is deterministic (derandomized, no example database) and bounded:
``QHANA_FUZZ_EXAMPLES`` examples (default 25) per operation and kind of input. Raise it
locally to search harder, e.g. ``QHANA_FUZZ_EXAMPLES=200``.

Cases come from schemathesis' public ``APIOperation.as_strategy`` and run under Hypothesis,
one pytest subtest per operation and kind: ``schemathesis.pytest.from_fixture`` (needed for
an app built by a fixture) does not run under pytest 9.2.

Nothing leaves the machine: inputs the plugins download (``open_url``) are rewritten to a
closed local port, and webhook calls are recorded instead of sent.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from qhana_plugin_runner.testing import build_app, dispose, make_test_config

from helpers import ROOT

EXAMPLES = int(os.environ.get("QHANA_FUZZ_EXAMPLES", "25"))

# one test walks every operation: its time limit grows with the examples asked for
pytestmark = [pytest.mark.slow, pytest.mark.timeout(max(300, 12 * EXAMPLES))]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_is_strict(ctx: Any, response: Any, case: Any) -> None:
    """A JSON answer holds no NaN or Infinity: Python writes them, JSON parsers refuse them."""
    content_type = ",".join(response.headers.get("content-type", []))
    if "json" in content_type and response.content:
        try:
            json.loads(response.content, parse_constant=_refuse_constant)
        except ValueError as err:
            raise AssertionError(f"The body is not strict JSON: {err}") from None


CHECKS = [
    json_is_strict,
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def _closed_port() -> int:
    """A local TCP port nobody listens on (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _RecordingPool:
    """Stands in for the webhook thread pool: records calls instead of sending them."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def submit(self, fn: Any, *args: Any, **kwargs: Any) -> Future[None]:
        self.calls.append(args[1:])
        future: Future[None] = Future()
        future.set_result(None)
        return future


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from qhana_plugin_runner.tasks import webhooks

    port = _closed_port()
    config = make_test_config(
        tmp_path_factory.mktemp("fuzz") / "instance",
        PLUGIN_FOLDERS=[str(ROOT / "plugins")],
        # every http(s)/ftp(s) input URL goes to a closed port: refused at once, never the network
        URL_REWRITE_RULES=[(r"^(?i:https?|ftps?)://[^/?#]*", f"http://127.0.0.1:{port}")],
        REQUEST_TIMEOUT=1,
        INTEROP_REQUEST_TIMEOUT=1,
        WEBHOOK_TIMEOUT=1,
    )
    app = build_app(config)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(webhooks, "_POOL", _RecordingPool())
        yield app
    dispose(app)


RIDGE, MINIMIZER = "/plugins/ridge-loss@v0-1-0/", "/plugins/scipy-minimizer@v0-1-0/"
MULTI, PRESETS = "/plugins/hello-world-multi-step@v0-2-1/", "/plugins/presets@v0-1-0/"
OPTIMIZATION = "/plugins/optimization@v0-1-0/"


def _started(response: Any) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def _seed(app: Any) -> dict[str, list[Any]]:
    """Fresh rows in the states the handlers look for, by the path parameter that names them.

    A ridge-loss task waiting in ``pass_data`` and one in ``evaluate``, a scipy-minimizer task
    in ``minimize``, a hello-world-multi-step task at its demo step, a running optimization, a
    finished task with a file, and a preset. Generated ids alone would almost only meet 404s;
    fuzzing changes these rows (it closes steps, deletes presets), so each operation gets its own.
    """
    from qhana_plugin_runner.db.models.tasks import ProcessingTask, TaskFile, TaskStatus, utc_now
    from qhana_plugin_runner.storage import STORE

    client = app.test_client()
    tasks = [_started(client.post(RIDGE + "process/", data={"alpha": "0.5"}))]
    evaluating = _started(client.post(RIDGE + "process/", data={"alpha": "0.5"}))
    step = f"{RIDGE}{evaluating}/pass-data/"
    _started(client.post(step, data={"features": "[[1, 2], [3, 4]]", "target": "[1, 2]"}))
    tasks.append(evaluating)
    tasks.append(_started(client.post(MINIMIZER + "process/", data={"method": ""})))
    plugins = {"objectiveFunctionUrl": "http://localhost" + RIDGE, "minimizerUrl": "http://localhost" + MINIMIZER}
    tasks.append(_started(client.post(OPTIMIZATION + "process/", data={**plugins, "features": "[[1]]", "target": "[1]"})))
    multi_step = _started(client.post(MULTI + "process/", data={"inputStr": "input"}))
    tasks.append(multi_step)
    preset = client.post(PRESETS + "presets/", data={"presetName": f"Preset {multi_step}", "inputStr": "input"})
    assert preset.status_code == 201, preset.get_data(as_text=True)
    with app.app_context():
        task = ProcessingTask.get_by_id(multi_step)
        task.add_next_step(
            href=f"http://localhost{MULTI}{multi_step}/demo-step-process/",
            ui_href=f"http://localhost{MULTI}{multi_step}/demo-step-ui/",
            step_id="demo-step",
            commit=True,
        )
        done = ProcessingTask(task_name="fuzz-finished", task_status=TaskStatus.SUCCESS.value, finished_at=utc_now())
        done.save(commit=True)
        STORE.persist_task_result(done.id, "output text", "out.txt", "text/plain", "text/plain")
        files = [f.id for f in TaskFile.get_task_result_files(done)]
    tasks.append(done.id)
    return {"db_id": tasks, "task_id": tasks, "file_id": files, "preset_id": [preset.get_json()["presetId"]]}


@pytest.fixture(scope="module")
def api_schema(fuzz_app: Any) -> Any:
    """The served OpenAPI document, held to the status codes it lists.

    flask-smorest adds a ``default`` error response to every operation, which would let any
    status pass; it is removed here, so every status an operation answers must be documented.
    """
    document = fuzz_app.test_client().get("/api-spec.json").get_json()
    for operations in document["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].pop("default", None)
    schema = schemathesis.openapi.from_dict(document, config=schemathesis.Config())
    schema.app = fuzz_app  # call the app in-process, as from_wsgi would
    return schema


def _operations(api_schema: Any) -> list[Any]:
    # The event stream holds the connection open until its task finishes (it has its own
    # tests in tests/integration/test_task_events.py); every other operation is fuzzed,
    # process endpoints included.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    return [op for op in operations if not (op.method == "get" and op.path.endswith("/events"))]


SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def _strategies(operation: Any, app: Any) -> dict[str, st.SearchStrategy[Any]]:
    """Valid and invalid input; a bad bearer token where the operation takes one; and valid
    input for fresh seeded rows when the path names one."""
    strategies = {
        "positive": operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        "negative": operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    }
    if operation.definition.raw.get("security"):
        strategies["bad token"] = operation.as_strategy(headers={"Authorization": "Bearer not-a-token"})
    names = {p.name for p in operation.path_parameters}
    seeded = _seed(app) if names else {}
    for name in sorted(names & set(seeded)):
        strategies[f"seeded {name}"] = st.sampled_from(seeded[name]).flatmap(
            lambda value, name=name: operation.as_strategy(path_parameters={name: value})
        )
    return strategies


def _fuzz(strategy: st.SearchStrategy[Any], negative: bool) -> None:
    @SETTINGS
    @given(case=strategy)
    def call(case: Any) -> None:
        case.call_and_validate(checks=CHECKS)

    try:
        call()
    except Unsatisfiable:
        if not negative:
            raise
        pytest.skip("the operation has no input that can be made invalid")


def test_api_answers_as_documented(fuzz_app: Any, api_schema: Any, subtests: Any) -> None:
    operations = _operations(api_schema)
    assert len(operations) > 40, "the bundled plugins' endpoints are missing from the spec"
    for operation in operations:
        for kind, strategy in _strategies(operation, fuzz_app).items():
            with subtests.test(msg=f"{operation.label} [{kind}]"):
                _fuzz(strategy, negative=kind == "negative")
