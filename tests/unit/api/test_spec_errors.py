"""The OpenAPI document lists the error answers that no view decorator documents."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import ROOT


@pytest.fixture
def runner_config(runner_config: dict[str, Any]) -> dict[str, Any]:
    return {**runner_config, "PLUGIN_FOLDERS": [str(ROOT / "plugins")]}


def _operations(client: Any) -> list[tuple[str, str, dict[str, Any]]]:
    paths = client.get("/api-spec.json").get_json()["paths"]
    return [(path, method, op) for path, ops in paths.items() for method, op in ops.items() if method != "parameters"]


def test_operations_with_a_path_parameter_document_404(client: Any) -> None:
    # found by tests/fuzz/test_api_schemathesis.py: /tasks/abc/ and unknown ids answered undocumented 404s
    with_parameters = [(path, method, op) for path, method, op in _operations(client) if "{" in path]
    assert len(with_parameters) > 10
    for path, method, op in with_parameters:
        assert "404" in op["responses"], f"{method.upper()} {path}"


def test_operations_with_a_json_body_document_400(client: Any) -> None:
    json_bodies = [(p, m, op) for p, m, op in _operations(client) if "application/json" in op.get("requestBody", {}).get("content", {})]
    assert any(path == "/tasks/{task_id}/" for path, _, _ in json_bodies)
    for path, method, op in json_bodies:
        assert op["responses"]["400"] == {"$ref": "#/components/responses/BAD_REQUEST"}, f"{method.upper()} {path}"
    assert client.post("/tasks/1/", data="{", content_type="application/json").status_code == 400


def test_every_error_response_has_the_error_body(client: Any) -> None:
    error = {"$ref": "#/components/schemas/flask_smorest.error_handler.Error"}
    for path, method, op in _operations(client):
        for code, response in op["responses"].items():
            if code.startswith("4") and "$ref" not in response:
                assert response["content"]["application/json"]["schema"] == error, f"{method.upper()} {path} {code}"
    assert client.get("/api-spec.json").get_json()["paths"]["/tasks/{task_id}/"]["get"]["responses"]["404"]["description"] == "No task with this id."


def test_operations_that_check_a_token_document_401(client: Any) -> None:
    # found by tests/fuzz/test_api_schemathesis.py: a bad bearer token got an undocumented 401
    secured = [(p, m, op) for p, m, op in _operations(client) if op.get("security")]
    assert any(path.startswith("/plugins/hello-world@") for path, _, _ in secured)
    for path, method, op in secured:
        assert op["responses"]["401"] == {"$ref": "#/components/responses/UNAUTHORIZED"}, f"{method.upper()} {path}"
    response = client.get("/plugins/hello-world@v0-2-1/", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401 and response.get_json()["code"] == 401
